"""What precision each module was WRITTEN in, read from the tensors alone (no spec needed).

Shared by validation (spec vs file) and audit (file only). Modules are grouped by name: a
module's tensors are `<module>.<suffix>`; bare parameters (`...linear_attn.A_log`) are their
own module.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from publisher.checkpoint.formats import (
    SCALE_SUFFIXES,
    WEIGHT_SUFFIXES,
    detect_format,
    param_formats,
)
from publisher.checkpoint.inventory import CheckpointInventory, TensorInfo
from publisher.spec.precision_names import REPORT_LABELS

# Suffixes a module's tensors can carry: the weight, its bias, and every quantization scale.
MODULE_SUFFIXES = SCALE_SUFFIXES | WEIGHT_SUFFIXES | {"bias"}
LABELS = REPORT_LABELS  # how reports name a precision
FUSED_SCALE_TAILS = tuple(
    f"{r.joiner}{t.suffix}"
    for r in param_formats()
    for t in r.tensors
    if t.suffix and r.fused is None and r.precision == "nvfp4"
)
FLOAT_PRECISION = {
    "BF16": "bf16",
    "F16": "f16",
    "F32": "f32",
    "F64": "f64",
    "F8_E4M3": "fp8",
    "F8_E5M2": "fp8",
}


class WrittenModule(NamedTuple):
    """A module as found in the files: its precision and the storage format recognised
    (a tuple: a 256-expert checkpoint has 30,000+ modules)."""

    name: str
    precision: str  # nvfp4 | fp8 | bf16 | f16 | f32 | unknown | missing
    storage: str | None  # modelopt_nvfp4 | ct_nvfp4 | fp8 | ct_fp8 | fp8_block | bf16 | None
    tensors: tuple[TensorInfo, ...]
    detail: str = ""


class TensorScan(NamedTuple):
    """One pass over a checkpoint's names: the module groups, the names no group takes, and
    every tensor's last name part (in inventory order), for the counts that need it."""

    groups: dict[str, list[TensorInfo]]
    ungrouped: list[str]
    suffixes: list[str]


def scan_tensors(inventory: CheckpointInventory) -> TensorScan:
    """module name → its tensors (names ending in a known suffix), and from the same pass over
    100,000+ names, the names no module takes and every name's last part."""
    groups: dict[str, list[TensorInfo]] = {}
    ungrouped: list[str] = []
    suffixes: list[str] = []
    keep_suffix = suffixes.append
    shared: dict[str, str] = {}
    one_copy = shared.setdefault  # a dozen distinct suffixes: kept once each, not once a tensor
    for name, tensor in inventory.tensors.items():
        parent, _, suffix = name.rpartition(".")
        keep_suffix(one_copy(suffix, suffix))
        if suffix in MODULE_SUFFIXES and parent:
            groups.setdefault(parent, []).append(tensor)
        else:
            ungrouped.append(name)
    return TensorScan(groups, ungrouped, suffixes)


def module_tensors(inventory: CheckpointInventory, module: str) -> list[TensorInfo]:
    """The tensors `<module>.<suffix>` of one module (a few lookups, no full scan)."""
    tensors = inventory.tensors
    return [t for suffix in MODULE_SUFFIXES if (t := tensors.get(f"{module}.{suffix}")) is not None]


def written_module(name: str, tensors: Iterable[TensorInfo]) -> WrittenModule:
    """Classify one module's tensors (a group from scan_tensors). The classification depends
    only on the suffixes and dtypes, which 30,000 experts repeat: it is worked out once per
    distinct pattern."""
    found = tuple(tensors)
    if not found:
        return WrittenModule(name, "missing", None, found)
    precision, storage, detail = _classify(*_pattern(found))
    return WrittenModule(name, precision, storage, found, detail)


def written_precision(tensors: Sequence[TensorInfo]) -> str:
    """`written_module(...).precision` alone, for the audit of 100,000+ modules."""
    return _classify(*_pattern(tensors))[0] if tensors else "missing"


def _pattern(tensors: Sequence[TensorInfo]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a module's classification depends on: its tensors' suffixes and dtypes."""
    return tuple([t.name.rpartition(".")[2] for t in tensors]), tuple([t.dtype for t in tensors])


@lru_cache(maxsize=4096)
def _classify(suffixes: tuple[str, ...], dtypes: tuple[str, ...]) -> tuple[str, str | None, str]:
    """(precision, storage, detail) of a module whose tensors have these suffixes and dtypes."""
    by_suffix = dict(zip(suffixes, dtypes, strict=True))
    weight = by_suffix.get("weight") or by_suffix.get("weight_packed")
    storage = _storage(frozenset(by_suffix))
    if storage is None and set(by_suffix) <= {"weight", "bias"}:
        storage = "bf16"
    if weight is None:
        return "unknown", storage, "no weight tensor"
    if storage in ("modelopt_nvfp4", "ct_nvfp4"):
        if weight != "U8":
            detail = f"has NVFP4 scales but its weight is {weight}, not packed U8"
            return FLOAT_PRECISION.get(weight, "unknown"), storage, detail
        return "nvfp4", storage, ""
    if storage in ("fp8", "ct_fp8", "fp8_block"):
        if weight not in ("F8_E4M3", "F8_E5M2"):
            detail = f"has FP8 scales but its weight is {weight}"
            return FLOAT_PRECISION.get(weight, "unknown"), storage, detail
        return "fp8", storage, ""
    if storage == "bf16":
        return FLOAT_PRECISION.get(weight, "unknown"), "bf16", ""
    if weight == "U8":  # packed FP4 with a scale missing or added: the tensor check says which
        return "nvfp4", "ct_nvfp4" if "weight_packed" in by_suffix else "modelopt_nvfp4", ""
    if weight in ("F8_E4M3", "F8_E5M2"):
        return "fp8", "fp8_block" if "weight_scale_inv" in by_suffix else "fp8", ""
    extra = ", ".join(sorted(set(by_suffix) - {"weight", "bias"}))
    return FLOAT_PRECISION.get(weight, "unknown"), None, f"unrecognised scale tensors: {extra}"


@lru_cache(maxsize=256)
def _storage(suffixes: frozenset[str]) -> str | None:
    """detect_format, remembered: a 256-expert model repeats the same few suffix sets."""
    return detect_format(suffixes)


def written_param(name: str, inventory: CheckpointInventory) -> WrittenModule:
    """A bare parameter (no .weight suffix), e.g. A_log; or one stored in a param format
    (MXFP4's `gate_up_proj_blocks` + `gate_up_proj_scales` for `gate_up_proj`)."""
    in_format = _param_in_format(name, inventory)
    if in_format is not None:
        return in_format
    tensor = inventory.tensors.get(name)
    if tensor is None:
        return WrittenModule(name, "missing", None, ())
    return WrittenModule(name, FLOAT_PRECISION.get(tensor.dtype, "unknown"), None, (tensor,))


def _param_in_format(name: str, inventory: CheckpointInventory) -> WrittenModule | None:
    """A parameter stored in a param format: some `<param>_<suffix>` tensor of it exists."""
    tensors = inventory.tensors
    for rule in param_formats():
        named = [t for t in rule.tensors if t.suffix]
        if not any(f"{name}{rule.joiner}{t.suffix}" in tensors for t in named):
            continue
        found = tuple(
            t
            for s in rule.tensors
            if (t := tensors.get(f"{name}{rule.joiner}{s.suffix}" if s.suffix else name))
        )
        return WrittenModule(name, rule.precision, rule.name, found)
    return None


def param_format_tensors(inventory: CheckpointInventory) -> dict[str, list[TensorInfo]]:
    """parameter name → its tensors, for parameters stored in a param format (MXFP4)."""
    groups: dict[str, list[TensorInfo]] = {}
    tensors = inventory.tensors
    every_tail = tuple(
        f"{r.joiner}{t.suffix}" for r in param_formats() for t in r.tensors if t.suffix
    )
    candidates = [name for name in tensors if name.endswith(every_tail)]  # one C-level test
    for rule in param_formats():
        tails = [f"{rule.joiner}{t.suffix}" for t in rule.tensors if t.suffix]
        for name in candidates:
            for tail in tails:
                if name.endswith(tail):
                    groups.setdefault(name[: -len(tail)], []).append(tensors[name])
        if any(not t.suffix for t in rule.tensors):  # the parameter itself holds the weights
            for param, group in groups.items():
                base = tensors.get(param)
                if base is not None and base not in group:
                    group.append(base)
    return groups


def logical_parameters(
    inventory: CheckpointInventory, suffixes: list[str] | None = None
) -> tuple[int, int]:
    """(stored elements, logical parameters): the Hub's panel counts a packed U8 byte as one
    element; logically it holds two FP4 weights. Scales are not parameters.

    Tensors are counted by (suffix, dtype, shape), a handful of kinds however many experts;
    only a U8 tensor whose suffix does not say whether it is packed is looked at by name.
    `suffixes`: each tensor's last name part in inventory order, if already split."""
    tensors = inventory.tensors
    if suffixes is None:
        suffixes = [name.rpartition(".")[2] for name in tensors]
    values = list(tensors.values())
    kinds = Counter(zip(suffixes, map(_DTYPE, values), map(_SHAPE, values), strict=True))
    stored = 0
    logical = 0
    by_name: set[tuple[str, tuple[int, ...]]] = set()
    for (suffix, dtype, shape), count in kinds.items():
        numel = math.prod(shape)
        stored += numel * count
        if suffix in SCALE_SUFFIXES:
            continue
        if dtype == "U8" and suffix.endswith("_scales"):  # MXFP4's E8M0 exponents
            continue
        if suffix.endswith(FUSED_SCALE_TAILS):  # a fused parameter's NVFP4 scales
            continue
        if dtype != "U8":
            logical += numel * count
        elif suffix in ("weight", "weight_packed") or suffix.endswith("_blocks"):
            logical += numel * 2 * count
        else:
            by_name.add((suffix, shape))  # packed only if it is a fused parameter's weight
    if by_name:
        for name, tensor, suffix in zip(tensors, values, suffixes, strict=True):
            if tensor.dtype == "U8" and (suffix, tensor.shape) in by_name:
                packed = f"{name}_weight_scale" in tensors  # a fused parameter, packed
                logical += tensor.numel * 2 if packed else tensor.numel
    return stored, logical


_DTYPE = attrgetter("dtype")
_SHAPE = attrgetter("shape")
