"""Tables in a card: GitHub-style pipe tables, and component-count tables (`Component | Count
| ...`) either as pipe tables or as text whose pipes were lost when copied from a web page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_PLAIN_COMPONENT_HEADER = re.compile(r"^\s*component\s+(count|#|number)\b", re.IGNORECASE)
# Counts of up to 24 digits and commas: longer digit runs are not counts (and int() refuses
# strings of more than 4,300 digits).
_PLAIN_ROW = re.compile(r"^(?P<name>\S.*?)\s+(?P<count>\d[\d,]{0,23})(?=\s|$)(?P<rest>.*)$")
_LEADING_INT = re.compile(r"^\s*(\d[\d,]{0,23})(?=\s|$|\()(?P<rest>.*)$")
_COUNT_HEADER = re.compile(r"^(count|#|number|n|layers|tensors|modules)$", re.IGNORECASE)
_HEADING_MARKS = re.compile(r"^[#>*\s]+|[*\s]+$")


@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class PipeTable:
    """A pipe table: header, delimiter and body rows, each with its line number."""

    header: Row
    delimiter: Row
    rows: tuple[Row, ...]

    @property
    def width(self) -> int:
        return len(self.header.cells)


@dataclass(frozen=True)
class ComponentRow:
    line: int
    name: str
    count: int
    rest: str


@dataclass(frozen=True)
class ComponentTable:
    """Rows of `component, count`, and the text just above the table (heading or caption)."""

    line: int
    context: str
    context_line: int
    rows: tuple[ComponentRow, ...]


def split_cells(line: str) -> tuple[str, ...]:
    """Cells of one pipe-table line: outer pipes dropped, `\\|` and pipes in `code` kept."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells: list[str] = []
    current: list[str] = []
    in_code = False
    escaped = False
    for char in text:
        if char == "|" and not in_code and not escaped:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        in_code = in_code != (char == "`" and not escaped)
        escaped = char == "\\" and not escaped
    cells.append("".join(current).strip())
    return tuple(cells)


def find_pipe_tables(lines: Iterable[tuple[int, str]]) -> list[PipeTable]:
    """Every pipe table in the numbered lines (give prose lines only: no code blocks)."""
    numbered = list(lines)
    tables: list[PipeTable] = []
    i = 1
    while i < len(numbered):
        (h_line, header), (d_line, delimiter) = numbered[i - 1], numbered[i]
        if "|" in header and "-" in delimiter and _DELIMITER.match(delimiter):
            rows, i = _body_rows(numbered, i + 1, d_line)
            tables.append(
                PipeTable(
                    Row(h_line, split_cells(header)), Row(d_line, split_cells(delimiter)), rows
                )
            )
        i += 1
    return tables


def _body_rows(
    numbered: list[tuple[int, str]], start: int, last_line: int
) -> tuple[tuple[Row, ...], int]:
    rows: list[Row] = []
    i = start
    while i < len(numbered):
        number, text = numbered[i]
        if number != last_line + 1 or not text.strip() or "|" not in text:
            break
        rows.append(Row(number, split_cells(text)))
        last_line = number
        i += 1
    return tuple(rows), i


def component_tables(
    lines: Iterable[tuple[int, str]], pipe_tables: Iterable[PipeTable]
) -> list[ComponentTable]:
    """Component-count tables, from pipe tables and from text tables that lost their pipes."""
    numbered = list(lines)
    tables = [t for t in (_from_pipe(numbered, table) for table in pipe_tables) if t]
    tables += _from_plain(numbered)
    return sorted(tables, key=lambda table: table.line)


def _from_pipe(numbered: list[tuple[int, str]], table: PipeTable) -> ComponentTable | None:
    header = [cell.lower() for cell in table.header.cells]
    count_col = next((i for i, cell in enumerate(header) if _COUNT_HEADER.match(cell)), None)
    if not header or "component" not in header[0] or count_col is None:
        return None
    rows: list[ComponentRow] = []
    for row in table.rows:
        if count_col >= len(row.cells) or not (match := _LEADING_INT.match(row.cells[count_col])):
            continue
        rest = " ".join([match.group("rest"), *row.cells[count_col + 1 :]]).strip()
        rows.append(ComponentRow(row.line, row.cells[0], _int(match.group(1)), rest))
    context_line, context = _context_above(numbered, table.header.line)
    return ComponentTable(table.header.line, context, context_line, tuple(rows))


def _from_plain(numbered: list[tuple[int, str]]) -> list[ComponentTable]:
    tables: list[ComponentTable] = []
    for index, (number, text) in enumerate(numbered):
        if "|" in text or not _PLAIN_COMPONENT_HEADER.match(text):
            continue
        rows: list[ComponentRow] = []
        for row_number, row_text in numbered[index + 1 :]:
            match = _PLAIN_ROW.match(row_text.strip())
            if not row_text.strip() or match is None:
                break
            rows.append(
                ComponentRow(row_number, match["name"], _int(match["count"]), match["rest"].strip())
            )
        context_line, context = _context_above(numbered, number)
        tables.append(ComponentTable(number, context, context_line, tuple(rows)))
    return tables


def _context_above(numbered: list[tuple[int, str]], line: int) -> tuple[int, str]:
    """The nearest non-blank line above `line` (within 3 lines), without Markdown marks."""
    previous = [(n, t) for n, t in numbered if line - 4 < n < line and t.strip()]
    if not previous or "|" in previous[-1][1]:
        return line, ""
    number, text = previous[-1]
    return number, _HEADING_MARKS.sub("", text)


def _int(text: str) -> int:
    return int(text.replace(",", ""))
