"""Validate a checkpoint against its spec: every module's written precision, every tensor's
dtype and shape, the quantization config and config.json — from the headers alone.

The spec's architecture profile places each module in a component; the spec says whether the
component is quantized (and in which format) or kept in BF16; the format rules give the exact
tensors that must be on disk. Anything else is a finding.

This module assembles the steps; each lives where its job is: what the spec promises
(`expectations`), the header comparison (`module_compare`), the quantization config against
the spec (`quant_vs_spec`), config.json (`config_check`), MTP weights (`mtp`), the loader
defect rules (`format_rules`) and the report (`validation_result`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from publisher.checkpoint import format_rules
from publisher.checkpoint.config_check import check_config_json
from publisher.checkpoint.expectations import (
    SOURCE_DTYPE,
    STORAGE_BY_SPEC,
    Expectation,
    expectations,
    storages,
    unshaped,
)
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.module_compare import KV_CACHE_SUFFIXES, check_module, quick_compare
from publisher.checkpoint.mtp import (
    check_mtp_precision,
    check_mtp_shipped,
    mtp_tensor_names,
    read_side_files,
    without_side_file_strays,
)
from publisher.checkpoint.precision import (
    WrittenModule,
    module_tensors,
    written_module,
    written_param,
)
from publisher.checkpoint.quant_config import QuantConfig, load_quant_config
from publisher.checkpoint.quant_vs_spec import check_quant_config
from publisher.checkpoint.validation_result import (
    ComponentRow,
    ValidationReport,
    component_rows,
    detected_format,
)
from publisher.errors import UsageError
from publisher.findings import Finding, Location
from publisher.spec.derive import ModelInventory
from publisher.spec.loader import LoadedSpec
from publisher.spec.model import ModelSpec
from publisher.spec.profile import Profile

__all__ = [
    "CODES",
    "KV_CACHE_SUFFIXES",
    "SOURCE_DTYPE",
    "STORAGE_BY_SPEC",
    "ComponentRow",
    "Expectation",
    "ValidationReport",
    "expectations",
    "validate_checkpoint",
    "validate_inventory",
    "validate_read",
]

CODES: dict[str, str] = {
    "VAL001": "a module's written precision differs from the spec",
    "VAL002": "a tensor the spec's format requires is missing",
    "VAL003": "a tensor in the checkpoint that no module of the spec accounts for",
    "VAL004": "a tensor has the wrong dtype for its module's precision",
    "VAL005": "a tensor has the wrong shape (for quantized weights: the packing is wrong)",
    "VAL006": "a module of the architecture is missing from the checkpoint",
    "VAL010": "a module left in BF16 is not excluded by the quantization config",
    "VAL011": "the quantization config excludes a module that is quantized (or its MIXED_PRECISION quantized_layers does not list it)",
    "VAL012": "the quantization config's format or group size disagrees with the spec",
    "VAL013": "a quantized spec but no quantization config in the checkpoint",
    "VAL014": "MIXED_PRECISION quantized_layers lists a module in another format than its tensors",
    "VAL015": "MIXED_PRECISION quantized_layers lists a module the checkpoint does not have",
    "VAL020": "config.json disagrees with the spec's architecture",
    "VAL030": "the spec says MTP weights ship, but the checkpoint has no mtp.* tensors",
    "VAL031": "the checkpoint carries mtp.* tensors the spec does not mention",
    "VAL201": "modules whose shapes the spec cannot give (a value the profile needs is missing)",
}


def validate_inventory(
    spec: ModelSpec,
    profile: Profile,
    model: ModelInventory,
    inventory: CheckpointInventory,
    *,
    spec_file: str,
    read_findings: list[Finding] | None = None,
) -> ValidationReport:
    """Compare a checkpoint inventory (local or remote) with the spec. Pure: no I/O."""
    from publisher.checkpoint.header import gc_paused

    with gc_paused():  # 100,000+ small objects and no cycles: skip the collector's passes
        return _validate_inventory(spec, profile, model, inventory, spec_file, read_findings)


def _validate_inventory(
    spec: ModelSpec,
    profile: Profile,
    model: ModelInventory,
    inventory: CheckpointInventory,
    spec_file: str,
    read_findings: list[Finding] | None,
) -> ValidationReport:
    where = inventory.root
    findings: list[Finding] = list(read_findings or [])
    qc, qc_findings = load_quant_config(
        inventory.configs.get("config.json"), inventory.configs.get("hf_quant_config.json")
    )
    precision_storages = storages(spec.quantization, qc)
    expected = expectations(spec, profile, model)
    mtp_prefix = profile.mtp_tensor_prefix(spec.architecture.num_layers)
    suspects, extras = quick_compare(expected, precision_storages, inventory, mtp_prefix)
    mtp_names = mtp_tensor_names(inventory, mtp_prefix)
    extras = [name for name in extras if name not in mtp_names]
    findings += unshaped(expected, model, where)
    written, module_findings = _written_modules(expected, suspects, precision_storages, inventory)
    findings += module_findings
    findings += _strays(extras, inventory)
    findings += qc_findings
    findings += check_quant_config(spec, qc, expected, written, inventory)
    findings += check_config_json(spec, inventory.configs.get("config.json"), where)
    findings += check_mtp_shipped(spec, len(mtp_names), where, mtp_prefix)
    findings += format_rules.check_format_facts(spec.quantization, qc, where)
    complete = not extras and all(written[n].precision != "missing" for n in suspects)
    findings += _loader_defects(spec, expected, written, qc, inventory, complete)
    findings += check_mtp_precision(
        mtp_names, {n: m.precision for n, m in written.items()}, qc, inventory
    )
    report = ValidationReport(
        spec_name=spec.name,
        checkpoint=where,
        findings=findings,
        components=component_rows(spec, profile, model, written),
        detected_format=detected_format(written.values()),
        mtp_tensors=len(mtp_names),
        tensor_count=inventory.tensor_count,
    )
    report.make_manifest = _manifest_maker(
        spec, profile, model, inventory, qc, expected, written, spec_file
    )
    return report


def _written_modules(
    expected: dict[str, Expectation],
    suspects: set[str],
    precision_storages: dict[str, str],
    inventory: CheckpointInventory,
) -> tuple[dict[str, WrittenModule], list[Finding]]:
    """How each module is written, and what is off in those the quick comparison flagged;
    a module it found exactly as the spec's format says is taken as the spec says."""
    written: dict[str, WrittenModule] = {}
    findings: list[Finding] = []
    for name, expectation in expected.items():
        if name not in suspects:  # every tensor exactly as the spec's format says
            written[name] = WrittenModule(
                name,
                expectation.precision,
                precision_storages.get(expectation.precision, "bf16"),
                (),
            )
            continue
        ref = expectation.ref
        found = (
            written_param(name, inventory)
            if ref.kind == "param"
            else written_module(name, module_tensors(inventory, name))
        )
        written[name] = found
        findings.extend(check_module(expectation, found, precision_storages, inventory.root))
    return written, findings


def _strays(extras: list[str], inventory: CheckpointInventory) -> list[Finding]:
    """VAL003 for each tensor no module of the spec accounts for."""
    findings: list[Finding] = []
    for name in extras:
        tensor = inventory.tensors[name]
        findings.append(
            Finding(
                "VAL003",
                f"tensor {name} ({tensor.dtype} {list(tensor.shape)}) belongs to no module of the spec's architecture",
                Location(tensor.shard, pointer=name),
            )
        )
    return findings


def _loader_defects(
    spec: ModelSpec,
    expected: dict[str, Expectation],
    written: dict[str, WrittenModule],
    qc: QuantConfig,
    inventory: CheckpointInventory,
    complete: bool,
) -> list[Finding]:
    """The format rules for defects that stop loaders; the expert count is checked only when
    every module the spec derives was found and nothing else was."""
    moe = spec.architecture.moe
    return format_rules.check_defects(
        expected,
        written,
        qc,
        inventory,
        spec_experts=moe.experts if moe is not None and complete else None,
    )


def _manifest_maker(
    spec: ModelSpec,
    profile: Profile,
    model: ModelInventory,
    inventory: CheckpointInventory,
    qc: QuantConfig,
    expected: dict[str, Expectation],
    written: dict[str, WrittenModule],
    spec_file: str,
) -> Callable[[], dict[str, Any]]:
    """Builds `quantization_audit.json` from what validation found, when first asked for."""

    def manifest_now() -> dict[str, Any]:
        from publisher.checkpoint.audit import layer_kinds, manifest, result_from_modules

        labels = {c.id: c.label for c in profile.components}
        modules = {name: (expected[name].ref.component, m.precision) for name, m in written.items()}
        kinds = layer_kinds(profile, model.layers)
        audit = result_from_modules(inventory, modules, labels, qc, profile.name, None, kinds)
        return manifest(audit, spec={"file": spec_file, "name": spec.name})

    return manifest_now


def validate_read(
    spec: ModelSpec,
    inventory: CheckpointInventory,
    read_findings: list[Finding],
    *,
    spec_file: str,
) -> ValidationReport:
    """Derive what the spec implies, then compare it with a checkpoint already read (from a
    folder or from the Hub's headers): the one assembly every caller goes through."""
    from publisher.spec.lint import derive_inventory

    profile, model = derive_inventory(spec)
    return validate_inventory(
        spec, profile, model, inventory, spec_file=spec_file, read_findings=read_findings
    )


def validate_checkpoint(loaded: LoadedSpec, checkpoint: Path) -> ValidationReport:
    """Read a local checkpoint folder's headers and validate them against a loaded spec.

    Raises CheckpointError when the folder holds no checkpoint at all, UsageError when the spec
    did not load (lint it first).
    """
    from publisher.checkpoint.integrity import check_checkpoint

    if loaded.spec is None:
        raise UsageError(f"{loaded.path} did not load; lint it first")
    inventory, read_findings = check_checkpoint(checkpoint)
    side_files = read_side_files(Path(inventory.root), inventory)  # e.g. mtp.safetensors
    if side_files:
        read_findings = without_side_file_strays(read_findings, side_files) + side_files
    return validate_read(loaded.spec, inventory, read_findings, spec_file=loaded.path.name)
