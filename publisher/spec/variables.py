"""The values a profile's shapes and counts use, resolved from a spec or read from config.json.

Every profile has the built-in values below (hidden size, heads, experts, …); a profile
overrides where its config.json keeps them (`experts: {config: n_routed_experts}`) and adds
its own (`q_lora_rank`, kept in the spec under `architecture.dims`). No family's names live
here: only the generic transformers config keys.
"""

from __future__ import annotations

from typing import Any

from publisher.spec.model import Architecture
from publisher.spec.profile import Profile, Variable, eval_dim, expression_names

BUILTIN_VARIABLES: dict[str, Variable] = {
    "hidden": Variable(spec="hidden_size", config="hidden_size", label="hidden size"),
    "vocab": Variable(spec="vocab_size", config="vocab_size", label="vocabulary"),
    "layers": Variable(spec="num_layers", config="num_hidden_layers", label="layers"),
    "q_heads": Variable(spec="attention.q_heads", config="num_attention_heads"),
    "kv_heads": Variable(spec="attention.kv_heads", config="num_key_value_heads"),
    "head_dim": Variable(spec="attention.head_dim", config="head_dim"),
    "sliding_window": Variable(spec="attention.sliding_window", config="sliding_window"),
    "intermediate": Variable(spec="ffn.intermediate_size", config="intermediate_size"),
    "experts": Variable(spec="moe.experts", config="num_experts"),
    "routed": Variable(spec="moe.routed", config="num_experts_per_tok"),
    "shared_experts": Variable(spec="moe.shared", config="n_shared_experts", default=0),
    "expert_intermediate": Variable(
        spec="moe.expert_intermediate_size", config="moe_intermediate_size"
    ),
    "shared_intermediate": Variable(
        spec="moe.shared_intermediate_size",
        config="shared_expert_intermediate_size",
        default="expert_intermediate * shared_experts",
    ),
    "context": Variable(spec="context.native", config="max_position_embeddings"),
    "vision_depth": Variable(spec="vision.depth", config="vision_config.depth"),
    "vision_hidden": Variable(spec="vision.hidden_size", config="vision_config.hidden_size"),
    "vision_intermediate": Variable(
        spec="vision.intermediate_size", config="vision_config.intermediate_size"
    ),
    "vision_heads": Variable(spec="vision.heads", config="vision_config.num_heads"),
}
"""value name → where the spec keeps it and which config.json key states it"""

SECTIONS = {"ffn": "ffn", "moe": "moe", "vision": "vision"}
"""spec sections that exist only when the model has the part"""


def spec_path(name: str, variable: Variable) -> str:
    return variable.spec or f"dims.{name}"


def spec_value(arch: Architecture | dict[str, Any], path: str) -> Any:
    """The value at `path` (dotted, under architecture) of a model or a plain mapping."""
    node: Any = arch
    for part in path.split("."):
        if node is None:
            return None
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return node


def resolve_values(arch: Architecture, profile: Profile) -> tuple[dict[str, int], dict[str, str]]:
    """(value name → number, value name → the spec key to add) for every profile value: the
    spec's value, else the profile's default; the second mapping names those with neither."""
    variables = profile.all_variables()
    values: dict[str, int] = {}
    for name, variable in variables.items():
        found = spec_value(arch, spec_path(name, variable))
        if type(found) is int:
            values[name] = found
    pending = {n: v for n, v in variables.items() if n not in values and v.default is not None}
    while pending:  # defaults may use each other (shared_intermediate → expert_intermediate)
        progress = False
        for name, variable in list(pending.items()):
            default = variable.default
            assert default is not None
            if isinstance(default, str) and expression_names(default) - set(values):
                continue
            result = eval_dim(default, values)
            if result is not None:
                values[name] = result
            del pending[name]
            progress = True
        if not progress:
            break
    missing = {n: spec_path(n, v) for n, v in variables.items() if n not in values}
    return values, missing


def option_values(arch: Architecture, profile: Profile) -> dict[str, bool]:
    """Every option of the profile, as the spec states it or by the profile's default."""
    options = {
        name: arch.options.get(name, option.default) for name, option in profile.options.items()
    }
    options["separate_lm_head"] = arch.lm_output == "separate"
    return options


# -- config.json ----------------------------------------------------------------------------------


def config_value(config: dict[str, Any], key: str | list[str] | None) -> Any:
    """A config.json value by key (text config first, then the top level); `vision_config.x`
    reads the vision config. With several keys, the first present wins."""
    if key is None:
        return None
    for one in [key] if isinstance(key, str) else key:
        head, _, tail = one.partition(".")
        if tail:
            inner = config.get(head)
            value = inner.get(tail) if isinstance(inner, dict) else None
        else:
            text = config.get("text_config")
            value = text.get(one) if isinstance(text, dict) else None
            if value is None:
                value = config.get(one)
        if value is not None:
            return value
    return None


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    node = target
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
