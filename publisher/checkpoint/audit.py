"""Audit a checkpoint without a spec: which modules stayed BF16 and which were quantized.

The architecture comes from config.json (model_type → profile, dimensions → derived modules),
so modules group into the same components a spec uses. Checkpoints of an unknown family are
still audited, grouped by module name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from publisher import __version__
from publisher.checkpoint.formats import QUANTIZED_PRECISIONS
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.layer_table import check_layer_table, table_precisions
from publisher.checkpoint.mtp import mtp_tensor_names
from publisher.checkpoint.precision import (
    TensorScan,
    WrittenModule,
    logical_parameters,
    param_format_tensors,
    scan_tensors,
    written_param,
    written_precision,
)
from publisher.checkpoint.quant_config import QuantConfig, load_quant_config
from publisher.findings import Finding
from publisher.report import printable

MANIFEST_NAME = "quantization_audit.json"
MANIFEST_VERSION = 1
LAYER = re.compile(r"\.layers\.(\d+)\.")
MTP_COMPONENT = "mtp (next-token layers)"


@dataclass
class ComponentSummary:
    component: str
    label: str
    counts: dict[str, int]


@dataclass
class AuditResult:
    root: str
    profile: str | None
    quant_config: QuantConfig
    modules: dict[str, tuple[str, str]]  # module → (component, precision)
    components: list[ComponentSummary]
    matrix_header: list[str]
    matrix: list[tuple[int, list[str]]]  # (layer, cell per component)
    tensors_by_dtype: dict[str, int]
    bytes_by_dtype: dict[str, int]
    stored_elements: int
    logical_parameters: int
    mtp_tensors: int
    findings: list[Finding] = field(default_factory=list)
    # Why config.json gave no architecture (modules are then grouped by name); None if it did.
    unrecognised: str | None = None
    # layer → (mixer label, feed-forward label), from the architecture profile (empty without one)
    layer_kinds: dict[int, tuple[str, str]] = field(default_factory=dict)
    mtp_modules: dict[str, str] = field(default_factory=dict)  # mtp.* module → precision

    @property
    def detected_format(self) -> str:
        precisions = Counter(p for _, p in self.modules.values() if p in QUANTIZED_PRECISIONS)
        if not precisions:
            return "bf16"
        return precisions.most_common(1)[0][0]


def audit_inventory(inventory: CheckpointInventory) -> AuditResult:
    """Classify every module of a checkpoint by component and written precision."""
    qc, findings = load_quant_config(
        inventory.configs.get("config.json"), inventory.configs.get("hf_quant_config.json")
    )
    config = inventory.configs.get("config.json") or {}
    profile_name, refs, labels, unrecognised, kinds = _architecture_modules(config)
    scan = scan_tensors(inventory)
    groups = scan.groups
    modules: dict[str, tuple[str, str]] = {}
    if refs:
        for name, (component, kind) in refs.items():
            precision = (
                written_param(name, inventory).precision
                if kind == "param"
                else written_precision(groups.get(name, ()))
            )
            if precision != "missing":
                modules[name] = (component, precision)
    known = set(modules)
    mtp = mtp_tensor_names(inventory)
    in_param_format = param_format_tensors(inventory)
    for name in in_param_format:  # MXFP4 `<param>_blocks` / `_scales`: one module each
        if name not in known and not name.startswith("mtp."):
            modules[name] = (_fallback_component(name), written_param(name, inventory).precision)
    taken = {t.name for tensors in in_param_format.values() for t in tensors}
    for name, tensors in groups.items():
        if name not in known and not name.startswith("mtp."):
            component = MTP_COMPONENT if tensors[0].name in mtp else _fallback_component(name)
            modules[name] = (component, written_precision(tensors))
    for name in scan.ungrouped:  # a grouped tensor's parent is its group: nothing to add
        parent = name.rpartition(".")[0]
        if name in taken or name in known or parent in groups or name.startswith("mtp."):
            continue
        component = MTP_COMPONENT if name in mtp else _fallback_component(name)
        modules[name] = (component, written_param(name, inventory).precision)
    if qc.layers is not None:
        written = table_precisions(qc, {n: p for n, (_, p) in modules.items()}, inventory)
        findings += check_layer_table(qc, written, inventory.root)
    findings += file_defects(modules, mtp, qc, inventory, scan)
    result = result_from_modules(
        inventory, modules, labels, qc, profile_name, findings, kinds, mtp, scan.suffixes
    )
    result.unrecognised = unrecognised
    result.layer_kinds = dict(enumerate(kinds))
    result.mtp_modules = {
        name: written_precision(groups[name])
        for name in sorted(name for name in groups if name.startswith("mtp."))
    }
    return result


def file_defects(
    modules: dict[str, tuple[str, str]],
    mtp: frozenset[str],
    qc: QuantConfig,
    inventory: CheckpointInventory,
    scan: TensorScan | None = None,
) -> list[Finding]:
    """Loader defects the files and their configs show without a spec: MTP layers the config
    contradicts (VAL253/254), quantized routers (VAL255), expert counts (VAL256)."""
    from publisher.checkpoint import format_rules
    from publisher.checkpoint.mtp import check_mtp_precision

    precisions = {name: precision for name, (_, precision) in modules.items()}
    routers = sorted(
        name
        for name, precision in precisions.items()
        if name.endswith(format_rules.ROUTER_ENDINGS)
        and precision in QUANTIZED_PRECISIONS
        and format_rules.router_by_name(name)
    )
    return (
        check_mtp_precision(mtp, precisions, qc, inventory)
        + format_rules.quantized_routers(routers, precisions, inventory)
        + format_rules.check_expert_counts(inventory, scan)
    )


def result_from_modules(
    inventory: CheckpointInventory,
    modules: dict[str, tuple[str, str]],
    labels: dict[str, str],
    qc: QuantConfig,
    profile_name: str | None,
    findings: list[Finding] | None = None,
    layer_kinds: list[tuple[str, str]] | None = None,
    mtp: frozenset[str] | None = None,
    suffixes: list[str] | None = None,
) -> AuditResult:
    """Summaries, the layer matrix and the counts, for modules already classified.

    `layer_kinds` (mixer label, feed-forward label) per layer adds the matrix's `mixer` and
    `ffn` columns, so dense and MoE layers show apart. `mtp` (the MTP tensor names) and
    `suffixes` (`scan_tensors`') are reused when the caller has them."""
    summaries = _summaries(modules, labels)
    header, matrix = _matrix(modules, [s.component for s in summaries])
    if layer_kinds:
        header = ["mixer", "ffn", *header]
        matrix = [
            (layer, [*(layer_kinds[layer] if layer < len(layer_kinds) else ("·", "·")), *cells])
            for layer, cells in matrix
        ]
    stored, logical = logical_parameters(inventory, suffixes)
    counts, sizes = inventory.dtype_totals()
    return AuditResult(
        root=inventory.root,
        profile=profile_name,
        quant_config=qc,
        modules=dict(sorted(modules.items())),
        components=summaries,
        matrix_header=header,
        matrix=matrix,
        tensors_by_dtype=dict(sorted(counts.items())),
        bytes_by_dtype=dict(sorted(sizes.items())),
        stored_elements=stored,
        logical_parameters=logical,
        mtp_tensors=len(mtp_tensor_names(inventory) if mtp is None else mtp),
        findings=list(findings or []),
    )


def _architecture_modules(
    config: dict[str, Any],
) -> tuple[
    str | None, dict[str, tuple[str, str]], dict[str, str], str | None, list[tuple[str, str]]
]:
    """(profile name, module → (component, kind), component → label, None, per-layer kinds)
    from config.json; when it gives no architecture: (None, {}, {}, why, [])."""
    from pydantic import ValidationError

    from publisher.spec.derive import derive
    from publisher.spec.from_config import architecture_fields
    from publisher.spec.layout import LayoutError
    from publisher.spec.model import Architecture
    from publisher.spec.profile import ProfileNotFound, load_profile

    if not config:
        return None, {}, {}, "there is no config.json", []
    model_type = printable(str(config.get("model_type", "")))[:60]
    try:
        fields = architecture_fields(config)
        fields["parameters"] = {"total": "1"}
        fields = {k: v for k, v in fields.items() if v is not None}
        profile = load_profile(str(fields.get("profile", "")))
        arch = Architecture.model_validate(fields)
        model = derive(arch, profile)
    except ProfileNotFound as error:
        return None, {}, {}, f"config.json model_type '{model_type}': {error}", []
    except ValidationError as error:
        return (
            None,
            {},
            {},
            f"config.json does not describe a spec architecture: {first_validation_problem(error)}",
            [],
        )
    except (LayoutError, ValueError) as error:  # the layout or a derived count does not hold
        return None, {}, {}, f"config.json's architecture does not derive: {error}", []
    refs: dict[str, tuple[str, str]] = {
        ref.name: (ref.component, ref.kind) for ref in model.all_modules()
    }
    labels = {
        c.id: (f"{c.label.removesuffix(' (all)')}, other modules" if c.include else c.label)
        for c in profile.components
    }
    return profile.name, refs, labels, None, layer_kinds(profile, model.layers)


def layer_kinds(profile: Any, layers: list[Any]) -> list[tuple[str, str]]:
    """(mixer label, 'dense' / 'MoE' / '·') per layer, for the layer matrix."""
    ffn_label = {"dense": "dense", "moe": profile.moe_label, "none": "·"}
    return [(profile.mixers[x.mixer].label, ffn_label.get(x.ffn, x.ffn)) for x in layers]


def first_validation_problem(error: Any) -> str:
    """The first problem of a pydantic ValidationError, as `field: message`."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"architecture.{where}: {problem['msg']}" if where else str(problem["msg"])


def _fallback_component(name: str) -> str:
    """A component name for modules no profile explains: the name without numbers."""
    return re.sub(r"\.\d+\.", ".*.", name)


def _summaries(
    modules: dict[str, tuple[str, str]], labels: dict[str, str]
) -> list[ComponentSummary]:
    counts: dict[str, dict[str, int]] = {}
    for (component, precision), n in Counter(modules.values()).items():  # counted in C
        counts.setdefault(component, {})[precision] = n
    order = [c for c in labels if c in counts] + sorted(c for c in counts if c not in labels)
    return [ComponentSummary(c, labels.get(c, c), counts[c]) for c in order]


CELL = {"nvfp4": "Q4", "mxfp4": "M4", "fp8": "Q8", "bf16": "B", "f16": "H", "f32": "F"}


def _matrix(
    modules: dict[str, tuple[str, str]], order: list[str]
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """One row per layer, one column per per-layer component: which precision(s) it holds."""
    cells: dict[int, dict[str, set[str]]] = {}
    layers = map(LAYER.search, modules)  # one C-level regex search per module
    for layer, (component, precision) in Counter(
        zip(map(_layer_number, layers), modules.values(), strict=True)
    ):
        if layer is not None:
            cells.setdefault(layer, {}).setdefault(component, set()).add(precision)
    columns = [c for c in order if any(c in row for row in cells.values())]
    rows = []
    for layer in sorted(cells):
        row = []
        for component in columns:
            found = cells[layer].get(component)
            row.append("·" if not found else "/".join(CELL.get(p, p) for p in sorted(found)))
        rows.append((layer, row))
    return columns, rows


def _layer_number(match: re.Match[str] | None) -> int | None:
    return int(match[1]) if match else None


def manifest(result: AuditResult, spec: dict[str, str] | None = None) -> dict[str, Any]:
    """The `quantization_audit.json` published beside the weights."""
    data: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "tool": {"name": "publisher", "version": __version__},
        "format": result.detected_format,
        "quant_config": {
            "format": result.quant_config.format,
            "producer": result.quant_config.producer,
            "producer_version": result.quant_config.producer_version,
            "group_size": result.quant_config.group_size,
            **_layer_counts(result.quant_config),
        },
        "tensors_by_dtype": result.tensors_by_dtype,
        "bytes_by_dtype": result.bytes_by_dtype,
        "parameters": {
            "stored_elements": result.stored_elements,
            "logical": result.logical_parameters,
        },
        "components": [
            {"component": s.component, "label": s.label, "counts": dict(sorted(s.counts.items()))}
            for s in result.components
        ],
        "modules": {
            name: {"component": c, "precision": p} for name, (c, p) in result.modules.items()
        },
        "mtp_tensors": result.mtp_tensors,
    }
    if spec:
        data["spec"] = spec
    return data


def _layer_counts(qc: QuantConfig) -> dict[str, Any]:
    """{"quantized_layers": {algo: count}} for a MIXED_PRECISION config, else nothing."""
    return {} if qc.layers is None else {"quantized_layers": qc.layer_counts()}


def verify_manifest(expected: dict[str, Any], result: AuditResult, source: str) -> list[Finding]:
    """Re-check a checkpoint against a published manifest: every module's precision."""
    from publisher.findings import Location

    findings: list[Finding] = []
    modules = expected.get("modules")
    if not isinstance(modules, dict):
        return [
            Finding(
                "AUD001",
                "the manifest has no 'modules' object; it was not written by publisher audit",
                Location(source),
            )
        ]
    for name, entry in sorted(modules.items()):
        want = entry.get("precision") if isinstance(entry, dict) else None
        got = result.modules.get(name, (None, "missing"))[1]
        if want != got:
            findings.append(
                Finding(
                    "AUD002",
                    f"{name} is {got} in the checkpoint but {want} in the manifest",
                    Location(source, pointer=name),
                )
            )
    for name in sorted(set(result.modules) - set(modules)):
        findings.append(
            Finding(
                "AUD003",
                f"{name} is in the checkpoint but not in the manifest",
                Location(source, pointer=name),
            )
        )
    return findings


def compare(before: AuditResult, after: AuditResult) -> list[tuple[str, str, str]]:
    """Modules whose precision differs between two checkpoints: (module, before, after)."""
    changes = []
    for name in sorted(set(before.modules) | set(after.modules)):
        a = before.modules.get(name, ("", "missing"))[1]
        b = after.modules.get(name, ("", "missing"))[1]
        if a != b:
            changes.append((name, a, b))
    return changes


AUDIT_CODES: dict[str, str] = {
    "AUD001": "the manifest is not a publisher quantization audit",
    "AUD002": "a module's precision differs from the published manifest",
    "AUD003": "a module in the checkpoint is missing from the manifest",
}

__all__ = [
    "AUDIT_CODES",
    "MANIFEST_NAME",
    "AuditResult",
    "WrittenModule",
    "audit_inventory",
    "compare",
    "manifest",
    "verify_manifest",
]
