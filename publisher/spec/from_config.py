"""Read architecture facts out of a checkpoint's config.json (plain JSON, no transformers import).

Used by `publisher init` (to write a starting spec), by audit (to place modules in components)
and by validation (to compare config.json with the spec). The profile says which keys hold
which values and how the per-layer kinds are given; nothing here knows a family by name.
Works with composite configs (text_config / vision_config) and flat ones.
"""

from __future__ import annotations

from typing import Any

from publisher.spec.profile import Profile, load_profile, profile_for_model_type
from publisher.spec.variables import config_value, set_path, spec_path


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    inner = config.get("text_config")
    return inner if isinstance(inner, dict) else config


def profile_name_for(config: dict[str, Any]) -> str | None:
    """The packaged profile for config.json's model_type (or its architectures)."""
    model_type = config.get("model_type")
    architectures = config.get("architectures")
    names = (
        [a for a in architectures if isinstance(a, str)] if isinstance(architectures, list) else []
    )
    if not isinstance(model_type, str):
        return profile_for_model_type("", names) if names else None
    return profile_for_model_type(model_type, names)


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def config_layers(config: dict[str, Any], profile: Profile) -> list[tuple[str, str]] | None:
    """(mixer kind, FFN kind) per layer as config.json gives them; None when it cannot say."""
    text = text_config(config)
    raw = config_value(config, profile.layer_types_key)
    if isinstance(raw, str):
        raw = list(raw)
    count = _int(config_value(config, "num_hidden_layers"))
    if count is None and isinstance(raw, list):
        count = len(raw)
    if count is None or not 0 < count <= 100_000:
        return None
    by_type = {
        name: kind for kind, mixer in profile.mixers.items() for name in mixer.layer_type_names()
    }
    if isinstance(raw, list) and raw:
        if len(raw) != count or not all(isinstance(t, str) and t in by_type for t in raw):
            return None
        mixers = [by_type[t] for t in raw]
    elif len(profile.mixers) >= 1:
        mixers = [next(iter(profile.mixers))] * count  # one kind of layer throughout
    else:
        return None
    return [(m, _ffn_kind(i, m, text, profile)) for i, m in enumerate(mixers)]


FFN_KEYS_ABSENT: dict[str, Any] = {
    "first_k_dense_replace": 0,
    "mlp_only_layers": [],
    "decoder_sparse_step": 1,
    "moe_layer_freq": 1,
}
"""The per-layer FFN keys `_ffn_kind` reads, and what it takes a left-out key to mean (no dense
layers first, none listed, every layer MoE). A family whose transformers default differs
lists the key in its profile's `layout_keys`. (mlp_layer_types is not here: where transformers
has it, it derives it from first_k_dense_replace.)"""


def _ffn_kind(index: int, mixer: str, text: dict[str, Any], profile: Profile) -> str:
    whole = profile.mixers[mixer].whole_layer
    if whole is not None:
        return whole
    if profile.ffn == "dense":
        return "dense"
    first_dense = _int(text.get("first_k_dense_replace")) or 0
    if index < first_dense:
        return "dense"
    dense_only = text.get("mlp_only_layers")
    if isinstance(dense_only, list) and index in dense_only:
        return "dense"
    kinds = text.get("mlp_layer_types")
    if isinstance(kinds, list) and index < len(kinds) and kinds[index] == "dense":
        return "dense"
    step = _int(text.get("decoder_sparse_step")) or 1
    if step > 1 and (index + 1) % step != 0:
        return "dense"
    frequency = _int(text.get("moe_layer_freq")) or 1
    if frequency > 1 and index % frequency != 0:
        return "dense"
    return "moe"


def layout_text(layers: list[tuple[str, str]], profile: Profile) -> str:
    """[(mla, dense)] * 3 + [(mla, moe)] * 58 → '3 × (MLA → FFN) → 58 × (MLA → MoE)'; repeated
    stretches are written once with their count, nested ('16 × (3 × (…) → 1 × (…))')."""
    blocks = []
    for mixer, ffn in layers:
        label = profile.mixers[mixer].label
        if profile.mixers[mixer].whole_layer is not None:
            blocks.append(label)
        else:
            blocks.append(
                f"({label} → {profile.moe_label if ffn == 'moe' else profile.dense_label})"
            )
    return _render_runs(_runs(blocks))


def _runs(blocks: list[str]) -> list[tuple[int, list[str]]]:
    """Greedy tandem repeats: at each place the stretch that repeats to cover the most layers."""
    runs: list[tuple[int, list[str]]] = []
    i, n = 0, len(blocks)
    while i < n:
        best_k, best_reps = 1, 1
        for k in range(1, (n - i) // 2 + 1):
            reps = 1
            while blocks[i + reps * k : i + (reps + 1) * k] == blocks[i : i + k]:
                reps += 1
            if reps >= 2 and k * reps > best_k * best_reps:
                best_k, best_reps = k, reps
        runs.append((best_reps, blocks[i : i + best_k]))
        i += best_k * best_reps
    return runs


def _render_runs(runs: list[tuple[int, list[str]]]) -> str:
    parts = []
    for reps, chunk in runs:
        inner = chunk[0] if len(chunk) == 1 else f"({_render_runs(_runs(chunk))})"
        counted = reps > 1 or (len(runs) > 1 and inner.startswith("("))
        parts.append(f"{reps} × {inner}" if counted else inner)
    return " → ".join(parts)


def _number(value: Any) -> bool:
    return type(value) in (int, float) and value == value and abs(value) != float("inf")


def architecture_fields(
    config: dict[str, Any], profile: Profile | str | None = None
) -> dict[str, Any]:
    """The spec's `architecture` mapping as far as config.json tells it (parameters excluded).

    The profile is config.json's own (by model_type) unless given; for a config no profile
    knows, only `profile` (the model_type) and the generic values are filled in.
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    if profile is None:
        name = profile_name_for(config)
        profile = load_profile(name) if name else None
    fields: dict[str, Any] = {}
    if profile is None:
        fields["profile"] = str(config.get("model_type", ""))
        return fields
    fields["profile"] = profile.name if profile.source == profile.name else profile.source
    layers = config_layers(config, profile)
    if layers and config_value(config, "num_hidden_layers") is None:
        fields["num_layers"] = len(layers)
    ffn_kinds = {ffn for _, ffn in layers} if layers else {profile.ffn}
    for name, variable in profile.all_variables().items():
        path = spec_path(name, variable)
        section = path.split(".")[0]
        if section == "ffn" and "dense" not in ffn_kinds:
            continue
        if section == "moe" and "moe" not in ffn_kinds:
            continue
        if section == "vision" and not isinstance(config.get("vision_config"), dict):
            continue
        value = config_value(config, variable.config)
        if type(value) is int and value >= 0:
            set_path(fields, path, value)
        elif section == "moe" and variable.default is not None and type(variable.default) is int:
            set_path(fields, path, variable.default)  # a required count config.json leaves out
    moe = fields.get("moe", {})
    if "shared_intermediate_size" in moe and not moe.get("shared"):
        moe["shared"] = 1  # a shared-expert size without a count: one expert
    for name, option in profile.options.items():
        value = config_value(config, option.config)
        if isinstance(value, bool) and value != option.default:
            fields.setdefault("options", {})[name] = value
    if layers:
        fields["layout"] = layout_text(layers, profile)
    fields["lm_output"] = (
        "tied"
        if config.get("tie_word_embeddings", text_config(config).get("tie_word_embeddings"))
        else "separate"
    )
    fields.setdefault("attention", {})
    _rotary(config, fields)
    if "vision" in fields and isinstance(config.get("vision_config"), dict):
        fields["vision"] = {k: v for k, v in fields["vision"].items() if k != "heads"}
    context = fields.pop("context", None)
    fields["context"] = context or {"native": None}
    return fields


def _rotary(config: dict[str, Any], fields: dict[str, Any]) -> None:
    text = text_config(config)
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
