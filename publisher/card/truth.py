"""What is true about a model, and where each value comes from: a spec, a checkpoint's
config.json, or a count over its safetensors headers. A card's claims are checked against it.

Every value carries its source (`spec architecture.num_layers`, `config.json
text_config.num_hidden_layers`, `tensors: 24 layer indices in the headers`), so a finding can
say where the true value comes from. Pure data: building from a checkpoint needs only headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from publisher.checkpoint.inventory import CheckpointInventory
from publisher.spec.model import ModelSpec

# Quantization format words a card may use, each mapped to the formats it names.
FORMAT_WORDS: dict[str, frozenset[str]] = {
    "nvfp4": frozenset({"nvfp4"}),
    "mxfp4": frozenset({"mxfp4"}),
    "fp4": frozenset({"nvfp4", "mxfp4"}),
    "fp8": frozenset({"fp8"}),
    "int4": frozenset({"int4"}),
    "w4a16": frozenset({"int4"}),
    "awq": frozenset({"int4"}),
    "gptq": frozenset({"int4", "int8"}),
    "int8": frozenset({"int8"}),
    "w8a8": frozenset({"int8", "fp8"}),
    "gguf": frozenset({"gguf"}),
    "bf16": frozenset({"bf16"}),
}


@dataclass(frozen=True)
class Fact:
    """One true value and where it comes from."""

    value: Any
    source: str


@dataclass
class ModelTruth:
    """Facts by key (layers, hidden_size, heads, kv_heads, head_dim, experts, experts_active,
    context, vocab, params_active, layout, moe, formats, checkpoint_bytes, bf16_bytes,
    deltanet_heads) plus what the component-table check needs (profile, tensor names)."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)
    profile: str | None = None
    tensor_names: frozenset[str] = frozenset()
    tensors: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    storages: tuple[str, ...] = ()
    source_dtype: str = "BF16"
    spec: ModelSpec | None = None

    def add(self, key: str, value: Any, source: str) -> None:
        if value is None or (isinstance(value, bool) and key != "moe"):
            return
        self.facts.setdefault(key, []).append(Fact(value, source))

    def first(self, key: str) -> Fact | None:
        values = self.facts.get(key)
        return values[0] if values else None

    def merge(self, other: ModelTruth) -> None:
        for key, facts in other.facts.items():
            self.facts.setdefault(key, []).extend(facts)
        self.profile = self.profile or other.profile
        self.tensor_names = self.tensor_names or other.tensor_names
        self.tensors = self.tensors or other.tensors
        self.storages = self.storages or other.storages
        self.spec = self.spec or other.spec


# --- from a spec -------------------------------------------------------------------------


def truth_from_spec(spec: ModelSpec) -> ModelTruth:
    from publisher.checkpoint.expectations import STORAGE_BY_SPEC

    truth = ModelTruth(profile=spec.architecture.profile, spec=spec)
    arch = spec.architecture
    a = "spec architecture."
    truth.add("layers", arch.num_layers, a + "num_layers")
    truth.add("hidden_size", arch.hidden_size, a + "hidden_size")
    truth.add("vocab", arch.vocab_size, a + "vocab_size")
    truth.add("heads", arch.attention.q_heads, a + "attention.q_heads")
    truth.add("kv_heads", arch.attention.kv_heads, a + "attention.kv_heads")
    truth.add("head_dim", arch.attention.head_dim, a + "attention.head_dim")
    if arch.deltanet:
        truth.add("deltanet_v_heads", arch.deltanet.v_heads, a + "deltanet.v_heads")
        truth.add("deltanet_qk_heads", arch.deltanet.qk_heads, a + "deltanet.qk_heads")
        truth.add("deltanet_head_dim", arch.deltanet.head_dim, a + "deltanet.head_dim")
    truth.add("context", arch.context.native, a + "context.native")
    if arch.context.extended:
        truth.add("context", arch.context.extended, a + "context.extended")
    truth.add("layout", arch.layout, a + "layout")
    truth.add("moe", arch.moe is not None, a + ("moe" if arch.moe else "ffn (dense)"))
    if arch.moe:
        truth.add("experts", arch.moe.experts, a + "moe.experts")
        truth.add("experts_active", arch.moe.routed, a + "moe.routed")
        if arch.moe.shared:
            truth.add(
                "experts_active", arch.moe.routed + arch.moe.shared, a + "moe.routed + shared"
            )
    truth.add("params_total", arch.parameters.total_count, a + "parameters.total")
    truth.add("params_active", arch.parameters.active_count, a + "parameters.active")
    quant = spec.quantization
    if quant is None:
        truth.add("formats", frozenset({"bf16"}), "spec (no quantization section)")
    else:
        formats = {_family(quant.format)} | {
            _family(e.precision)
            for e in quant.components
            if e.precision in ("nvfp4", "mxfp4", "fp8")
        }
        truth.add("formats", frozenset(formats), "spec quantization.format")
        storages = {STORAGE_BY_SPEC[(quant.format, quant.export_format)]}
        for precision in formats - {_family(quant.format)}:
            storages.add(STORAGE_BY_SPEC.get((precision, quant.export_format), precision))
        truth.storages = tuple(sorted(storages))
    return truth


def _family(fmt: str) -> str:
    """nvfp4 → nvfp4; fp8, fp8_block, fp8 per-channel → fp8; mxfp4 → mxfp4."""
    return "fp8" if fmt.startswith("fp8") else fmt.split("_")[0]


# --- from a checkpoint -------------------------------------------------------------------

_CONFIG_KEYS = (
    ("layers", "num_hidden_layers"),
    ("hidden_size", "hidden_size"),
    ("vocab", "vocab_size"),
    ("heads", "num_attention_heads"),
    ("kv_heads", "num_key_value_heads"),
    ("head_dim", "head_dim"),
    ("context", "max_position_embeddings"),
    ("experts", "num_experts"),
    ("experts", "n_routed_experts"),
    ("experts", "num_local_experts"),
    ("experts_active", "num_experts_per_tok"),
    ("experts_active", "experts_per_token"),
    ("deltanet_v_heads", "linear_num_value_heads"),
    ("deltanet_qk_heads", "linear_num_key_heads"),
    ("deltanet_head_dim", "linear_key_head_dim"),
)
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_EXPERT = re.compile(r"\.experts\.(\d+)\.")
_SCALE_NAME = re.compile(r"(?:_scale(?:_\d+|_inv)?|global_scale|_scale_2)$")


def truth_from_checkpoint(inventory: CheckpointInventory, where: str) -> ModelTruth:
    """Facts from config.json (and the quantization config) and from counting tensors."""
    truth = ModelTruth()
    config = inventory.configs.get("config.json") or {}
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else None
    prefix = "config.json text_config." if text else "config.json "
    inner: Mapping[str, Any] = text or config
    for key, name in _CONFIG_KEYS:
        value = inner.get(name)
        if type(value) is int and value > 0:
            truth.add(key, value, prefix + name)
    if "experts" in truth.facts:
        truth.add("moe", True, prefix + "num_experts")
    elif inner.get("num_hidden_layers"):
        truth.add("moe", False, f"{prefix.strip()} (no expert count: a dense model)")
    model_type = config.get("model_type")
    if isinstance(model_type, str):
        from publisher.spec.profile import available_profiles, load_profile

        truth.profile = next(
            (
                n
                for n in available_profiles()
                if model_type
                in (load_profile(n).model_type, *getattr(load_profile(n), "model_types", []))
            ),
            None,
        )
    _formats_from_configs(truth, inventory.configs)
    names = list(inventory.tensors)
    truth.tensor_names = frozenset(names)
    truth.tensors = {t.name: (t.dtype, t.shape) for t in inventory.tensors.values()}
    layers = {int(m.group(1)) for n in names if (m := _LAYER.search(n)) and "visual" not in n}
    text_layers = {
        int(m.group(1))
        for n in names
        if (m := _LAYER.search(n)) and "visual" not in n and "vision" not in n and "mtp" not in n
    }
    if text_layers and not layers - text_layers:
        truth.add("layers", max(text_layers) + 1, f"tensors: layer indices 0..{max(text_layers)}")
    experts = {int(m.group(1)) for n in names if (m := _EXPERT.search(n))}
    if experts:
        truth.add("experts", max(experts) + 1, f"tensors: expert indices 0..{max(experts)}")
    total = inventory.total_bytes
    if total:
        truth.add("checkpoint_bytes", total, f"the safetensors headers of {where}")
        params = _logical_params(inventory)
        truth.add("params_total", float(params), f"tensors: {params:,} elements in the headers")
        truth.add("bf16_bytes", 2 * params, f"tensors: {params:,} parameters × 2 bytes")
    return truth


def _logical_params(inventory: CheckpointInventory) -> int:
    """Parameters the headers hold: packed FP4 bytes count twice, scales not at all."""
    total = 0
    for t in inventory.tensors.values():
        if _SCALE_NAME.search(t.name):
            continue
        total += t.numel * (2 if t.dtype == "U8" else 1)
    return total


def _formats_from_configs(truth: ModelTruth, configs: Mapping[str, Any]) -> None:
    hf = configs.get("hf_quant_config.json")
    config = configs.get("config.json") or {}
    qc = config.get("quantization_config") if isinstance(config, dict) else None
    formats: set[str] = set()
    source = ""
    if isinstance(hf, dict) and isinstance(hf.get("quantization"), dict):
        algo = str(hf["quantization"].get("quant_algo") or "")
        formats |= _algo_formats(algo, hf["quantization"])
        source = f"hf_quant_config.json quant_algo {algo}"
    elif isinstance(qc, dict):
        method = str(qc.get("quant_method") or "")
        if method == "modelopt":
            algo = str(qc.get("quant_algo") or "")
            formats |= _algo_formats(algo, {})
            source = f"config.json quantization_config.quant_algo {algo}"
        elif method == "compressed-tensors":
            fmt = str(qc.get("format") or "")
            family = _ct_family(fmt)
            if family:
                formats.add(family)
                source = f"config.json quantization_config.format {fmt}"
        elif method:
            formats.add({"fp8": "fp8", "mxfp4": "mxfp4"}.get(method, method))
            source = f"config.json quantization_config.quant_method {method}"
    if formats:
        truth.add("formats", frozenset(formats), source)
    elif config:
        truth.add("formats", frozenset({"bf16"}), "config.json (no quantization_config)")


def _ct_family(fmt: str) -> str | None:
    """compressed-tensors' format name → the family a card names: nvfp4-pack-quantized →
    nvfp4, float-quantized → fp8, pack-quantized → int4; None when it does not say."""
    lowered = fmt.lower()
    for word in ("nvfp4", "mxfp4", "fp8", "int8", "int4"):
        if word in lowered:
            return word
    return {"float-quantized": "fp8", "pack-quantized": "int4", "int-quantized": "int8"}.get(
        lowered
    )


def _algo_formats(algo: str, details: Mapping[str, Any]) -> set[str]:
    if algo == "MIXED_PRECISION":
        layers = details.get("quantized_layers") or {}
        found = {
            str(v.get("quant_algo", "")).lower() for v in layers.values() if isinstance(v, dict)
        }
        return {_family(f) for f in found if f} or {"nvfp4", "fp8"}
    return {_family(algo.lower())} if algo else set()


def format_words(text: str) -> set[str]:
    """Quantization format words in `text` (lowercased keys of FORMAT_WORDS)."""
    found = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in FORMAT_WORDS:
            found.add(word)
    return found


def combine(truths: Iterable[ModelTruth]) -> ModelTruth:
    merged = ModelTruth()
    for truth in truths:
        merged.merge(truth)
    return merged
