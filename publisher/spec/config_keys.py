"""Which config.json key states which spec field: the one table `publisher init` reads the
architecture by (spec/from_config.py) and validation compares config.json against
(checkpoint/config_check.py).

Only one-to-one facts are here; what takes a rule (the layout from `layer_types`, `lm_output`
from `tie_word_embeddings`, the rotary dimension, shared experts) stays with its reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Architecture sections a spec may leave out; their keys are compared only when it has them.
OPTIONAL_SECTIONS = frozenset({"deltanet", "ffn", "moe", "vision"})


@dataclass(frozen=True)
class ConfigKey:
    key: str  # in the text config (or, for VISION_KEYS, in vision_config)
    field: str  # dotted path under the spec's `architecture`
    compared: bool = True  # False: `init` reads it, validation does not compare it

    @property
    def section(self) -> str | None:
        head = self.field.split(".", 1)[0]
        return head if head in OPTIONAL_SECTIONS else None


# In the order validation reports them.
TEXT_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("num_hidden_layers", "num_layers"),
    ConfigKey("hidden_size", "hidden_size"),
    ConfigKey("vocab_size", "vocab_size"),
    ConfigKey("num_attention_heads", "attention.q_heads"),
    ConfigKey("num_key_value_heads", "attention.kv_heads"),
    ConfigKey("head_dim", "attention.head_dim"),
    ConfigKey("max_position_embeddings", "context.native"),
    ConfigKey("linear_num_value_heads", "deltanet.v_heads"),
    ConfigKey("linear_num_key_heads", "deltanet.qk_heads"),
    ConfigKey("linear_value_head_dim", "deltanet.head_dim"),
    ConfigKey("intermediate_size", "ffn.intermediate_size"),
    ConfigKey("num_experts", "moe.experts"),
    ConfigKey("num_experts_per_tok", "moe.routed"),
    ConfigKey("moe_intermediate_size", "moe.expert_intermediate_size"),
)
VISION_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("depth", "vision.depth"),
    ConfigKey("hidden_size", "vision.hidden_size"),
    ConfigKey("intermediate_size", "vision.intermediate_size", compared=False),
)
# The keys every config states (those of no optional section), plus the layer types.
REQUIRED_TEXT_KEYS = (*(k.key for k in TEXT_KEYS if k.section is None), "layer_types")

_BY_FIELD = {k.field: k.key for k in (*TEXT_KEYS, *VISION_KEYS)}


def config_key(field: str) -> str:
    """The config.json key (in the text or vision config) that states a spec field."""
    return _BY_FIELD[field]


def spec_value(architecture: Any, field: str) -> Any:
    """The spec's value at a dotted `field` path (None when a section is absent)."""
    value = architecture
    for part in field.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def compared_pairs(
    architecture: Any, config: dict[str, Any], keys: tuple[ConfigKey, ...], prefix: str = ""
) -> list[tuple[str, Any, Any, str]]:
    """(config key, its value, the spec's value, spec field) for every key of `keys` to compare:
    those of sections the spec has; for vision keys, only facts the spec states."""
    pairs = []
    for entry in keys:
        if not entry.compared:
            continue
        if entry.section is not None and not getattr(architecture, entry.section, None):
            continue
        wanted = spec_value(architecture, entry.field)
        if entry.section == "vision" and not wanted:
            continue
        pairs.append(
            (prefix + entry.key, config.get(entry.key), wanted, f"architecture.{entry.field}")
        )
    return pairs
