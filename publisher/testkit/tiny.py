"""Tiny real Qwen3.5 models (dense and MoE) built with transformers, plus full-size configs.

Tiny models keep the real layout (hybrid layers, full attention at 3, 7, 11, ...; vision
tower; MoE with a shared expert) with tiny widths. Full-size configs are only ever built on
the meta device, to learn tensor names and shapes. torch/transformers are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from publisher.checkpoint.formats import ModuleKind, Shape

if TYPE_CHECKING:
    from transformers import PreTrainedModel

Kind = Literal["dense", "moe"]

SYNTH_VERSION = "1"  # bump when anything below changes what gets built (cache key)

REAL_LAYERS: dict[Kind, int] = {"dense": 64, "moe": 40}
TINY_TEXT: dict[str, Any] = {
    "vocab_size": 512,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
    "linear_key_head_dim": 16,
    "linear_value_head_dim": 16,
    "max_position_embeddings": 256,
}
TINY_DENSE: dict[str, Any] = {"intermediate_size": 128}
TINY_MOE: dict[str, Any] = {
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32,
}
TINY_VISION: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_heads": 2,
    "num_position_embeddings": 64,
}
QWEN35_ROPE: dict[str, Any] = {
    "rope_type": "default",
    "rope_theta": 10_000_000,
    "partial_rotary_factor": 0.25,
    "mrope_section": [11, 11, 10],
    "mrope_interleaved": True,
}
QWEN35_VISION: dict[str, Any] = {
    "depth": 27,
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_heads": 16,
    "num_position_embeddings": 2304,
    "patch_size": 16,
    "temporal_patch_size": 2,
    "spatial_merge_size": 2,
}


class ModuleInfo(NamedTuple):
    """A module as saved: name on disk, kind, logical weight shape, bias presence.

    For kind "param" (A_log, dt_bias) `name` is the full tensor name.
    """

    name: str
    kind: ModuleKind
    weight_shape: Shape
    has_bias: bool


def _config_classes(kind: Kind) -> tuple[Any, Any]:
    """(config class, model class) for `kind`."""
    import transformers as tf

    if kind == "dense":
        return tf.Qwen3_5Config, tf.Qwen3_5ForConditionalGeneration
    if kind == "moe":
        return tf.Qwen3_5MoeConfig, tf.Qwen3_5MoeForConditionalGeneration
    raise ValueError(f"kind must be 'dense' or 'moe', got {kind!r}")


def make_config(kind: Kind, text: dict[str, Any], vision: dict[str, Any], tie: bool) -> Any:
    """A Qwen3_5Config / Qwen3_5MoeConfig from text and vision kwargs."""
    config_cls, model_cls = _config_classes(kind)
    text = {**text, "tie_word_embeddings": tie}
    vision = {"out_hidden_size": text["hidden_size"], **vision}
    config = config_cls(text_config=text, vision_config=vision, tie_word_embeddings=tie)
    config.architectures = [model_cls.__name__]
    return config


def tiny_config(
    kind: Kind = "dense",
    num_layers: int | None = None,
    vision_depth: int = 2,
    tie_embeddings: bool = False,
    num_experts: int = 4,
) -> Any:
    """Tiny config with the real layout: hidden 64, full attention every 4th layer.

    `num_layers` defaults to the real count (64 dense as the 27B, 40 MoE as the 35B-A3B).
    """
    layers = REAL_LAYERS[kind] if num_layers is None else num_layers
    text = {**TINY_TEXT, "num_hidden_layers": layers}
    text.update(TINY_DENSE if kind == "dense" else {**TINY_MOE, "num_experts": num_experts})
    return make_config(kind, text, {**TINY_VISION, "depth": vision_depth}, tie_embeddings)


def _full_text(**overrides: Any) -> dict[str, Any]:
    text = {
        "vocab_size": 248320,
        "head_dim": 256,
        "linear_key_head_dim": 128,
        "linear_value_head_dim": 128,
        "linear_conv_kernel_dim": 4,
        "max_position_embeddings": 262144,
        "rope_parameters": dict(QWEN35_ROPE),
        "eos_token_id": 248044,
    }
    text.update(overrides)
    return text


def qwen35_27b_config() -> Any:
    """Qwen3.5-27B (dense): 64 layers, hidden 5120, 24 Q / 4 KV, DeltaNet 48 V / 16 QK."""
    text = _full_text(
        hidden_size=5120,
        intermediate_size=17408,
        num_hidden_layers=64,
        num_attention_heads=24,
        num_key_value_heads=4,
        linear_num_key_heads=16,
        linear_num_value_heads=48,
    )
    return make_config("dense", text, dict(QWEN35_VISION), tie=False)


def qwen35_35b_a3b_config() -> Any:
    """Qwen3.5-35B-A3B (MoE): 40 layers, hidden 2048, 256 experts (8 routed + 1 shared)."""
    text = _full_text(
        hidden_size=2048,
        num_hidden_layers=40,
        num_attention_heads=16,
        num_key_value_heads=2,
        linear_num_key_heads=16,
        linear_num_value_heads=32,
        num_experts=256,
        num_experts_per_tok=8,
        moe_intermediate_size=512,
        shared_expert_intermediate_size=512,
    )
    return make_config("moe", text, dict(QWEN35_VISION), tie=False)


def qwen35_0_8b_config() -> Any:
    """Qwen3.5-0.8B (dense, tied embeddings): 24 layers, hidden 1024, 12-block vision."""
    text = _full_text(
        hidden_size=1024,
        intermediate_size=3584,
        num_hidden_layers=24,
        num_attention_heads=8,
        num_key_value_heads=2,
        linear_num_key_heads=16,
        linear_num_value_heads=16,
    )
    vision = {**QWEN35_VISION, "depth": 12, "hidden_size": 768, "intermediate_size": 3072}
    return make_config("dense", text, {**vision, "num_heads": 12}, tie=True)


FULL_CONFIGS: dict[str, Callable[[], Any]] = {
    "27b": qwen35_27b_config,
    "35b-a3b": qwen35_35b_a3b_config,
    "0.8b": qwen35_0_8b_config,
}


def full_config(name: str) -> Any:
    """A full-size config by short name: 27b, 35b-a3b, 0.8b."""
    if name not in FULL_CONFIGS:
        raise ValueError(f"unknown full-size config {name!r}; known: {sorted(FULL_CONFIGS)}")
    return FULL_CONFIGS[name]()


def model_class(config: Any) -> type[PreTrainedModel]:
    """The ForConditionalGeneration class for a Qwen3.5 dense or MoE config."""
    kind: Kind = "moe" if config.model_type == "qwen3_5_moe" else "dense"
    return _config_classes(kind)[1]


def build_tiny_model(config: Any = None, *, seed: int = 0, **tiny_kwargs: Any) -> Any:
    """A real model with seeded random weights in bfloat16 (`tiny_kwargs` -> tiny_config)."""
    import torch

    config = tiny_config(**tiny_kwargs) if config is None else config
    torch.manual_seed(seed)
    cls: Any = model_class(config)
    model = cls(config).to(torch.bfloat16).eval()
    # ModelOpt's export reads config.architectures (None on a freshly built model).
    model.config.architectures = [type(model).__name__]
    return model


def save_tiny_checkpoint(
    out_dir: str | os.PathLike[str], *, seed: int = 0, **tiny_kwargs: Any
) -> Path:
    """save_pretrained a tiny model (bfloat16 safetensors) into `out_dir`."""
    out = Path(out_dir)
    build_tiny_model(seed=seed, **tiny_kwargs).save_pretrained(out)
    return out


def meta_model(config: Any) -> Any:
    """The model for `config` on the meta device: names and shapes, no memory."""
    import torch

    with torch.device("meta"):
        return model_class(config)(config)


def meta_state_dict(config: Any) -> dict[str, Shape]:
    """In-memory state dict names and shapes (MoE experts fused: `experts.gate_up_proj`)."""
    return {name: tuple(t.shape) for name, t in meta_model(config).state_dict().items()}


_SAVED_CACHE: dict[str, dict[str, Shape]] = {}


def saved_tensor_shapes(config: Any) -> dict[str, Shape]:
    """Names and shapes save_pretrained WRITES for `config` (transformers 5.23 rules).

    save_pretrained drops tied weights, then reverts the load-time conversions: for
    qwen3_5_moe_text the qwen2_moe converters split `mlp.experts.gate_up_proj` [E, 2I, H]
    into `mlp.experts.{e}.gate_proj.weight` / `up_proj.weight` [I, H] and
    `mlp.experts.down_proj` into `mlp.experts.{e}.down_proj.weight` [H, I]. The
    `language_model` PrefixChange is dropped for models not loaded from disk.
    """
    key = f"{config.model_type}:{config.to_json_string(use_diff=False)}"
    if key not in _SAVED_CACHE:
        _SAVED_CACHE[key] = _saved_shapes(config)
    return dict(_SAVED_CACHE[key])


def _saved_shapes(config: Any) -> dict[str, Shape]:
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    model = meta_model(config)
    state = remove_tied_weights_from_state_dict(model.state_dict(), model)
    state = revert_weight_conversion(model, state)
    return {name: tuple(t.shape) for name, t in state.items()}


def _module_kind(module: Any) -> ModuleKind:
    from torch import nn

    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.Embedding):
        return "embedding"
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if "Router" in type(module).__name__:
        return "router"
    return "norm"


_INVENTORY_CACHE: dict[str, list[ModuleInfo]] = {}


def module_inventory(config: Any) -> list[ModuleInfo]:
    """Every saved module with its kind, in saved order (per-expert MoE Linears included)."""
    key = f"{config.model_type}:{config.to_json_string(use_diff=False)}"
    if key not in _INVENTORY_CACHE:
        _INVENTORY_CACHE[key] = _module_inventory(config)
    return list(_INVENTORY_CACHE[key])


def _module_inventory(config: Any) -> list[ModuleInfo]:
    kinds = {name: _module_kind(m) for name, m in meta_model(config).named_modules()}
    grouped: dict[str, dict[str, Shape]] = {}
    params: list[ModuleInfo] = []
    for tensor, shape in saved_tensor_shapes(config).items():
        prefix, _, leaf = tensor.rpartition(".")
        if leaf in ("weight", "bias"):
            grouped.setdefault(prefix, {})[leaf] = shape
        else:
            params.append(ModuleInfo(tensor, "param", shape, False))
    modules = [
        ModuleInfo(name, kinds.get(name, "linear"), leaves["weight"], "bias" in leaves)
        for name, leaves in grouped.items()
    ]
    return sorted(modules + params, key=lambda m: _natural_key(m.name))


def _natural_key(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in name.split(".")]


def cached_dir(cache_dir: str | os.PathLike[str], key: str, build: Callable[[Path], Any]) -> Path:
    """`cache_dir/key`, built once by `build(tmp_dir)` and renamed into place atomically."""
    root = Path(cache_dir)
    target = root / key
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        build(tmp)
        (tmp / ".complete").write_text(key + "\n")
        tmp.chmod(0o755)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except OSError:
        if not (target / ".complete").exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune_stale(root, key)
    return target


def _prune_stale(root: Path, key: str) -> None:
    """Remove older builds of the same artefact (same name, other digest)."""
    name = key.rpartition("-")[0]
    for old in root.glob(f"{name}-*"):
        if old.name != key and old.name.rpartition("-")[0] == name:
            shutil.rmtree(old, ignore_errors=True)


def _source_digest() -> str:
    here = Path(__file__).resolve().parent
    files = [*sorted(here.glob("*.py")), here.parent / "checkpoint" / "formats.py"]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]


def cache_key(name: str, **params: Any) -> str:
    """A cache directory name that changes with params, library versions and this code."""
    stamp = {
        "synth": SYNTH_VERSION,
        "source": _source_digest(),
        "transformers": version("transformers"),
        "torch": version("torch"),
        **params,
    }
    digest = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:12]
    return f"{name}-{digest}"


def cached_tiny_checkpoint(
    kind: Kind, cache_dir: str | os.PathLike[str], **tiny_kwargs: Any
) -> Path:
    """A saved tiny BF16 checkpoint, built once per cache key."""
    key = cache_key(f"tiny-{kind}", **tiny_kwargs)
    return cached_dir(cache_dir, key, lambda d: save_tiny_checkpoint(d, kind=kind, **tiny_kwargs))
