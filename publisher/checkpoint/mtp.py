"""Multi-token-prediction (MTP / next-token) weights, wherever a checkpoint stores them.

Where the families put them (data, not code paths):

* under their own prefix: Qwen3.5 / Qwen3-Next write `mtp.*` (`mtp.fc`, `mtp.layers.0.…`);
* as extra decoder layers after the last one: DeepSeek-V3, Kimi-K2, GLM-4.5+ and GLM-5 write
  `num_nextn_predict_layers` layers at index `num_hidden_layers` (`model.layers.61.…` in
  DeepSeek-V3, with `eh_proj`, `enorm`, `hnorm`, `shared_head.*` beside a full decoder layer);
* in a side file the index does not list: published GLM-5.1 NVFP4 checkpoints ship the MTP
  layer in `mtp.safetensors` beside the indexed shards.

An MTP Linear stored BF16 while the quantization config does not exclude it cannot load:
serving engines build the draft layer quantized like the main model (vLLM PR 49187).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from publisher.checkpoint.formats import QUANTIZED_PRECISIONS
from publisher.checkpoint.inventory import CheckpointInventory, TensorInfo
from publisher.checkpoint.precision import LABELS, MODULE_SUFFIXES, written_module
from publisher.checkpoint.quant_config import QuantConfig
from publisher.findings import Finding, Location, Severity

MTP_PREFIXES: tuple[str, ...] = ("mtp.",)
MTP_LAYER_COUNT_KEYS: tuple[str, ...] = ("num_nextn_predict_layers",)
MTP_SIDE_FILES: tuple[str, ...] = ("mtp.safetensors",)
LAYER_INDEX = re.compile(r"(?:^|\.)layers\.(\d+)\.")
UNQUANTIZED = frozenset({"bf16", "f16", "f32"})
MAX_NAMED = 3

MTP_CODES: dict[str, str] = {
    "VAL253": "an MTP layer is stored unquantized but the quantization config does not exclude it",
    "VAL254": "an MTP layer is stored quantized but the quantization config excludes it",
    "CKPT251": "MTP weights are in a side file (mtp.safetensors) the index does not list",
}


def _text_config(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        return {}
    text = config.get("text_config")
    return text if isinstance(text, Mapping) else config


def mtp_layer_range(config: Mapping[str, Any] | None) -> range:
    """Indices of the extra next-token decoder layers config.json announces (may be empty)."""
    text = _text_config(config)
    layers = text.get("num_hidden_layers")
    count = next((text.get(k) for k in MTP_LAYER_COUNT_KEYS if k in text), None)
    if type(layers) is not int or type(count) is not int or count <= 0 or layers <= 0:
        return range(0)
    return range(layers, layers + count)


def is_mtp_name(name: str, extra_layers: range, prefixes: tuple[str, ...] = MTP_PREFIXES) -> bool:
    """Whether a tensor name belongs to the MTP weights (either naming)."""
    if name.startswith(prefixes):
        return True
    if not extra_layers:
        return False
    match = LAYER_INDEX.search(name)
    return match is not None and int(match[1]) in extra_layers


def mtp_tensor_names(
    inventory: CheckpointInventory, profile_prefix: str | None = None
) -> frozenset[str]:
    """Every MTP tensor of a checkpoint, by either naming; `profile_prefix` is where the
    spec's architecture profile says its MTP layers live (`model.layers.61.`)."""
    extra = mtp_layer_range(inventory.configs.get("config.json"))
    prefixes = MTP_PREFIXES + ((profile_prefix,) if profile_prefix else ())
    names = inventory.tensors
    found = {n for n in names if n.startswith(prefixes)}  # one C-level test a name
    if extra:
        found.update(n for n in names if (m := LAYER_INDEX.search(n)) and int(m[1]) in extra)
    return frozenset(found)


def _layer_local(name: str) -> str | None:
    """`model.layers.61.self_attn.q_a_proj` → `self_attn.q_a_proj` (None outside layers)."""
    match = LAYER_INDEX.search(name)
    return name[match.end() :] if match else None


def mtp_modules(
    names: Iterable[str], inventory: CheckpointInventory
) -> dict[str, list[TensorInfo]]:
    """MTP module name → its tensors (`<module>.<suffix>`; anything else is its own module)."""
    modules: dict[str, list[TensorInfo]] = {}
    for name in sorted(names):
        parent, _, suffix = name.rpartition(".")
        key = parent if parent and suffix in MODULE_SUFFIXES else name
        modules.setdefault(key, []).append(inventory.tensors[name])
    return modules


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    more = f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else ""
    return f"{shown}{more}"


def _exclude_hint(names: list[str]) -> str:
    """A wildcard covering the first module's MTP layer: 'model.layers.61*' or 'mtp*'."""
    first = names[0]
    if first.startswith(MTP_PREFIXES):
        return f"'{first.split('.')[0]}*'"
    match = LAYER_INDEX.search(first)
    return f"'{first[: match.end() - 1]}*'" if match else f"'{first}'"


def check_mtp_precision(
    mtp_names: frozenset[str],
    precisions: Mapping[str, str],
    qc: QuantConfig,
    inventory: CheckpointInventory,
) -> list[Finding]:
    """VAL253 / VAL254: MTP modules whose stored precision the quantization config contradicts.

    An MTP Linear is held to the main model's rule for the same module in a decoder layer
    (`self_attn.q_proj`, `mlp.experts.3.down_proj`): when the main model stores that module
    quantized, an engine builds the MTP copy quantized too unless the config excludes it.
    Modules with no counterpart (`eh_proj`, norms, `shared_head`) are not judged.
    """
    if qc.format == "none" or not mtp_names:
        return []
    extra = mtp_layer_range(inventory.configs.get("config.json"))
    quantized_locals = {
        local
        for name, precision in precisions.items()
        if precision in QUANTIZED_PRECISIONS
        and not is_mtp_name(name, extra)
        and (local := _layer_local(name))
    }
    unexcluded: list[str] = []
    excluded: list[str] = []
    found_as: dict[str, str] = {}
    for name, tensors in mtp_modules(mtp_names, inventory).items():
        found = written_module(name, tensors)
        weight = next((t for t in tensors if t.name.endswith((".weight", ".weight_packed"))), None)
        if weight is None or len(weight.shape) < 2:
            continue
        found_as[name] = found.precision
        if found.precision in UNQUANTIZED:
            if _layer_local(name) in quantized_locals and not qc.is_excluded(name):
                unexcluded.append(name)
        elif found.precision in QUANTIZED_PRECISIONS and qc.is_excluded(name):
            excluded.append(name)
    source = str(Path(inventory.root) / (qc.source or "config.json"))
    findings: list[Finding] = []
    if unexcluded:
        label = LABELS.get(found_as[unexcluded[0]], "BF16")
        findings.append(
            Finding(
                "VAL253",
                f"{len(unexcluded):,} MTP modules are stored {label} but the quantization config"
                f" does not exclude them ({_named(unexcluded)}): engines build the MTP layer"
                " quantized like the main model and fail to load it; add"
                f" {_exclude_hint(unexcluded)} to the exclude list or quantize the MTP layer",
                Location(source, pointer=unexcluded[0]),
            )
        )
    if excluded:
        findings.append(
            Finding(
                "VAL254",
                f"{len(excluded):,} MTP modules are stored quantized but the quantization config"
                f" excludes them ({_named(excluded)}): loaders build them unquantized and find"
                " no place for the scales; drop the exclude entry or store them unquantized",
                Location(source, pointer=excluded[0]),
            )
        )
    return findings


def read_side_files(root: Path, inventory: CheckpointInventory) -> list[Finding]:
    """Add the tensors of MTP side files the index does not list (e.g. `mtp.safetensors`) to
    `inventory.tensors` so the MTP rules see them; CKPT251 says where they were found.

    Only files holding nothing but MTP tensors are taken; anything else stays a stray file
    (CKPT038) as the reader reported it.
    """
    from publisher.checkpoint.header import DEFAULT_MAX_HEADER_BYTES
    from publisher.checkpoint.reader import _read_shard

    if inventory.index is None:
        return []
    listed = set(inventory.index.shard_names())
    extra = mtp_layer_range(inventory.configs.get("config.json"))
    findings: list[Finding] = []
    for name in MTP_SIDE_FILES:
        path = root / name
        if name in listed or not path.is_file():
            continue
        shard = _read_shard(root, name, DEFAULT_MAX_HEADER_BYTES)
        if not shard.readable or not shard.tensors:
            continue
        if not all(is_mtp_name(t.name, extra) for t in shard.tensors):
            continue
        fresh = [t for t in shard.tensors if t.name not in inventory.tensors]
        for tensor in fresh:
            inventory.tensors[tensor.name] = tensor
        findings.append(
            Finding(
                "CKPT251",
                f"{name} holds {len(fresh):,} MTP tensors that {inventory.index.source.rsplit('/', 1)[-1]}"
                " does not list; they were checked here, but loaders that read only the"
                " index's files will not see them: list them in the index if the engine needs"
                " the MTP layer",
                Location(str(path)),
                Severity.WARNING,
            )
        )
    return findings


def without_side_file_strays(findings: list[Finding], taken: list[Finding]) -> list[Finding]:
    """`findings` less the reader's CKPT038 ('not named by the index') for the side files
    that CKPT251 (`taken`) now explains."""
    files = {f.location.file for f in taken}
    return [f for f in findings if not (f.code == "CKPT038" and f.location.file in files)]
