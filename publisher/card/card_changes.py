"""What a change to a card means, beyond its text: frontmatter fields, and the cells of its
tables (architecture and quantization facts, benchmark rows) that change, appear or go.

Pure: two card texts in, a list of changes out. Tables are matched by the headings above them
and rows by their first cell, so a reordered card does not read as a rewritten one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from publisher.card.card_source import CardSource, parse_card
from publisher.card.markdown_tables import PipeTable, find_pipe_tables

ChangeKind = Literal["added", "removed", "changed"]
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MARKUP = re.compile(r"[*_`]")
_COUNTED = re.compile(r"\s*\([^()]*\d[^()]*\)")  # "(186 modules)": a count, not a name


@dataclass(frozen=True)
class Change:
    """One change in meaning: `where` names it ("frontmatter › tags", "Benchmarks › MMLU-Pro ›
    Qwen3.5-2B-NVFP4"); `old`/`new` are None for an added/removed value."""

    where: str
    kind: ChangeKind
    old: str | None = None
    new: str | None = None

    def as_text(self) -> str:
        if self.kind == "added":
            return f"{self.where}: added {self.new}"
        if self.kind == "removed":
            return f"{self.where}: removed {self.old}"
        return f"{self.where}: {self.old} → {self.new}"


def card_changes(old: str | None, new: str) -> list[Change]:
    """The frontmatter, table and text changes from card `old` (None: no card yet) to `new`."""
    if old == new:
        return []
    if old is None:
        return [Change("card", "added", new="a new card")]
    before, after = parse_card(old), parse_card(new)
    changes = _frontmatter_changes(before, after)
    tables_before, tables_after = _tables(before), _tables(after)
    changes += _table_changes(tables_before, tables_after)
    changes += _text_changes(before, after, tables_before, tables_after)
    return changes


# ---- frontmatter ---------------------------------------------------------------------------


def _frontmatter_changes(before: CardSource, after: CardSource) -> list[Change]:
    changes: list[Change] = []
    old, new = before.frontmatter, after.frontmatter
    for key in sorted(set(old) | set(new)):
        where = f"frontmatter › {key}"
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            old_items, new_items = _items(a), _items(b)
            changes += [Change(where, "removed", old=i) for i in old_items if i not in new_items]
            changes += [Change(where, "added", new=i) for i in new_items if i not in old_items]
        elif a is None:
            changes.append(Change(where, "added", new=_text(b)))
        elif b is None:
            changes.append(Change(where, "removed", old=_text(a)))
        else:
            changes.append(Change(where, "changed", _text(a), _text(b)))
    return changes


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    return [_text(v) for v in value] if isinstance(value, list) else [_text(value)]


def _text(value: Any) -> str:
    return str(value)


# ---- tables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    place: str  # the headings above it, e.g. "Quantization › Kept in higher precision"
    columns: tuple[str, ...]
    rows: dict[str, tuple[str, ...]]  # first cell → the row's cells
    lines: frozenset[int]


def _tables(card: CardSource) -> dict[str, _Table]:
    prose = list(card.prose())
    headings = _headings(prose)
    found: dict[str, _Table] = {}
    for table in find_pipe_tables(prose):
        place = _COUNTED.sub("", _place_of(headings, table.header.line))
        key = place
        number = 2
        while key in found:  # a second table under the same heading
            key, number = f"{place} (table {number})", number + 1
        found[key] = _table(place, table)
    return found


def _table(place: str, table: PipeTable) -> _Table:
    columns = tuple(_clean(c) for c in table.header.cells)
    rows: dict[str, tuple[str, ...]] = {}
    for row in table.rows:
        cells = tuple(_clean(c) for c in row.cells)
        if not cells:
            continue
        label, number = cells[0] or "(blank)", 2
        while label in rows:
            label, number = f"{cells[0]} ({number})", number + 1
        rows[label] = cells
    lines = {table.header.line, table.delimiter.line, *(r.line for r in table.rows)}
    return _Table(place, columns, rows, frozenset(lines))


def _headings(prose: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(line, level, text) of every Markdown heading outside code blocks."""
    out = []
    for number, text in prose:
        match = _HEADING.match(text)
        if match:
            out.append((number, len(match.group(1)), _clean(match.group(2))))
    return out


def _place_of(headings: list[tuple[int, int, str]], line: int) -> str:
    """The heading path above `line`, top level (the title) left out."""
    path: list[tuple[int, str]] = []
    for number, level, text in headings:
        if number > line:
            break
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, text)]
    parts = [t for lvl, t in path if lvl > 1] or [t for _, t in path]
    return " › ".join(parts) or "(top)"


def _clean(cell: str) -> str:
    return _MARKUP.sub("", cell).strip()


def _table_changes(before: dict[str, _Table], after: dict[str, _Table]) -> list[Change]:
    changes: list[Change] = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            changes.append(Change(f"{key} › table", "added", new=f"{len(new.rows)} rows"))
        elif new is None and old is not None:
            changes.append(Change(f"{key} › table", "removed", old=f"{len(old.rows)} rows"))
        elif old is not None and new is not None:
            changes += _row_changes(key, old, new)
    return changes


def _row_changes(key: str, old: _Table, new: _Table) -> list[Change]:
    changes: list[Change] = []
    for label in [*old.rows, *(r for r in new.rows if r not in old.rows)]:
        a, b = old.rows.get(label), new.rows.get(label)
        where = f"{key} › {label}"
        if a is None and b is not None:
            changes.append(Change(where, "added", new=" | ".join(b[1:]) or label))
        elif b is None and a is not None:
            changes.append(Change(where, "removed", old=" | ".join(a[1:]) or label))
        elif a is not None and b is not None and a != b:
            changes += _cell_changes(where, old.columns, new.columns, a, b)
    return changes


def _cell_changes(
    where: str, old_columns: tuple[str, ...], new_columns: tuple[str, ...],
    a: tuple[str, ...], b: tuple[str, ...],
) -> list[Change]:  # fmt: skip
    old_cells = dict(zip(_names(old_columns, len(a)), a, strict=True))
    new_cells = dict(zip(_names(new_columns, len(b)), b, strict=True))
    two_columns = len(old_columns) <= 2 and len(new_columns) <= 2  # a key/value table
    changes = []
    for column in [*old_cells, *(c for c in new_cells if c not in old_cells)][1:]:
        x, y = old_cells.get(column), new_cells.get(column)
        if x == y:
            continue
        place = where if two_columns else f"{where} › {column}"
        if x is None:
            changes.append(Change(place, "added", new=y))
        elif y is None:
            changes.append(Change(place, "removed", old=x))
        else:
            changes.append(Change(place, "changed", x, y))
    return changes


def _names(columns: tuple[str, ...], width: int) -> list[str]:
    """A name for each of `width` cells: the header's, or its position when blank or missing."""
    names = []
    for i in range(width):
        name = columns[i] if i < len(columns) and columns[i] else f"column {i + 1}"
        names.append(name if name not in names else f"{name} ({i + 1})")
    return names


# ---- text ----------------------------------------------------------------------------------


def _text_changes(
    before: CardSource, after: CardSource, old: dict[str, _Table], new: dict[str, _Table]
) -> list[Change]:
    """One change per section whose prose (outside tables and frontmatter) differs."""
    old_text, new_text = _section_text(before, old), _section_text(after, new)
    changes = []
    for place in [*old_text, *(p for p in new_text if p not in old_text)]:
        a, b = old_text.get(place, []), new_text.get(place, [])
        if a == b:
            continue
        removed = sum(1 for line in a if line not in b)
        added = sum(1 for line in b if line not in a)
        changes.append(
            Change(f"{place} › text", "changed", f"{removed} line(s)", f"{added} line(s)")
        )
    return changes


def _section_text(card: CardSource, tables: dict[str, _Table]) -> dict[str, list[str]]:
    in_tables = frozenset().union(*(t.lines for t in tables.values()))
    body = list(card.body())
    headings = _headings([(n, t) for n, t in body if n not in card.code_lines])
    sections: dict[str, list[str]] = {}
    for number, text in body:
        if number in in_tables or not text.strip() or _HEADING.match(text):
            continue
        sections.setdefault(_place_of(headings, number), []).append(text.strip())
    return sections
