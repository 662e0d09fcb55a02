"""Read architecture facts out of a checkpoint's config.json (plain JSON, no transformers import).

Used by `publisher init` (to write a starting spec). Which key states which spec field is
spec/config_keys.py, shared with validation's config.json check. Works with composite configs (text_config / vision_config) and flat ones.
"""

from __future__ import annotations

from typing import Any

from publisher.spec.config_keys import config_key

PROFILE_BY_MODEL_TYPE = {"qwen3_5": "qwen3_5", "qwen3_5_moe": "qwen3_5_moe"}
MIXER_LABELS = {"linear_attention": "Gated DeltaNet", "full_attention": "Gated Attention"}


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    inner = config.get("text_config")
    return inner if isinstance(inner, dict) else config


def layout_from_layer_types(layer_types: list[str], ffn_label: str) -> str:
    """['linear_attention']*3 + ['full_attention'] repeated 16 times →
    '16 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))'."""
    n = len(layer_types)
    period = next(
        p for p in range(1, n + 1) if n % p == 0 and layer_types == layer_types[:p] * (n // p)
    )
    runs: list[tuple[str, int]] = []
    for kind in layer_types[:period]:
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + 1)
        else:
            runs.append((kind, 1))
    inner = " → ".join(
        f"{count} × ({MIXER_LABELS.get(kind, kind)} → {ffn_label})" for kind, count in runs
    )
    repeats = n // period
    return f"{repeats} × ({inner})" if repeats > 1 else inner


def _number(value: Any) -> bool:
    return type(value) in (int, float) and value == value and abs(value) != float("inf")


def architecture_fields(config: dict[str, Any]) -> dict[str, Any]:
    """The spec's `architecture` mapping as far as config.json tells it (parameters excluded)."""
    text = text_config(config)
    model_type = str(config.get("model_type", ""))
    is_moe = "num_experts" in text
    layer_types = text.get("layer_types")
    if not isinstance(layer_types, list) or not all(isinstance(t, str) for t in layer_types):
        layer_types = []  # a hand-edited or foreign config: lint will ask for a layout
    fields: dict[str, Any] = {
        "profile": PROFILE_BY_MODEL_TYPE.get(model_type, model_type),
        "hidden_size": text.get(config_key("hidden_size")),
        "vocab_size": text.get(config_key("vocab_size")),
        "num_layers": text.get(config_key("num_layers")),
        "layout": layout_from_layer_types(layer_types, "MoE" if is_moe else "FFN")
        if layer_types
        else None,
        "attention": {
            "q_heads": text.get(config_key("attention.q_heads")),
            "kv_heads": text.get(config_key("attention.kv_heads")),
            "head_dim": text.get(config_key("attention.head_dim")),
        },
        "lm_output": "tied"
        if config.get("tie_word_embeddings", text.get("tie_word_embeddings"))
        else "separate",
        "context": {"native": text.get(config_key("context.native"))},
    }
    rope = text.get("rope_parameters") or text.get("rope_scaling") or {}
    rope = rope if isinstance(rope, dict) else {}
    factor = rope.get("partial_rotary_factor", text.get("partial_rotary_factor"))
    head_dim = text.get("head_dim")
    if isinstance(factor, int | float) and _number(factor) and type(head_dim) is int:
        rotary = factor * head_dim
    else:
        rotary = 0
    if 0 < rotary < 2**31:
        fields["attention"]["rotary_dim"] = int(rotary)
    if "linear_num_value_heads" in text:
        fields["deltanet"] = {
            "v_heads": text.get(config_key("deltanet.v_heads")),
            "qk_heads": text.get(config_key("deltanet.qk_heads")),
            "head_dim": text.get(config_key("deltanet.head_dim")),
        }
    if is_moe:
        fields["moe"] = {
            "experts": text.get(config_key("moe.experts")),
            "routed": text.get(config_key("moe.routed")),
            "shared": 1 if text.get("shared_expert_intermediate_size") else 0,
            "expert_intermediate_size": text.get(config_key("moe.expert_intermediate_size")),
        }
        if text.get("shared_expert_intermediate_size"):
            fields["moe"]["shared_intermediate_size"] = text["shared_expert_intermediate_size"]
    else:
        fields["ffn"] = {"intermediate_size": text.get(config_key("ffn.intermediate_size"))}
    vision = config.get("vision_config")
    if isinstance(vision, dict):
        fields["vision"] = {
            "depth": vision.get(config_key("vision.depth")),
            "hidden_size": vision.get(config_key("vision.hidden_size")),
            "intermediate_size": vision.get(config_key("vision.intermediate_size")),
        }
    return fields
