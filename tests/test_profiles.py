"""Architecture profiles name exactly the tensors transformers' real Qwen3.5 models hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publisher.spec.derive import derive
from publisher.spec.from_config import architecture_fields
from publisher.spec.model import Architecture
from publisher.spec.profile import load_profile

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _tiny_dense_config(tie: bool) -> Any:
    return transformers.Qwen3_5Config(
        text_config={
            "hidden_size": 64,
            "intermediate_size": 96,
            "num_hidden_layers": 8,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "linear_num_value_heads": 4,
            "linear_num_key_heads": 2,
            "linear_key_head_dim": 16,
            "linear_value_head_dim": 16,
            "vocab_size": 512,
            "tie_word_embeddings": tie,
        },
        vision_config={
            "depth": 3,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
        },
        tie_word_embeddings=tie,
    )


def _spec_architecture(config: Any) -> Architecture:
    fields = architecture_fields(config.to_dict())
    fields["parameters"] = {"total": "1M"}
    return Architecture.model_validate(fields)


def _profile_tensors(arch: Architecture) -> dict[str, tuple[int, ...] | None]:
    inventory = derive(arch, load_profile(arch.profile))
    names: dict[str, tuple[int, ...] | None] = {}
    for ref in inventory.all_modules():
        for tensor in ref.tensor_names():
            names[tensor] = ref.shape if tensor == ref.tensor_names()[0] else None
    return names


@pytest.mark.parametrize("tie", [False, True])
def test_dense_profile_matches_transformers_state_dict(tie: bool) -> None:
    config = _tiny_dense_config(tie)
    with torch.device("meta"):
        model = transformers.Qwen3_5ForConditionalGeneration(config)
    state = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if tie:
        state.pop("lm_head.weight", None)  # tied: not written to the file
    arch = _spec_architecture(config)
    predicted = _profile_tensors(arch)
    assert set(predicted) == set(state)
    # logical weight shapes from the profile's formulas agree wherever the spec gives the values
    for name, shape in predicted.items():
        if shape is not None and not name.startswith("model.visual.patch_embed"):
            assert state[name] == shape, name


def test_moe_profile_matches_transformers_saved_names(tmp_path: Path) -> None:
    config = transformers.Qwen3_5MoeConfig(
        text_config={
            "hidden_size": 64,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "linear_num_value_heads": 4,
            "linear_num_key_heads": 2,
            "linear_key_head_dim": 16,
            "linear_value_head_dim": 16,
            "vocab_size": 512,
            "num_experts": 4,
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 32,
            "shared_expert_intermediate_size": 32,
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
        },
    )
    torch.manual_seed(0)
    model = transformers.Qwen3_5MoeForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    from safetensors import safe_open

    saved: set[str] = set()
    for shard in tmp_path.glob("*.safetensors"):
        with safe_open(str(shard), "np") as handle:
            saved.update(handle.keys())
    predicted = _profile_tensors(_spec_architecture(config))
    assert set(predicted) == saved


def test_profile_counts_match_the_27b_reference_inventory(
    shared_dir: Path, repo_root: Path
) -> None:
    from publisher.spec.loader import load_spec

    loaded = load_spec(repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml")
    assert loaded.spec is not None
    predicted = _profile_tensors(loaded.spec.architecture)
    rows = (shared_dir / "reference-checkpoints" / "qwen3.5-27b-like-state-dict.tsv").read_text()
    reference = {line.split("\t")[0] for line in rows.splitlines() if line.strip()}
    assert set(predicted) == reference
