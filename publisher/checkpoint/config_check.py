"""config.json against the spec's architecture.

config.json is read as JSON. `save_pretrained` leaves out keys equal to their defaults, so
when a key the check needs is absent, the defaults come from transformers' own config class
for that model type (imported only then: it pulls in torch, seconds of start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.findings import Finding, Location
from publisher.spec.layout import parse_layout
from publisher.spec.model import ModelSpec
from publisher.spec.profile import load_profile

TEXT_KEYS = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "layer_types",
)


def resolved_config(config: dict[str, Any]) -> dict[str, Any]:
    """config.json with transformers' defaults filled in where keys are absent."""
    text = config.get("text_config", config)
    if isinstance(text, dict) and all(key in text for key in TEXT_KEYS):
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
    pairs: list[tuple[str, Any, Any, str]] = [
        (
            "num_hidden_layers",
            text.get("num_hidden_layers"),
            arch.num_layers,
            "architecture.num_layers",
        ),
        ("hidden_size", text.get("hidden_size"), arch.hidden_size, "architecture.hidden_size"),
        ("vocab_size", text.get("vocab_size"), arch.vocab_size, "architecture.vocab_size"),
        (
            "num_attention_heads",
            text.get("num_attention_heads"),
            arch.attention.q_heads,
            "architecture.attention.q_heads",
        ),
        (
            "num_key_value_heads",
            text.get("num_key_value_heads"),
            arch.attention.kv_heads,
            "architecture.attention.kv_heads",
        ),
        (
            "head_dim",
            text.get("head_dim"),
            arch.attention.head_dim,
            "architecture.attention.head_dim",
        ),
        (
            "max_position_embeddings",
            text.get("max_position_embeddings"),
            arch.context.native,
            "architecture.context.native",
        ),
    ]
    if arch.deltanet:
        pairs += [
            (
                "linear_num_value_heads",
                text.get("linear_num_value_heads"),
                arch.deltanet.v_heads,
                "architecture.deltanet.v_heads",
            ),
            (
                "linear_num_key_heads",
                text.get("linear_num_key_heads"),
                arch.deltanet.qk_heads,
                "architecture.deltanet.qk_heads",
            ),
            (
                "linear_value_head_dim",
                text.get("linear_value_head_dim"),
                arch.deltanet.head_dim,
                "architecture.deltanet.head_dim",
            ),
        ]
    if arch.ffn:
        pairs.append(
            (
                "intermediate_size",
                text.get("intermediate_size"),
                arch.ffn.intermediate_size,
                "architecture.ffn.intermediate_size",
            )
        )
    if arch.moe:
        pairs += [
            ("num_experts", text.get("num_experts"), arch.moe.experts, "architecture.moe.experts"),
            (
                "num_experts_per_tok",
                text.get("num_experts_per_tok"),
                arch.moe.routed,
                "architecture.moe.routed",
            ),
            (
                "moe_intermediate_size",
                text.get("moe_intermediate_size"),
                arch.moe.expert_intermediate_size,
                "architecture.moe.expert_intermediate_size",
            ),
        ]
    tied = config.get("tie_word_embeddings", text.get("tie_word_embeddings"))
    if tied is not None:
        pairs.append(
            ("tie_word_embeddings", bool(tied), arch.lm_output == "tied", "architecture.lm_output")
        )
    vision = config.get("vision_config")
    if isinstance(vision, dict) and arch.vision:
        if arch.vision.depth:
            pairs.append(
                (
                    "vision_config.depth",
                    vision.get("depth"),
                    arch.vision.depth,
                    "architecture.vision.depth",
                )
            )
        if arch.vision.hidden_size:
            pairs.append(
                (
                    "vision_config.hidden_size",
                    vision.get("hidden_size"),
                    arch.vision.hidden_size,
                    "architecture.vision.hidden_size",
                )
            )
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
