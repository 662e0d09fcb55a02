"""Validate a checkpoint against its spec: every module's written precision, every tensor's
dtype and shape, the quantization config and config.json — from the headers alone.

The spec's architecture profile places each module in a component; the spec says whether the
component is quantized (and in which format) or kept in BF16; the format rules give the exact
tensors that must be on disk. Anything else is a finding.
"""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, attrgetter, methodcaller
from pathlib import Path
from typing import Any

from publisher.checkpoint import format_rules
from publisher.checkpoint.config_check import check_config_json
from publisher.checkpoint.formats import (
    QUANTIZED_PRECISIONS,
    FormatError,
    TensorSpec,
    block_format,
    expected_tensors,
    logical_weight_shape,
    param_of,
    precision_of,
)
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.layer_table import (
    QUANTIZED,
    TABLE_PRECISION,
    check_layer_table,
    table_precisions,
)
from publisher.checkpoint.mtp import (
    check_mtp_precision,
    mtp_tensor_names,
    read_side_files,
    without_side_file_strays,
)
from publisher.checkpoint.precision import (
    LABELS,
    MODULE_SUFFIXES,
    WrittenModule,
    module_tensors,
    written_module,
    written_param,
)
from publisher.checkpoint.quant_config import HF_QUANT_FILE, QuantConfig, load_quant_config
from publisher.errors import UsageError
from publisher.findings import Finding, Location, Severity
from publisher.spec.derive import ModelInventory
from publisher.spec.loader import LoadedSpec
from publisher.spec.model import ModelSpec, Quantization
from publisher.spec.profile import ModuleRef, Profile

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
MAX_NAMED = 5
KV_CACHE_SUFFIXES = frozenset({"k_scale", "v_scale"})
_DTYPE = attrgetter("dtype")
_SHAPE = attrgetter("shape")


@dataclass
class ComponentRow:
    """One line of the side-by-side table: what the spec says vs what the files hold."""

    component: str
    label: str
    spec_precision: str
    spec_count: int
    file_counts: dict[str, int] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return (
            self.file_counts.get(self.spec_precision, 0) == self.spec_count
            and len(self.file_counts) == 1
        )


@dataclass
class ValidationReport:
    spec_name: str
    checkpoint: str
    findings: list[Finding]
    components: list[ComponentRow]
    detected_format: str
    mtp_tensors: int
    tensor_count: int
    make_manifest: Callable[[], dict[str, Any]] | None = None

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        """`quantization_audit.json` for this checkpoint (built on first use)."""
        return self.make_manifest() if self.make_manifest else {}

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass
class _Expectation:
    ref: ModuleRef
    precision: str  # nvfp4 | fp8 | bf16 | f16 | f32
    entry_label: str


def expectations(
    spec: ModelSpec, profile: Profile, model: ModelInventory
) -> dict[str, _Expectation]:
    """module name → the precision the spec promises for it (BF16 unless a component says otherwise)."""
    result: dict[str, _Expectation] = {}
    quant = spec.quantization
    if quant is not None:
        for entry in quant.components:
            component = profile.component(entry.component)
            label = entry.label or (component.label if component else entry.component)
            for ref in model.select(entry.component, entry.modules):
                result.setdefault(ref.name, _Expectation(ref, entry.precision, label))
    for ref in model.all_modules():
        if ref.name not in result:
            component = profile.component(ref.component)
            result[ref.name] = _Expectation(
                ref, "bf16", component.label if component else ref.component
            )
    return result


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
    storages = _storages(spec.quantization, qc)
    expected = expectations(spec, profile, model)
    mtp_prefix = profile.mtp_tensor_prefix(spec.architecture.num_layers)
    suspects, extras = _quick_compare(expected, storages, inventory, mtp_prefix)
    mtp_names = mtp_tensor_names(inventory, mtp_prefix)
    extras = [name for name in extras if name not in mtp_names]
    findings += _unshaped(expected, model, where)
    written: dict[str, WrittenModule] = {}
    for name, expectation in expected.items():
        if name not in suspects:  # every tensor exactly as the spec's format says
            written[name] = WrittenModule(
                name, expectation.precision, storages.get(expectation.precision, "bf16"), ()
            )
            continue
        ref = expectation.ref
        found = (
            written_param(name, inventory)
            if ref.kind == "param"
            else written_module(name, module_tensors(inventory, name))
        )
        written[name] = found
        findings.extend(_check_module(expectation, found, storages, where))
    mtp = sorted(mtp_names)
    for name in extras:
        tensor = inventory.tensors[name]
        findings.append(
            Finding(
                "VAL003",
                f"tensor {name} ({tensor.dtype} {list(tensor.shape)}) belongs to no module of the spec's architecture",
                Location(tensor.shard, pointer=name),
            )
        )
    findings += qc_findings
    findings += _check_quant_config(spec, qc, expected, written, inventory)
    findings += check_config_json(spec, inventory.configs.get("config.json"), where)
    findings += _check_mtp(spec, len(mtp), where, mtp_prefix)
    findings += format_rules.check_format_facts(spec.quantization, qc, where)
    moe = spec.architecture.moe
    complete = not extras and all(written[n].precision != "missing" for n in suspects)
    findings += format_rules.check_defects(
        expected,
        written,
        qc,
        inventory,
        spec_experts=moe.experts if moe is not None and complete else None,
    )
    findings += check_mtp_precision(
        mtp_names, {n: m.precision for n, m in written.items()}, qc, inventory
    )
    rows = _component_rows(spec, profile, model, written)
    report = ValidationReport(
        spec_name=spec.name,
        checkpoint=where,
        findings=findings,
        components=rows,
        detected_format=_detected_format(written.values()),
        mtp_tensors=len(mtp),
        tensor_count=inventory.tensor_count,
    )

    def manifest_now() -> dict[str, Any]:
        from publisher.checkpoint.audit import layer_kinds, manifest, result_from_modules

        labels = {c.id: c.label for c in profile.components}
        modules = {name: (expected[name].ref.component, m.precision) for name, m in written.items()}
        kinds = layer_kinds(profile, model.layers)
        audit = result_from_modules(inventory, modules, labels, qc, profile.name, None, kinds)
        return manifest(audit, spec={"file": spec_file, "name": spec.name})

    report.make_manifest = manifest_now
    return report


def _unshaped(
    expected: dict[str, _Expectation], model: ModelInventory, where: str
) -> list[Finding]:
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


def _storages(quant: Quantization | None, qc: QuantConfig | None = None) -> dict[str, str]:
    """precision → the storage its modules take on disk (absent: unquantized, BF16 rules).

    The spec's format decides for its own precision; a module of the other precision (a
    ModelOpt MIXED_PRECISION export's FP8 attention in an NVFP4 model) is stored as the same
    exporter stores that precision. Block-FP8 scales follow the block size the checkpoint's
    config gives (`weight_block_size`), else the spec's `block_size`, else 128 × 128.
    """
    if quant is None:
        return {}
    export = quant.export_format
    storages = {p: STORAGE_BY_SPEC[(p, export)] for p in ("nvfp4", "mxfp4", "fp8")}
    storage = STORAGE_BY_SPEC[(quant.format, export)]
    block = (qc.weight_block_size if qc else None) or quant.block_size
    with contextlib.suppress(FormatError):  # a malformed block: QCFG003 already says so
        storage = block_format(storage, block)
    storages[precision_of(storage)] = storage
    return storages


def _quick_compare(
    expected: dict[str, _Expectation],
    storages: dict[str, str],
    inventory: CheckpointInventory,
    mtp_prefix: str = "mtp.",
) -> tuple[set[str], list[str]]:
    """Compare the whole expected tensor set with the headers, a template at a time.

    Returns the modules that need a closer look (a tensor missing, extra or different, or a
    shape the spec cannot give) and the tensors no module of the spec accounts for. Modules of
    one kind, shape, bias and precision (the 30,720 experts' gate_proj) share one list of
    (suffix, dtype, shape): their tensors are looked up with C-level maps, module by module
    only where one is off. When every expected tensor is present and nothing else is in the
    files, the tensors are not walked at all.
    """
    templates: dict[tuple[Any, ...], list[str]] = {}
    suspects: set[str] = set()
    for name, expectation in expected.items():
        ref = expectation.ref
        if ref.shape is None:
            suspects.add(name)
            continue
        key = (ref.kind, ref.shape, ref.bias, expectation.precision)
        templates.setdefault(key, []).append(name)
    tensors = inventory.tensors
    get = tensors.get
    present = 0
    groups: list[tuple[list[str], tuple[tuple[str, str, tuple[int, ...]], ...]]] = []
    for (kind, shape, bias, precision), names in templates.items():
        storage, source = storages.get(precision, "bf16"), SOURCE_DTYPE.get(precision, "BF16")
        try:
            specs = _expected_suffixes(kind, tuple(shape), bias, storage, source)
        except FormatError:
            suspects.update(names)
            continue
        groups.append((names, specs))
        for suffix, dtype, dims in specs:
            got = list(map(get, map(add, names, repeat(suffix)) if suffix else names))
            missing = got.count(None)
            present += len(got) - missing
            if (
                missing
                or list(map(_DTYPE, got)).count(dtype) != len(got)
                or list(map(_SHAPE, got)).count(dims) != len(got)
            ):
                for name, tensor in zip(names, got, strict=True):
                    if tensor is None or tensor.dtype != dtype or tensor.shape != dims:
                        suspects.add(name)
    mtp = sum(map(methodcaller("startswith", mtp_prefix), tensors))
    if mtp == 0 and present == len(tensors):
        return suspects, []  # every tensor is an expected one: nothing left over
    wanted: set[str] = set()
    for names, specs in groups:
        for suffix, _, _ in specs:
            wanted.update(map(add, names, repeat(suffix)) if suffix else names)
    extras: list[str] = []
    for tensor_name in tensors:
        if tensor_name in wanted or tensor_name.startswith(mtp_prefix):
            continue
        if not tensor_name.isprintable():  # a look-alike such as 'x.weight\r' is no module's
            extras.append(tensor_name)
            continue
        parent, _, suffix = tensor_name.rpartition(".")
        if parent in expected and suffix in MODULE_SUFFIXES:
            suspects.add(parent)  # e.g. scales on a module the spec keeps in BF16
        elif parent in expected and suffix in KV_CACHE_SUFFIXES:
            continue  # FP8 KV-cache scales an export may add to attention projections
        elif tensor_name in expected:
            suspects.add(tensor_name)
        elif (base := param_of(tensor_name)) in expected:
            suspects.add(base)  # e.g. MXFP4 blocks of a parameter the spec keeps in BF16
        else:
            extras.append(tensor_name)
    return suspects, sorted(extras)


def _check_module(
    expectation: _Expectation, found: WrittenModule, storages: dict[str, str], where: str
) -> list[Finding]:
    ref = expectation.ref
    want = expectation.precision
    location = Location(found.tensors[0].shard if found.tensors else where, pointer=ref.name)
    if found.precision == "missing":
        return [
            Finding(
                "VAL006",
                f"module {ref.name} ({expectation.entry_label}) is not in the checkpoint",
                location,
            )
        ]
    if found.precision != want:
        detail = f" ({found.detail})" if found.detail else ""
        return [
            Finding(
                "VAL001",
                f"{ref.name} is written as {LABELS.get(found.precision, found.precision)}{detail} "
                f"but the spec says {LABELS.get(want, want)} ({expectation.entry_label})",
                location,
            )
        ]
    fmt = storages.get(want, "bf16")
    source = SOURCE_DTYPE.get(want, "BF16")
    weight_shape = ref.shape or _file_weight_shape(found, fmt)
    if weight_shape is None:
        return []
    try:
        wanted = _expected(ref.name, ref.kind, tuple(weight_shape), ref.bias, fmt, source)
    except FormatError as error:
        return [Finding("VAL005", f"{ref.name}: {error}", location)]
    actual = {t.name: t for t in found.tensors}
    if len(actual) >= len(wanted) and all(
        (t := actual.get(w.name)) is not None and t.dtype == w.dtype and t.shape == w.shape
        for w in wanted
    ):
        return []  # the common case, checked without building any finding
    problems: list[Finding] = []
    for spec_tensor in wanted:
        tensor = actual.get(spec_tensor.name)
        tensor_location = Location(
            tensor.shard if tensor else location.file, pointer=spec_tensor.name
        )
        if tensor is None:
            problems.append(
                Finding(
                    "VAL002",
                    f"{spec_tensor.name} ({spec_tensor.dtype} {list(spec_tensor.shape)}) is missing",
                    tensor_location,
                )
            )
        elif tensor.dtype != spec_tensor.dtype:
            problems.append(
                Finding(
                    "VAL004",
                    f"{spec_tensor.name} is {tensor.dtype}; {LABELS.get(want, want)} stores it as {spec_tensor.dtype}",
                    tensor_location,
                )
            )
        elif tuple(tensor.shape) != tuple(spec_tensor.shape):
            problems.append(
                format_rules.shape_problem(spec_tensor, tensor, ref, fmt, tensor_location)
            )
    return problems


def _expected(
    module: str, kind: str, shape: tuple[int, ...], bias: bool, fmt: str, source: str
) -> list[TensorSpec]:
    """expected_tensors, with the per-shape rule work remembered (30,000 experts share 3 shapes)."""
    if kind == "param":
        return expected_tensors(module, kind, shape, bias, fmt, source)
    return [
        TensorSpec(f"{module}{suffix}", dtype, dims)
        for suffix, dtype, dims in _expected_suffixes(kind, shape, bias, fmt, source)
    ]


@functools.lru_cache(maxsize=1024)
def _expected_suffixes(
    kind: str, shape: tuple[int, ...], bias: bool, fmt: str, source: str
) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    return tuple(
        (spec.name, spec.dtype, tuple(spec.shape))
        for spec in expected_tensors("", kind, shape, bias, fmt, source)
    )


def _file_weight_shape(found: WrittenModule, fmt: str) -> tuple[int, ...] | None:
    for tensor in found.tensors:
        suffix = tensor.name.rpartition(".")[2]
        if suffix in ("weight", "weight_packed"):
            if fmt != "bf16" and len(tensor.shape) == 2:
                return logical_weight_shape(fmt, tuple(tensor.shape))
            return tuple(tensor.shape)
        if len(found.tensors) == 1:
            return tuple(tensor.shape)
    return None


def _check_quant_config(
    spec: ModelSpec,
    qc: QuantConfig,
    expected: dict[str, _Expectation],
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
    expected: dict[str, _Expectation],
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


def _check_mtp(spec: ModelSpec, mtp_count: int, where: str, prefix: str = "mtp.") -> list[Finding]:
    mtp = spec.architecture.mtp
    if mtp is not None and mtp.shipped and mtp_count == 0:
        return [
            Finding(
                "VAL030",
                f"the spec says MTP weights ship (architecture.mtp.shipped) but there are no {prefix}* tensors; "
                "exports through transformers drop them: copy them from the base checkpoint or set shipped: false",
                Location(where, pointer=f"{prefix}*"),
            )
        ]
    if mtp_count and (mtp is None or not mtp.shipped):
        return [
            Finding(
                "VAL031",
                f"{mtp_count} {prefix}* tensors are in the checkpoint; set architecture.mtp.shipped: true so the card says so",
                Location(where, pointer=f"{prefix}*"),
                Severity.WARNING,
            )
        ]
    return []


def _component_rows(
    spec: ModelSpec, profile: Profile, model: ModelInventory, written: dict[str, WrittenModule]
) -> list[ComponentRow]:
    rows: list[ComponentRow] = []
    entries = spec.quantization.components if spec.quantization else []
    covered: set[str] = set()
    for entry in entries:
        component = profile.component(entry.component)
        refs = model.select(entry.component, entry.modules)
        label = entry.label or (component.label if component else entry.component)
        counts = Counter(written[r.name].precision for r in refs if r.name in written)
        rows.append(ComponentRow(entry.component, label, entry.precision, len(refs), dict(counts)))
        covered.update(r.name for r in refs)
    leftovers: dict[str, list[ModuleRef]] = {}
    for ref in model.all_modules():
        if ref.name not in covered:
            leftovers.setdefault(ref.component, []).append(ref)
    for component_id, refs in leftovers.items():
        component = profile.component(component_id)
        counts = Counter(written[r.name].precision for r in refs)
        rows.append(
            ComponentRow(
                component_id,
                component.label if component else component_id,
                "bf16",
                len(refs),
                dict(counts),
            )
        )
    return rows


def _detected_format(modules: Any) -> str:
    storages = Counter(m.storage for m in modules if m.precision in QUANTIZED_PRECISIONS)
    if not storages:
        return "bf16"
    return storages.most_common(1)[0][0] or "unknown"


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
