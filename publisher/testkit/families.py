"""Tiny real models of every family publisher has a profile for, built with transformers.

Each keeps its family's real structure (MLA, dense-then-MoE stacks, shared experts, fused
experts, sliding/full attention, Mamba-2 hybrids, a vision tower) at tiny widths, so the
module names are the real ones and ModelOpt exports one on the CPU in seconds.
torch/transformers are imported lazily.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple


class Family(NamedTuple):
    config_class: str
    model_class: str
    kwargs: dict[str, Any]
    text_kwargs: dict[str, Any] | None = None  # composite configs: the text_config part
    vision_kwargs: dict[str, Any] | None = None


_COMMON: dict[str, Any] = {
    "vocab_size": 512,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
    "tie_word_embeddings": False,
}
_MOE: dict[str, Any] = {
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 32,
}
_MLA: dict[str, Any] = {
    "num_key_value_heads": 4,  # MLA: one key/value head per query head, as released
    "q_lora_rank": 32,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 16,
    "qk_rope_head_dim": 8,
    "v_head_dim": 16,
}

FAMILIES: dict[str, Family] = {
    "llama": Family(
        "LlamaConfig",
        "LlamaForCausalLM",
        {**_COMMON, "intermediate_size": 128, "num_hidden_layers": 4},
    ),
    "mistral": Family(
        "MistralConfig",
        "MistralForCausalLM",
        {**_COMMON, "intermediate_size": 128, "num_hidden_layers": 4, "head_dim": 16},
    ),
    "qwen3": Family(
        "Qwen3Config",
        "Qwen3ForCausalLM",
        {**_COMMON, "intermediate_size": 128, "num_hidden_layers": 4, "head_dim": 16},
    ),
    "qwen3_moe": Family(
        "Qwen3MoeConfig",
        "Qwen3MoeForCausalLM",
        {
            **_COMMON,
            **_MOE,
            "intermediate_size": 128,
            "num_hidden_layers": 4,
            "head_dim": 16,
            "num_experts": 4,
            "mlp_only_layers": [0],
        },
    ),
    "deepseek_v3": Family(
        "DeepseekV3Config",
        "DeepseekV3ForCausalLM",
        {
            **_COMMON,
            **_MOE,
            **_MLA,
            "intermediate_size": 128,
            "num_hidden_layers": 4,
            "n_routed_experts": 4,
            "n_shared_experts": 1,
            "first_k_dense_replace": 1,
            "n_group": 2,
            "topk_group": 1,
        },
    ),
    "glm4_moe": Family(
        "Glm4MoeConfig",
        "Glm4MoeForCausalLM",
        {
            **_COMMON,
            **_MOE,
            "intermediate_size": 128,
            "num_hidden_layers": 4,
            "head_dim": 16,
            "n_routed_experts": 4,
            "n_shared_experts": 1,
            "first_k_dense_replace": 1,
            "n_group": 1,
            "topk_group": 1,
            "attention_bias": True,
            "use_qk_norm": True,
            "partial_rotary_factor": 0.5,
        },
    ),
    "glm_moe_dsa": Family(
        "GlmMoeDsaConfig",
        "GlmMoeDsaForCausalLM",
        {
            **_COMMON,
            **_MOE,
            **_MLA,
            "intermediate_size": 128,
            "num_hidden_layers": 4,
            "n_routed_experts": 4,
            "n_shared_experts": 1,
            "first_k_dense_replace": 1,
            "n_group": 1,
            "topk_group": 1,
            "index_n_heads": 2,
            "index_head_dim": 16,
            "index_topk": 8,
            "indexer_types": ["full", "shared", "full", "shared"],
        },
    ),
    "gpt_oss": Family(
        "GptOssConfig",
        "GptOssForCausalLM",
        {
            **_COMMON,
            "intermediate_size": 32,
            "num_hidden_layers": 4,
            "head_dim": 16,
            "num_local_experts": 4,
            "num_experts_per_tok": 2,
            "sliding_window": 16,
        },
    ),
    "nemotron_h": Family(
        "NemotronHConfig",
        "NemotronHForCausalLM",
        {
            **_COMMON,
            **_MOE,
            "intermediate_size": 128,
            "num_hidden_layers": 6,
            "hybrid_override_pattern": "M-M*EM",
            "head_dim": 16,
            "n_routed_experts": 4,
            "moe_shared_expert_intermediate_size": 32,
            "mamba_num_heads": 4,
            "mamba_head_dim": 16,
            "n_groups": 2,
            "ssm_state_size": 16,
        },
    ),
    "gemma3": Family(
        "Gemma3Config",
        "Gemma3ForConditionalGeneration",
        {"mm_tokens_per_image": 4},
        text_kwargs={
            "vocab_size": 512,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "num_hidden_layers": 6,
            "sliding_window": 16,
            "sliding_window_pattern": 3,
            "max_position_embeddings": 256,
        },
        vision_kwargs={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
            "vision_use_head": False,
        },
    ),
}


def family_names() -> list[str]:
    return list(FAMILIES)


def tiny_family_config(family: str, **overrides: Any) -> Any:
    """The tiny transformers config of `family` (overrides go to the text part)."""
    import transformers as tf

    spec = FAMILIES[family]
    config_class = getattr(tf, spec.config_class)
    if spec.text_kwargs is not None:
        config = config_class(
            text_config={**spec.text_kwargs, **overrides},
            vision_config=dict(spec.vision_kwargs or {}),
            **spec.kwargs,
        )
    else:
        config = config_class(**{**spec.kwargs, **overrides})
    config.architectures = [spec.model_class]
    return config


def build_family_model(family: str, *, seed: int = 0, **overrides: Any) -> Any:
    """A tiny `family` model with seeded random weights in bfloat16."""
    import torch
    import transformers as tf

    config = tiny_family_config(family, **overrides)
    torch.manual_seed(seed)
    model = getattr(tf, FAMILIES[family].model_class)(config).to(torch.bfloat16).eval()
    model.config.architectures = [type(model).__name__]
    return model


def save_family_checkpoint(family: str, out_dir: str | os.PathLike[str], **overrides: Any) -> Path:
    """save_pretrained a tiny `family` model (bfloat16 safetensors) into `out_dir`."""
    out = Path(out_dir)
    build_family_model(family, **overrides).save_pretrained(out)
    return out


def export_family(
    family: str,
    export_dir: str | os.PathLike[str],
    qformat: str = "nvfp4",
    *,
    repair_excludes: bool = True,
    **overrides: Any,
) -> Path:
    """A genuine ModelOpt export of the tiny `family` model (quantize on the CPU, export).

    With transformers 5.24, ModelOpt 0.47 writes Nemotron-H's exclude list as
    'lm_head.<NUL>backbone.pt_name_sentinel' (a name-mangling sentinel left in): loaders
    then match nothing and expect lm_head quantized, and publisher validate says so (VAL010).
    `repair_excludes` cuts the sentinel off, giving what a fixed ModelOpt writes.
    """
    from publisher.testkit.modelopt_export import (
        calibration_batches,
        export_checkpoint,
        quantize_model,
    )

    model = build_family_model(family, **overrides)
    vocab = model.config.get_text_config().vocab_size
    quantize_model(model, qformat, batches=calibration_batches(vocab))
    out = export_checkpoint(model, export_dir)
    if repair_excludes:
        repair_sentinel_excludes(out)
    return out


def repair_sentinel_excludes(folder: Path) -> bool:
    """Cut NUL-sentinel tails off exclude entries in both quantization configs."""
    import json

    changed = False

    def clean(names: Any) -> Any:
        nonlocal changed
        if not isinstance(names, list):
            return names
        fixed = [n.split("\0", 1)[0].rstrip(".") if isinstance(n, str) else n for n in names]
        changed = changed or fixed != names
        return fixed

    hf_quant = folder / "hf_quant_config.json"
    if hf_quant.is_file():
        data = json.loads(hf_quant.read_text())
        section = data.get("quantization")
        if isinstance(section, dict) and "exclude_modules" in section:
            section["exclude_modules"] = clean(section["exclude_modules"])
            hf_quant.write_text(json.dumps(data, indent=4))
    config_file = folder / "config.json"
    config = json.loads(config_file.read_text())
    qc = config.get("quantization_config")
    if isinstance(qc, dict) and "ignore" in qc:
        qc["ignore"] = clean(qc["ignore"])
        config_file.write_text(json.dumps(config, indent=2))
    return changed


def cached_family_export(
    family: str,
    cache_dir: str | os.PathLike[str],
    qformat: str = "nvfp4",
    *,
    repair_excludes: bool = True,
    **overrides: Any,
) -> Path:
    """export_family, built once per (family, format, overrides, library versions)."""
    from importlib.metadata import version

    from publisher.testkit.tiny import cache_key, cached_dir

    raw = "" if repair_excludes else "-raw"
    key = cache_key(
        f"modelopt-{qformat}-{family}{raw}", modelopt=version("nvidia-modelopt"), **overrides
    )
    return cached_dir(
        cache_dir,
        key,
        lambda d: export_family(family, d, qformat, repair_excludes=repair_excludes, **overrides),
    )
