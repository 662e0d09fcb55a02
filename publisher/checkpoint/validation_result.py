"""The result of validating a checkpoint: its findings and the side-by-side table of what the
spec says per component vs what the files hold."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from publisher.checkpoint.formats import QUANTIZED_PRECISIONS
from publisher.checkpoint.precision import WrittenModule
from publisher.findings import Finding, Severity
from publisher.spec.derive import ModelInventory
from publisher.spec.model import ModelSpec
from publisher.spec.profile import ModuleRef, Profile


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
    """What validating a checkpoint against its spec found."""

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


def component_rows(
    spec: ModelSpec, profile: Profile, model: ModelInventory, written: dict[str, WrittenModule]
) -> list[ComponentRow]:
    """One row per component the spec's quantization section lists, then one per component
    it leaves out (kept in BF16)."""
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


def detected_format(modules: Any) -> str:
    """The storage most quantized modules are written in ("bf16" when none is quantized)."""
    storages = Counter(m.storage for m in modules if m.precision in QUANTIZED_PRECISIONS)
    if not storages:
        return "bf16"
    return storages.most_common(1)[0][0] or "unknown"
