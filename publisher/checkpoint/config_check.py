"""config.json against the spec's architecture.

config.json is read as JSON. `save_pretrained` leaves out keys equal to their defaults, so
when a key the check needs is absent, the defaults come from transformers' own config class
for that model type (imported only then: it pulls in torch, seconds of start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.findings import Finding, Location
from publisher.spec.config_keys import REQUIRED_TEXT_KEYS, TEXT_KEYS, VISION_KEYS, compared_pairs
from publisher.spec.layout import parse_layout
from publisher.spec.model import ModelSpec
from publisher.spec.profile import load_profile


def resolved_config(config: dict[str, Any]) -> dict[str, Any]:
    """config.json with transformers' defaults filled in where keys are absent."""
    text = config.get("text_config", config)
    if isinstance(text, dict) and all(key in text for key in REQUIRED_TEXT_KEYS):
        return config
    model_type = config.get("model_type")
    if not isinstance(model_type, str):
        return config
    try:
        from transformers import AutoConfig

        full = AutoConfig.for_model(
            model_type, **{k: v for k, v in config.items() if k != "model_type"}
        )
    except Exception:  # transformers refuses the values (its strict config classes): no defaults
        return config
    return dict(full.to_dict())


def check_config_json(spec: ModelSpec, config: dict[str, Any] | None, where: str) -> list[Finding]:
    """Every architecture fact of the spec that config.json states differently."""
    location = str(Path(where) / "config.json")
    if config is None:
        return [Finding("VAL020", "config.json is missing; loaders need it", Location(location))]
    config = resolved_config(config)
    text = config.get("text_config", config)
    if not isinstance(text, dict):
        return [Finding("VAL020", "config.json text_config is not an object", Location(location))]
    arch = spec.architecture
    pairs = compared_pairs(arch, text, TEXT_KEYS)
    tied = config.get("tie_word_embeddings", text.get("tie_word_embeddings"))
    if tied is not None:
        pairs.append(
            ("tie_word_embeddings", bool(tied), arch.lm_output == "tied", "architecture.lm_output")
        )
    vision = config.get("vision_config")
    if isinstance(vision, dict) and arch.vision:
        pairs += compared_pairs(arch, vision, VISION_KEYS, prefix="vision_config.")
    findings = [
        Finding(
            "VAL020",
            f"config.json {key} is {found} but the spec says {wanted} ({spec_key})",
            Location(location, pointer=key),
        )
        for key, found, wanted, spec_key in pairs
        if found is not None and found != wanted
    ]
    findings += _check_layer_types(spec, text.get("layer_types"), location)
    return findings


def _check_layer_types(spec: ModelSpec, layer_types: Any, location: str) -> list[Finding]:
    if not isinstance(layer_types, list):
        return []
    profile = load_profile(spec.architecture.profile)
    try:
        layers = parse_layout(
            spec.architecture.layout, profile.mixer_aliases(), profile.ffn_alias_table()
        )
    except ValueError:
        return []
    want = [profile.mixers[layer.mixer].layer_type for layer in layers]
    if want == layer_types:
        return []
    if len(want) != len(layer_types):
        return [
            Finding(
                "VAL020",
                f"config.json layer_types has {len(layer_types)} layers, the layout {len(want)}",
                Location(location, pointer="layer_types"),
            )
        ]
    first = next(i for i, (a, b) in enumerate(zip(want, layer_types, strict=True)) if a != b)
    return [
        Finding(
            "VAL020",
            f"config.json layer_types[{first}] is {layer_types[first]} but the layout makes layer {first} {want[first]}",
            Location(location, pointer=f"layer_types[{first}]"),
        )
    ]
