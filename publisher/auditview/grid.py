"""The precision map as data: layers × components, each cell the precisions its modules were
written in. Built from an audit's result (module → component, precision) and nothing else, so
every architecture profile and every format the audit knows draws without code here.

- The main grid is the largest stack of numbered layers (`….layers.N.…`); its rows are the
  components that repeat per layer, its columns the layers.
- Modules of a cell that repeat under a second number (routed experts: `…experts.E.…`) are
  counted as groups ("256 experts"), not drawn one by one; a cell whose modules differ keeps
  the runs of precisions in their order, so the experts that differ can be seen.
- Everything else is a panel of bars, one per component: the modules outside the layers, each
  other numbered stack (a vision encoder's blocks) and the MTP head, each apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from publisher.auditview.palette import order_key, swatch

if TYPE_CHECKING:
    from publisher.checkpoint.audit import AuditResult

LAYER = re.compile(r"\.layers\.(\d+)\.")
NUMBERED = re.compile(r"\.(\d+)(?:\.|$)")
GROUP = re.compile(r"([A-Za-z_]\w*)\.(\d+)\.")
MTP = "mtp."
MAX_RUNS = 12  # beyond this many alternations, a cell shows its precisions' shares instead


@dataclass
class Cell:
    """One component in one layer (or one bar of a panel): its modules' precisions."""

    counts: dict[str, int]  # precision → modules, in legend order
    runs: list[tuple[str, int]]  # (precision, modules) in module order; one run when uniform
    groups: int = 0  # repeated sub-modules (experts) in the cell; 0 when none
    group_word: str = ""
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (module, before, after)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def uniform(self) -> str | None:
        return next(iter(self.counts)) if len(self.counts) == 1 else None

    def describe(self) -> str:
        """'256 experts (768 modules), all NVFP4', '5 modules: 3 NVFP4, 2 BF16'."""
        total = self.total
        modules = f"{total:,} module{'s' if total != 1 else ''}"
        what = f"{self.groups:,} {self.group_word} ({modules})" if self.groups > 1 else modules
        if self.uniform:
            text = f"{what}, all {swatch(self.uniform).label}"
        else:
            shares = ", ".join(f"{n:,} {swatch(p).label}" for p, n in self.counts.items())
            text = f"{what}: {shares}"
        if self.changed:
            moves = Counter(f"{swatch(b).label} → {swatch(a).label}" for _, b, a in self.changed)
            shown = ", ".join(f"{n:,} {move}" for move, n in sorted(moves.items()))
            text += f"; changed: {shown}"
        return text


@dataclass
class Bar:
    label: str
    cell: Cell


@dataclass
class Panel:
    title: str
    bars: list[Bar]


@dataclass
class PrecisionMap:
    title: str
    layers: list[int]
    rows: list[tuple[str, str]]  # (component id, label) of the per-layer components
    cells: dict[tuple[str, int], Cell]
    layer_kinds: dict[int, tuple[str, str]]  # layer → (mixer label, feed-forward kind)
    panels: list[Panel]
    totals: dict[str, int]  # precision → modules, in legend order
    against: str | None = None
    changed_modules: int = 0

    def cell_title(self, component: str, layer: int) -> str:
        """The accessible name of one cell: where it is and what it holds."""
        label = dict(self.rows).get(component, component)
        kind = self.layer_kinds.get(layer)
        where = f"Layer {layer}" + (f" ({kind[0]}, {kind[1]})" if kind else "")
        cell = self.cells.get((component, layer))
        return f"{where} · {label}: " + (cell.describe() if cell else "absent")

    def summary(self) -> str:
        """One sentence for screen readers and alt text."""
        shares = ", ".join(f"{swatch(p).label} {n:,}" for p, n in self.totals.items())
        return (
            f"Precision map of {self.title}: {len(self.layers)} layers × {len(self.rows)}"
            f" per-layer components; modules by written precision: {shares or 'none'}."
        )


def build_map(
    result: AuditResult,
    title: str | None = None,
    changes: Sequence[tuple[str, str, str]] | None = None,
    against: str | None = None,
) -> PrecisionMap:
    """The map of one audit; with `changes` (audit.compare), the cells that changed marked."""
    labels = {s.component: s.label for s in result.components}
    order = {s.component: i for i, s in enumerate(result.components)}
    changed = {m: (m, b, a) for m, b, a in changes or ()}
    stacked: dict[str, list[tuple[int, str, str, str]]] = {}  # prefix → (layer, comp, name, p)
    loose: list[tuple[str, str, str]] = []
    for name, (component, precision) in result.modules.items():
        match = LAYER.search(name)
        if match:
            stacked.setdefault(name[: match.start()], []).append(
                (int(match.group(1)), component, name, precision)
            )
        else:
            loose.append((component, name, precision))
    main = max(stacked, key=lambda p: (len(stacked[p]), p)) if stacked else ""
    members: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for layer, component, name, precision in stacked.pop(main, []):
        members.setdefault((component, layer), []).append((name, precision))
    for rest in stacked.values():  # another `.layers.` stack (a vision tower's): a panel
        loose += [(component, name, precision) for _, component, name, precision in rest]
    cells = {key: _cell(found, changed) for key, found in members.items()}
    components = sorted({c for c, _ in cells}, key=lambda c: (order.get(c, len(order)), c))
    layers = sorted({layer for _, layer in cells})
    totals: Counter[str] = Counter(p for _, p in result.modules.values())
    totals.update(result.mtp_modules.values())
    return PrecisionMap(
        title=title or result.root,
        layers=layers,
        rows=[(c, labels.get(c, c)) for c in components],
        cells=cells,
        layer_kinds={k: v for k, v in result.layer_kinds.items() if k in set(layers)},
        panels=_panels(loose, result.mtp_modules, labels, order, main, changed),
        totals=dict(sorted(totals.items(), key=lambda kv: order_key(kv[0]))),
        against=against,
        changed_modules=len(changed),
    )


def _cell(found: list[tuple[str, str]], changed: dict[str, tuple[str, str, str]]) -> Cell:
    counts = Counter(p for _, p in found)
    ordered = dict(sorted(counts.items(), key=lambda kv: order_key(kv[0])))
    words: Counter[str] = Counter()
    indices: set[tuple[str, str]] = set()
    for name, _ in found:
        tail = name[name.find(".layers.") + 8 :] if ".layers." in name else name
        group = GROUP.search(tail, tail.find(".") + 1)
        if group:
            words[group.group(1)] += 1
            indices.add((group.group(1), group.group(2)))
    word = words.most_common(1)[0][0] if words else ""
    groups = sum(1 for w, _ in indices if w == word)
    if len(counts) == 1:
        runs = [(next(iter(counts)), len(found))]
    else:
        runs = _runs(p for _, p in sorted(found, key=lambda np: _natural(np[0])))
        if len(runs) > MAX_RUNS:
            runs = list(ordered.items())
    return Cell(
        counts=ordered,
        runs=runs,
        groups=groups if groups > 1 else 0,
        group_word=word,
        changed=[changed[n] for n, _ in found if n in changed],
    )


def _natural(name: str) -> list[int | str]:
    """Sort key that puts experts.2 before experts.10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _runs(precisions: Iterable[str]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for precision in precisions:
        if runs and runs[-1][0] == precision:
            runs[-1] = (precision, runs[-1][1] + 1)
        else:
            runs.append((precision, 1))
    return runs


def _namespace(name: str) -> str:
    """`model.visual.blocks.3.attn.qkv` → `model.visual`; `lm_head` → `lm_head`."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "model" and len(parts) > 2 else parts[0]


def _panels(
    loose: list[tuple[str, str, str]],
    mtp: dict[str, str],
    labels: dict[str, str],
    order: dict[str, int],
    main: str,
    changed: dict[str, tuple[str, str, str]],
) -> list[Panel]:
    """Bars for what is not in the main grid: one panel per other numbered stack, one for the
    rest outside the layers, one for the MTP head."""
    main_space = _namespace(main + ".x") if main else ""
    stacks: dict[str, set[str]] = {}  # namespace → its numbered prefixes
    for _, name, _ in loose:
        match = NUMBERED.search(name)
        if match and _namespace(name) != main_space:
            stacks.setdefault(_namespace(name), set()).add(name[: match.start()])
    grouped: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for component, name, precision in loose:
        space = _namespace(name)
        key = space if space in stacks else ""
        grouped.setdefault(key, {}).setdefault(component, []).append((name, precision))
    panels = []
    if "" in grouped:
        panels.append(_panel("Outside the layers", grouped.pop(""), labels, order, changed))
    for space in sorted(grouped):
        prefix = sorted(stacks[space])[0]
        count = len(
            {
                m.group(1)
                for n, _ in (x for rows in grouped[space].values() for x in rows)
                if n.startswith(prefix + ".") and (m := NUMBERED.search(n, len(prefix)))
            }
        )
        word = prefix.rsplit(".", 1)[-1]
        title = f"{space}.* ({count} {word})" if count else f"{space}.*"
        panels.append(_panel(title, grouped[space], labels, order, changed))
    if mtp:
        rows: dict[str, list[tuple[str, str]]] = {}
        for name, precision in mtp.items():
            rows.setdefault(_mtp_row(name), []).append((name, precision))
        layers = {m.group(1) for n in mtp if (m := LAYER.search(n))}
        title = f"MTP head, mtp.* ({len(layers)} layer{'s' if len(layers) != 1 else ''})"
        panels.append(_panel(title, rows, {}, {}, changed))
    return panels


def _mtp_row(name: str) -> str:
    """An MTP module's row: its name after the layer number, numbers folded (`mlp.experts.*`)."""
    match = LAYER.search(name)
    tail = name[match.end() :] if match else name.removeprefix(MTP)
    parts = re.sub(r"\.\d+(\.|$)", r".*\1", tail).split(".*")
    return parts[0] + (".*" if len(parts) > 1 else "")


def _panel(
    title: str,
    components: dict[str, list[tuple[str, str]]],
    labels: dict[str, str],
    order: dict[str, int],
    changed: dict[str, tuple[str, str, str]],
) -> Panel:
    ids = sorted(components, key=lambda c: (order.get(c, len(order)), c))
    return Panel(title, [Bar(labels.get(c, c), _cell(components[c], changed)) for c in ids])
