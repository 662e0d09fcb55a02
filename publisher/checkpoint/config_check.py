"""config.json against the spec's architecture.

config.json is read as JSON. `save_pretrained` leaves out keys equal to their defaults, so
when a key the check needs is absent, the defaults come from transformers' own config class
for that model type (imported only then: it pulls in torch, seconds of start-up). Which keys
the check needs is the profile's data: each value it reads from config.json and the spec
states (unless the profile gives it a default of its own), and the profile's `layout_keys`
(the per-layer keys transformers fills in: a hybrid's layer kinds, DeepSeek's
first_k_dense_replace). A config.json that states them all (the published DeepSeek-V3 and
Kimi-K2 ones do) is checked without transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.findings import Finding, Location
from publisher.spec.from_config import config_layers
from publisher.spec.model import ModelSpec
from publisher.spec.profile import Profile, load_profile
from publisher.spec.variables import config_value, resolve_values, spec_path, spec_value


def needed_keys(spec: ModelSpec, profile: Profile) -> list[str | list[str]]:
    """The config.json keys (each: one key, or alternatives) the check compares or lays
    layers out by, for this spec and profile."""
    values, _ = resolve_values(spec.architecture, profile)
    keys: list[str | list[str]] = [
        variable.config
        for name, variable in profile.all_variables().items()
        if variable.config is not None and variable.default is None and name in values
    ]
    layer_keys = profile.layer_types_key
    alternatives = [layer_keys] if isinstance(layer_keys, str) else list(layer_keys)
    for key in profile.layout_keys:  # a per-layer kinds key: any of the profile's will do
        keys.append(layer_keys if key in alternatives else key)
    return keys


def resolved_config(config: dict[str, Any], needed: list[str | list[str]]) -> dict[str, Any]:
    """config.json with transformers' defaults filled in when a `needed` key is absent."""
    if all(config_value(config, keys) is not None for keys in needed):
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
    profile = load_profile(spec.architecture.profile)
    config = resolved_config(config, needed_keys(spec, profile))
    text = config.get("text_config", config)
    if not isinstance(text, dict):
        return [Finding("VAL020", "config.json text_config is not an object", Location(location))]
    pairs = _profile_value_pairs(spec, profile, config) + _lm_head_pair(spec, config, text)
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


def _profile_value_pairs(
    spec: ModelSpec, profile: Profile, config: dict[str, Any]
) -> list[tuple[str, Any, Any, str]]:
    """(config key, its value, the spec's value, the spec field) for each integer the profile
    reads from config.json and config.json states (a part the spec lacks is not compared)."""
    arch = spec.architecture
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
    return pairs


def _lm_head_pair(
    spec: ModelSpec, config: dict[str, Any], text: dict[str, Any]
) -> list[tuple[str, Any, Any, str]]:
    """config.json's tie_word_embeddings against the spec's lm_output, when it states it."""
    tied = config.get("tie_word_embeddings", text.get("tie_word_embeddings"))
    if tied is None:
        return []
    return [
        (
            "tie_word_embeddings",
            bool(tied),
            spec.architecture.lm_output == "tied",
            "architecture.lm_output",
        )
    ]


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
