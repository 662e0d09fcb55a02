"""The specs of real published models (section 8) describe models transformers can build: each
spec's derived tensors equal, name for name and shape for shape, those of the full-size model
transformers builds on the meta device from the spec's own values (no memory, no download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publisher.spec.derive import derive
from publisher.spec.loader import load_spec
from publisher.spec.profile import Profile, load_profile
from publisher.spec.variables import resolve_values

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

REAL_SPECS = [
    "Llama-3.1-8B-Instruct-NVFP4",
    "Mistral-7B-Instruct-v0.3-NVFP4",
    "Qwen3-8B-NVFP4",
    "Qwen3-30B-A3B-NVFP4",
    "DeepSeek-V3.1-NVFP4",
    "Kimi-K2-Instruct-NVFP4",
    "GLM-4.5-Air-NVFP4",
    "Gemma-3-27B-IT-NVFP4",
    "Nemotron-H-8B-Base-8K-NVFP4",
    "gpt-oss-120b",
    "GLM-5.1-NVFP4",
]


def _config_from_spec(arch: Any, profile: Profile) -> Any:
    """The family's transformers config, with every value the profile reads from config.json
    set from the spec (the reverse of `publisher init`)."""
    values, _ = resolve_values(arch, profile)
    text: dict[str, Any] = {}
    vision: dict[str, Any] = {}
    for name, variable in profile.all_variables().items():
        if variable.config is None or name not in values:
            continue
        key = variable.config if isinstance(variable.config, str) else variable.config[0]
        target, _, leaf = key.rpartition(".")
        (vision if target == "vision_config" else text)[leaf or key] = values[name]
    for name, option in profile.options.items():
        if option.config and name in arch.options:
            target, _, leaf = option.config.rpartition(".")
            (vision if target == "vision_config" else text)[leaf] = arch.options[name]
    text["tie_word_embeddings"] = arch.lm_output == "tied"
    layers = profile.parse_layout(arch.layout)
    key = profile.layer_types_key
    key = key if isinstance(key, str) else key[0]
    kinds = [profile.mixers[layer.mixer].layer_type_names()[0] for layer in layers]
    if key == "hybrid_override_pattern":
        text[key] = "".join(kinds)
    elif len(profile.mixers) > 1:
        text[key] = kinds
    defaults = transformers.AutoConfig.for_model(profile.model_type).to_dict()
    if "first_k_dense_replace" in defaults:
        text["first_k_dense_replace"] = sum(1 for layer in layers if layer.ffn == "dense")
    if "text_config" in defaults:
        return transformers.AutoConfig.for_model(
            profile.model_type,
            text_config=text,
            vision_config={**vision, "vision_use_head": arch.options.get("vision_head", False)},
            tie_word_embeddings=text["tie_word_embeddings"],
        )
    return transformers.AutoConfig.for_model(profile.model_type, **text)


@pytest.mark.parametrize("name", REAL_SPECS)
def test_real_spec_matches_the_full_size_transformers_model(repo_root: Path, name: str) -> None:
    from publisher.spec.profile_check import checkpoint_tensors

    spec = load_spec(repo_root / "model_specs" / f"{name}.yaml").spec
    assert spec is not None
    arch = spec.architecture
    profile = load_profile(arch.profile)
    saved = checkpoint_tensors(
        getattr(transformers, profile.architectures[0]), _config_from_spec(arch, profile), torch
    )
    predicted: dict[str, tuple[int, ...] | None] = {}
    for ref in derive(arch, profile).all_modules():
        weight, *rest = ref.tensor_names()
        predicted[weight] = ref.shape
        for bias in rest:
            predicted[bias] = ref.shape[:1] if ref.shape else None
    assert sorted(set(predicted) ^ set(saved))[:5] == []
    assert {n: s for n, s in saved.items() if predicted[n] != s} == {}
