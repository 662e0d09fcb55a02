"""A MIXED_PRECISION config's per-layer table (`quantized_layers`) against the tensors.

ModelOpt 0.47 lists every quantized module in `quantized_layers` with its own quant_algo and
writes no `exclude_modules`, so a module the table does not list is unquantized (FACTS.md
section 7). Hence: each listed module must exist and be written in its listed format (VAL014,
VAL015), and each module written quantized must be listed (VAL011). Used by validate and audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.precision import LABELS, module_tensors, written_module
from publisher.checkpoint.quant_config import HF_QUANT_FILE, QuantConfig, QuantLayer
from publisher.findings import Finding, Location

# table format → the written precision (precision.py) its modules must have
TABLE_PRECISION = {"nvfp4": "nvfp4", "fp8": "fp8", "fp8_channel": "fp8", "fp8_block": "fp8"}
QUANTIZED = frozenset({"nvfp4", "fp8"})


def table_precisions(
    qc: QuantConfig, found: Mapping[str, str], inventory: CheckpointInventory
) -> dict[str, str]:
    """`found` (module → written precision) plus every listed module it lacks, read from the
    headers (a listed module outside the spec's architecture, or an mtp.* one)."""
    out = dict(found)
    for layer in qc.layers or ():
        if layer.module not in out:
            module = written_module(layer.module, module_tensors(inventory, layer.module))
            if module.precision != "missing":
                out[layer.module] = module.precision
    return out


def check_layer_table(qc: QuantConfig, written: Mapping[str, str], folder: str) -> list[Finding]:
    """Findings where the table and the written precisions (module → precision) disagree."""
    if qc.layers is None:
        return []
    name = Path(qc.layers_source or HF_QUANT_FILE).name
    file = str(Path(folder) / (qc.layers_source or HF_QUANT_FILE))
    findings = [
        finding
        for layer in qc.layers
        if (finding := _listed(layer, written.get(layer.module, "missing"), name, file))
    ]
    findings += _unlisted(qc, written, name, file)
    return findings


def _label(precision: str) -> str:
    return LABELS.get(precision, precision.upper())


def _listed(layer: QuantLayer, precision: str, name: str, file: str) -> Finding | None:
    """A listed module that is missing, or written in another format than listed."""
    where = Location(file, pointer=layer.module)
    algo = layer.algo or "?"
    if precision == "missing":
        message = (
            f"{name} lists {layer.module} ({algo}) in quantized_layers but the checkpoint has no"
            " such module: remove the entry, or write the module's name as it is on disk"
        )
        return Finding("VAL015", message, where)
    want = TABLE_PRECISION.get(layer.format)
    if want is None or precision == want:
        return None  # an algorithm publisher does not check, or agreement
    fix = (
        f"set its quant_algo to {_label(precision)}"
        if precision in QUANTIZED
        else "remove the entry (the module is unquantized)"
    )
    message = (
        f"{name} lists {layer.module} as {algo} but its tensors are {_label(precision)}:"
        f" {fix}, or re-export the module as {algo}"
    )
    return Finding("VAL014", message, where)


def _unlisted(qc: QuantConfig, written: Mapping[str, str], name: str, file: str) -> list[Finding]:
    """Quantized modules the table leaves out (or an exclude pattern covers)."""
    findings = []
    for module, precision in sorted(written.items()):
        if precision not in QUANTIZED:
            continue
        label = _label(precision)
        if qc.layer(module) is None:
            message = (
                f"{module} is written as {label} but {name} does not list it in"
                f" quantized_layers, so loaders will read it as unquantized: add it with"
                f' "quant_algo": "{label}"'
            )
        elif qc.excluded_by_pattern(module):
            message = (
                f"{module} is written as {label} and listed in quantized_layers, but {name}'s"
                " exclude_modules also excludes it: remove it from exclude_modules"
            )
        else:
            continue
        findings.append(Finding("VAL011", message, Location(file, pointer=module)))
    return findings
