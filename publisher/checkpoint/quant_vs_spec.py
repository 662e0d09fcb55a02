"""The checkpoint's quantization config against the spec and the modules as written: its
format and group size (VAL012/VAL013), its per-layer table, and which modules it excludes
(VAL010/VAL011)."""

from __future__ import annotations

from pathlib import Path

from publisher.checkpoint import format_rules
from publisher.checkpoint.expectations import STORAGE_BY_SPEC, Expectation
from publisher.checkpoint.formats import QUANTIZED_PRECISIONS, precision_of
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.layer_table import (
    QUANTIZED,
    TABLE_PRECISION,
    check_layer_table,
    table_precisions,
)
from publisher.checkpoint.precision import LABELS, WrittenModule
from publisher.checkpoint.quant_config import HF_QUANT_FILE, QuantConfig
from publisher.findings import Finding, Location
from publisher.spec.model import ModelSpec, Quantization


def check_quant_config(
    spec: ModelSpec,
    qc: QuantConfig,
    expected: dict[str, Expectation],
    written: dict[str, WrittenModule],
    inventory: CheckpointInventory,
) -> list[Finding]:
    where = inventory.root
    quant = spec.quantization
    source = qc.source or "config.json"
    location = Location(str(Path(where) / source), pointer="quantization_config")
    if quant is None:
        if qc.format != "none":
            return [
                Finding(
                    "VAL012",
                    f"the checkpoint is {qc.format} ({qc.producer}) but the spec has no quantization section",
                    location,
                )
            ]
        return []
    if qc.format == "none":
        return [
            Finding(
                "VAL013",
                "the spec is quantized but the checkpoint has no quantization config (config.json quantization_config / hf_quant_config.json)",
                location,
            )
        ]
    findings: list[Finding] = []
    spec_format = precision_of(STORAGE_BY_SPEC[(quant.format, quant.export_format)])
    if qc.layers is not None:
        findings += _check_table_formats(quant, qc, where)
    elif not str(qc.format).startswith(spec_format):
        findings.append(
            Finding(
                "VAL012",
                f"the quantization config says {qc.format} but the spec says {quant.format}",
                location,
            )
        )
    if quant.group_size and qc.group_size and quant.group_size != qc.group_size:
        findings.append(
            Finding(
                "VAL012",
                f"group_size is {qc.group_size} in the config but {quant.group_size} in the spec",
                location,
            )
        )
    if qc.layers is not None:
        found = {n: m.precision for n, m in written.items() if m.precision != "missing"}
        return findings + check_layer_table(qc, table_precisions(qc, found, inventory), where)
    if qc.format == "mixed" and qc.producer == "modelopt":
        return findings  # MIXED_PRECISION without a usable table: a QCFG finding says why
    return findings + _check_exclusions(qc, expected, written, location.file)


def _check_table_formats(quant: Quantization, qc: QuantConfig, where: str) -> list[Finding]:
    """VAL012 when the formats a MIXED_PRECISION table lists are not the spec's precisions."""
    listed = {TABLE_PRECISION[x.format] for x in qc.layers or () if x.format in TABLE_PRECISION}
    declared = {e.precision for e in quant.components if e.precision in QUANTIZED}
    declared = declared or {"nvfp4" if quant.format == "nvfp4" else "fp8"}
    if listed == declared:
        return []
    source = qc.layers_source or HF_QUANT_FILE
    name = Path(source).name
    pointer = "quantization" if name == HF_QUANT_FILE else "quantization_config"
    location = Location(str(Path(where) / source), pointer=f"{pointer}.quantized_layers")
    spec_side = ", ".join(LABELS[p] for p in sorted(declared))
    message = (
        f"{name} says {qc.layer_summary()}, but the spec's quantized components are"
        f" {spec_side} only: give each component the precision it was exported in, or"
        " re-export in the spec's format"
    )
    return [Finding("VAL012", message, location)]


def _check_exclusions(
    qc: QuantConfig,
    expected: dict[str, Expectation],
    written: dict[str, WrittenModule],
    file: str | None,
) -> list[Finding]:
    """VAL010/VAL011: BF16 modules the config does not exclude, quantized ones it does."""
    findings: list[Finding] = []
    not_excluded: list[str] = []
    wrongly_excluded: list[str] = []
    for name, module in written.items():
        kind = expected[name].ref.kind
        if kind != "linear" and not (kind == "param" and module.precision in QUANTIZED_PRECISIONS):
            continue
        excluded = qc.is_excluded(name)
        if module.precision in ("bf16", "f16", "f32") and not excluded:
            if format_rules.is_router(expected[name].ref):
                continue  # engines build routers unquantized whatever the config says
            not_excluded.append(name)
        elif module.precision in QUANTIZED_PRECISIONS and excluded:
            wrongly_excluded.append(name)
    for name in not_excluded:
        findings.append(
            Finding(
                "VAL010",
                f"{name} is stored unquantized but the quantization config does not exclude it; "
                "loaders will expect quantized tensors",
                Location(file, pointer=name),
            )
        )
    for name in wrongly_excluded:
        findings.append(
            Finding(
                "VAL011",
                f"{name} is quantized but the quantization config excludes it; loaders will read it as unquantized",
                Location(file, pointer=name),
            )
        )
    return findings
