"""What the spec promises for each module: its precision (BF16 unless a quantized component
says otherwise), and the storage each precision takes on disk."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass

from publisher.checkpoint.formats import FormatError, block_format, precision_of
from publisher.checkpoint.quant_config import QuantConfig
from publisher.findings import Finding, Location, Severity
from publisher.spec.derive import ModelInventory
from publisher.spec.model import ModelSpec, Quantization
from publisher.spec.profile import ModuleRef, Profile

STORAGE_BY_SPEC = {
    ("nvfp4", "modelopt"): "modelopt_nvfp4",
    ("nvfp4", "compressed-tensors"): "ct_nvfp4",
    ("mxfp4", "modelopt"): "mxfp4",
    ("mxfp4", "compressed-tensors"): "mxfp4",
    ("fp8", "modelopt"): "fp8",
    ("fp8", "compressed-tensors"): "ct_fp8",
    ("fp8_channel", "modelopt"): "fp8_channel",
    ("fp8_channel", "compressed-tensors"): "ct_fp8_channel",
    ("fp8_block", "modelopt"): "fp8_block",
    ("fp8_block", "compressed-tensors"): "fp8_block",
}
SOURCE_DTYPE = {"bf16": "BF16", "f16": "F16", "f32": "F32"}


@dataclass(slots=True)
class Expectation:
    """What the spec promises for one module (slotted: a 256-expert model has 30,000+)."""

    ref: ModuleRef
    precision: str  # nvfp4 | fp8 | bf16 | f16 | f32
    entry_label: str


def expectations(
    spec: ModelSpec, profile: Profile, model: ModelInventory
) -> dict[str, Expectation]:
    """module name → the precision the spec promises for it (BF16 unless a component says otherwise)."""
    result: dict[str, Expectation] = {}
    quant = spec.quantization
    if quant is not None:
        for entry in quant.components:
            component = profile.component(entry.component)
            label = entry.label or (component.label if component else entry.component)
            for ref in model.select(entry.component, entry.modules):
                result.setdefault(ref.name, Expectation(ref, entry.precision, label))
    labels: dict[str, str] = {}
    for component in profile.components:  # the first of an id, as `profile.component` finds
        labels.setdefault(component.id, component.label)
    for ref in model.all_modules():
        if ref.name not in result:
            result[ref.name] = Expectation(ref, "bf16", labels.get(ref.component, ref.component))
    return result


def unshaped(expected: dict[str, Expectation], model: ModelInventory, where: str) -> list[Finding]:
    """VAL201 per component whose shapes the spec cannot give: never checked silently."""
    counts = Counter(e.ref.component for e in expected.values() if e.ref.shape is None)
    return [
        Finding(
            "VAL201",
            f"{count} modules of {component} have no shape from the spec "
            f"(it lacks {', '.join(model.unsupplied.get(component, ['a value']))}); their "
            "shapes are unchecked until the spec gives it",
            Location(where, pointer=component),
            # a part the spec leaves open on purpose (lint's SPEC038) warns; otherwise an error
            Severity.WARNING if component in model.underived else Severity.ERROR,
        )
        for component, count in sorted(counts.items())
    ]


def storages(quant: Quantization | None, qc: QuantConfig | None = None) -> dict[str, str]:
    """precision → the storage its modules take on disk (absent: unquantized, BF16 rules).

    The spec's format decides for its own precision; a module of the other precision (a
    ModelOpt MIXED_PRECISION export's FP8 attention in an NVFP4 model) is stored as the same
    exporter stores that precision. Block-FP8 scales follow the block size the checkpoint's
    config gives (`weight_block_size`), else the spec's `block_size`, else 128 × 128.
    """
    if quant is None:
        return {}
    export = quant.export_format
    result = {p: STORAGE_BY_SPEC[(p, export)] for p in ("nvfp4", "mxfp4", "fp8")}
    storage = STORAGE_BY_SPEC[(quant.format, export)]
    block = (qc.weight_block_size if qc else None) or quant.block_size
    with contextlib.suppress(FormatError):  # a malformed block: QCFG003 already says so
        storage = block_format(storage, block)
    result[precision_of(storage)] = storage
    return result
