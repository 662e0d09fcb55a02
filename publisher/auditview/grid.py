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
from publisher.checkpoint.audit import MTP_COMPONENT

if TYPE_CHECKING:
    from publisher.checkpoint.audit import AuditResult

LAYER = re.compile(r"\.layers\.(\d+)\.")
NUMBERED = re.compile(r"\.(\d+)(?:\.|$)")
# where a name repeats under a second number (experts.E): after the layer number, or anywhere
IN_LAYER = re.compile(r"\.layers\.\d+\..*?([A-Za-z_]\w*)\.(\d+)\.")
ANYWHERE = re.compile(r"([A-Za-z_]\w*)\.(\d+)\.")
MTP = "mtp."
NO_KIND = "·"  # the audit's label for a part a layer does not have (a layer without feed-forward)
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
        kinds = [k for k in self.layer_kinds.get(layer, ()) if k != NO_KIND]
        where = f"Layer {layer}" + (f" ({', '.join(kinds)})" if kinds else "")
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
    # stack prefix → (component, layer number) → (names, precisions); one pass, no regex
    stacked: dict[str, dict[tuple[str, str], tuple[list[str], list[str]]]] = {}
    loose: list[tuple[str, str, str]] = []
    mtp = dict(result.mtp_modules)  # `mtp.*`, and extra decoder layers the audit calls MTP
    for name, (component, precision) in result.modules.items():
        if component == MTP_COMPONENT:
            mtp[name] = precision
            continue
        head, sep, tail = name.partition(".layers.")
        if sep:
            number, dot, _ = tail.partition(".")
            if dot and number.isdigit():
                stack = stacked.get(head)
                if stack is None:
                    stack = stacked[head] = {}
                found = stack.get((component, number))
                if found is None:
                    found = stack[(component, number)] = ([], [])
                found[0].append(name)
                found[1].append(precision)
                continue
        loose.append((component, name, precision))
    size = {p: sum(len(names) for names, _ in stack.values()) for p, stack in stacked.items()}
    main = max(stacked, key=lambda p: (size[p], p)) if stacked else ""
    for prefix, stack in stacked.items():  # another `.layers.` stack (a vision tower's): a panel
        if prefix != main:
            for (component, _), (names, precisions) in stack.items():
                loose += [(component, n, p) for n, p in zip(names, precisions, strict=True)]
    cells = {
        (component, int(number)): _cell(names, precisions, changed, IN_LAYER)
        for (component, number), (names, precisions) in stacked.get(main, {}).items()
    }
    components = sorted({c for c, _ in cells}, key=lambda c: (order.get(c, len(order)), c))
    layers = sorted({layer for _, layer in cells})
    totals: Counter[str] = Counter()
    for summary in result.components:
        totals.update(summary.counts)
    totals.update(result.mtp_modules.values())
    return PrecisionMap(
        title=title or result.root,
        layers=layers,
        rows=[(c, _shown(labels.get(c, c), f"{main}.layers.*.")) for c in components],
        cells=cells,
        layer_kinds={k: v for k, v in result.layer_kinds.items() if k in set(layers)},
        panels=_panels(loose, mtp, labels, order, main, changed),
        totals=dict(sorted(totals.items(), key=lambda kv: order_key(kv[0]))),
        against=against,
        changed_modules=len(changed),
    )


def _cell(
    names: list[str],
    precisions: list[str],
    changed: dict[str, tuple[str, str, str]],
    groups_in: re.Pattern[str],
) -> Cell:
    """One cell: precisions counted, repeated sub-modules (experts) counted as groups, the
    runs kept in module order when they differ. One regex pass over the joined names."""
    counts = Counter(precisions)
    ordered = dict(sorted(counts.items(), key=lambda kv: order_key(kv[0])))
    word, groups = _groups(names, groups_in)
    if len(counts) == 1:
        runs = [(next(iter(counts)), len(names))]
    else:
        pairs = sorted(zip(names, precisions, strict=True), key=lambda np: _natural(np[0]))
        runs = _runs(p for _, p in pairs)
        if len(runs) > MAX_RUNS:
            runs = list(ordered.items())
    return Cell(
        counts=ordered,
        runs=runs,
        groups=groups if groups > 1 else 0,
        group_word=word,
        changed=[changed[n] for n in names if n in changed] if changed else [],
    )


def _groups(names: list[str], groups_in: re.Pattern[str]) -> tuple[str, int]:
    """('experts', 256) when the names repeat under a second number: the first name shows
    where the number sits; the others are sliced there (no regex per name)."""
    first = groups_in.search(names[0])
    if first is None:
        return "", 0
    prefix = names[0][: first.start(2)]
    cut = len(prefix)
    indices = {n[cut:].partition(".")[0] for n in names if n.startswith(prefix)}
    return first.group(1), len(indices)


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
        outside = grouped.pop("")
        panels.append(_panel("Outside the layers", outside, labels, order, changed, main_space))
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
        panels.append(_panel(title, grouped[space], labels, order, changed, space))
    if mtp:
        rows: dict[str, list[tuple[str, str]]] = {}
        for name, precision in mtp.items():
            rows.setdefault(_mtp_row(name), []).append((name, precision))
        layers = {m.group(1) for n in mtp if (m := LAYER.search(n))}
        title = f"MTP, next-token prediction ({len(layers)} layer{'s' if len(layers) != 1 else ''})"
        panels.append(_panel(title, rows, {}, {}, changed))
    return panels


def _mtp_row(name: str) -> str:
    """An MTP module's row: its name after the layer number, numbers folded (`mlp.experts.*`)."""
    match = LAYER.search(name)
    tail = name[match.end() :] if match else name.removeprefix(MTP)
    parts = re.sub(r"\.\d+(\.|$)", r".*\1", tail).split(".*")
    return parts[0] + (".*" if len(parts) > 1 else "")


def _shown(label: str, prefix: str) -> str:
    """A label without the prefix every row shares (`model.language_model.layers.*.` of a
    family without a profile, whose components are named by module pattern)."""
    return label[len(prefix) :] if prefix != ".layers.*." and label.startswith(prefix) else label


def _panel(
    title: str,
    components: dict[str, list[tuple[str, str]]],
    labels: dict[str, str],
    order: dict[str, int],
    changed: dict[str, tuple[str, str, str]],
    space: str = "",
) -> Panel:
    ids = sorted(components, key=lambda c: (order.get(c, len(order)), c))
    bars = []
    for component in ids:
        names = [n for n, _ in components[component]]
        precisions = [p for _, p in components[component]]
        bars.append(
            Bar(
                _shown(labels.get(component, component), f"{space}." if space else ""),
                _cell(names, precisions, changed, ANYWHERE),
            )
        )
    return Panel(title, bars)
