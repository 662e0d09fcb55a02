"""config.json against the spec's architecture.

config.json is read as JSON. `save_pretrained` leaves out keys equal to their defaults, so
when a key the check needs is absent, the defaults come from transformers' own config class
for that model type (imported only then: it pulls in torch, seconds of start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.findings import Finding, Location
from publisher.spec.from_config import config_layers
from publisher.spec.model import ModelSpec
from publisher.spec.profile import Profile, load_profile
from publisher.spec.variables import config_value, resolve_values, spec_path, spec_value

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
    """Every architecture fact of the spec that config.json states differently: each value
    the profile reads from config.json, the tied/separate LM head and the per-layer kinds."""
    location = str(Path(where) / "config.json")
    if config is None:
        return [Finding("VAL020", "config.json is missing; loaders need it", Location(location))]
    config = resolved_config(config)
    text = config.get("text_config", config)
    if not isinstance(text, dict):
        return [Finding("VAL020", "config.json text_config is not an object", Location(location))]
    arch = spec.architecture
    profile = load_profile(arch.profile)
    values, _ = resolve_values(arch, profile)
    pairs: list[tuple[str, Any, Any, str]] = []
    for name, variable in profile.all_variables().items():
        if variable.config is None or name not in values:
            continue
        path = spec_path(name, variable)
        if (
            path.split(".")[0] in ("ffn", "moe", "vision")
            and spec_value(arch, path.split(".")[0]) is None
        ):
            continue
        key = _present_key(config, variable.config)
        found = config_value(config, variable.config)
        if key is None or type(found) is not int:
            continue
        pairs.append((key, found, values[name], f"architecture.{path}"))
    tied = config.get("tie_word_embeddings", text.get("tie_word_embeddings"))
    if tied is not None:
        pairs.append(
            ("tie_word_embeddings", bool(tied), arch.lm_output == "tied", "architecture.lm_output")
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
    findings += _check_layers(spec, profile, config, location)
    return findings


def _present_key(config: dict[str, Any], keys: str | list[str]) -> str | None:
    for key in [keys] if isinstance(keys, str) else keys:
        if config_value(config, key) is not None:
            return key
    return None


def _check_layers(
    spec: ModelSpec, profile: Profile, config: dict[str, Any], location: str
) -> list[Finding]:
    """The layout's per-layer (mixer, feed-forward) kinds against config.json's."""
    given = config_layers(config, profile)
    if given is None:
        return []
    try:
        layers = profile.parse_layout(spec.architecture.layout)
    except ValueError:
        return []
    want = [(layer.mixer, layer.ffn) for layer in layers]
    if want == given:
        return []
    if len(want) != len(given):
        return [
            Finding(
                "VAL020",
                f"config.json gives {len(given)} layers, the layout {len(want)}",
                Location(location, pointer="num_hidden_layers"),
            )
        ]
    first = next(i for i, (a, b) in enumerate(zip(want, given, strict=True)) if a != b)
    return [
        Finding(
            "VAL020",
            f"config.json makes layer {first} {_describe(given[first], profile)} but the layout "
            f"makes it {_describe(want[first], profile)}",
            Location(location, pointer=f"layer {first}"),
        )
    ]


def _describe(layer: tuple[str, str], profile: Profile) -> str:
    mixer, ffn = layer
    label = profile.mixers[mixer].label if mixer in profile.mixers else mixer
    if profile.mixers.get(mixer) and profile.mixers[mixer].whole_layer is not None:
        return label
    return f"{label} → {profile.moe_label if ffn == 'moe' else profile.dense_label}"
