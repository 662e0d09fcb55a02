"""Card rules for tables: cells that do not line up with the header, scores copied between
columns, and component-count tables whose counts do not add up or count tensors twice."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.markdown_tables import (
    ComponentRow,
    ComponentTable,
    PipeTable,
    component_tables,
    find_pipe_tables,
)
from publisher.findings import Finding

_TOTAL = re.compile(
    r"(?<![\d,])(\d[\d,]{0,23})\s+(?:linear\s+)?"
    r"(?:layers|tensors|modules|linears|weights|components|matrices)\b",
    re.IGNORECASE,
)
_PRODUCT = re.compile(r"^\(\s*(\d{1,12})\s*[×xX*]\s*(\d{1,12})\s*\)")
_KEPT = re.compile(
    r"bf16|fp16|fp32|full.precision|kept|not quantized|unquantized|excluded|skipped", re.IGNORECASE
)
_QUANTIZED = re.compile(r"quantiz|nvfp4|fp8|fp4|int4|int8|[48]-bit", re.IGNORECASE)
_ALL_MARK = re.compile(r"\((?:all|entire|whole)\)|\b(?:all|entire|whole)\b", re.IGNORECASE)
_NUMERIC = re.compile(r"\d")


def pipe_tables(card: CardSource) -> list[PipeTable]:
    return find_pipe_tables(card.prose())


def check_tables(card: CardSource) -> list[Finding]:
    findings: list[Finding] = []
    for table in pipe_tables(card):
        findings += _cell_counts(card, table)
        findings += _empty_header_cells(card, table)
        findings += _identical_columns(card, table)
    return findings


def _cell_counts(card: CardSource, table: PipeTable) -> list[Finding]:
    findings = []
    if len(table.delimiter.cells) != table.width:
        findings.append(
            card_finding(
                card,
                "CARD013",
                table.delimiter.line,
                f"the delimiter row has "
                f"{len(table.delimiter.cells)} cells but the header has "
                f"{table.width}: the Hub will not render this as a table",
            )
        )
    bad = [row for row in table.rows if len(row.cells) != table.width]
    if bad:
        lines = ", ".join(str(row.line) for row in bad[:8]) + (" ..." if len(bad) > 8 else "")
        findings.append(
            card_finding(
                card,
                "CARD013",
                bad[0].line,
                f"{len(bad)} row(s) of the table "
                f"at line {table.header.line} do not have the header's "
                f"{table.width} cells (lines {lines})",
            )
        )
    return findings


def _empty_header_cells(card: CardSource, table: PipeTable) -> list[Finding]:
    if not any(cell.strip() for cell in table.header.cells):
        return []  # `| | |` over `|---|---|`: a key/value table without a header, renders fine
    findings = []
    for index, cell in enumerate(table.header.cells):
        if cell:
            continue
        filled = sum(1 for row in table.rows if index < len(row.cells) and row.cells[index])
        if index == 0 and filled:
            findings.append(
                card_finding(
                    card,
                    "CARD015",
                    table.header.line,
                    "the first header cell is "
                    "empty: name the column of row labels (e.g. 'Benchmark')",
                )
            )
        elif index > 0 and filled * 2 > len(table.rows):
            findings.append(
                card_finding(
                    card, "CARD014", table.header.line, _empty_cell_message(table, index, filled)
                )
            )
    return findings


def _empty_cell_message(table: PipeTable, index: int, filled: int) -> str:
    text = (
        f"the header does not line up with its rows: header cell {index + 1} is empty but "
        f"{filled} of {len(table.rows)} rows have a value in that column"
    )
    if index == table.width - 1:
        text += (
            "; the header looks shifted one column to the left, leaving the first column "
            f"(row labels) unnamed and '{table.header.cells[0]}' over the labels"
        )
    return text


def _identical_columns(card: CardSource, table: PipeTable) -> list[Finding]:
    if table.width < 3:
        return []
    numeric = [
        row.cells[1:]
        for row in table.rows
        if len(row.cells) == table.width and all(_NUMERIC.search(c) for c in row.cells[1:])
    ]
    if len(numeric) < 3 or any(len({_norm(c) for c in cells}) > 1 for cells in numeric):
        return []
    return [
        card_finding(
            card,
            "CARD016",
            table.header.line,
            f"all {len(numeric)} numeric rows have "
            "identical values in every column: were the released scores copied from the "
            "base model's?",
        )
    ]


def _norm(cell: str) -> str:
    return re.sub(r"\s+", "", cell)


# --- component tables --------------------------------------------------------------------


def check_component_tables(card: CardSource) -> list[Finding]:
    tables = component_tables(card.prose(), pipe_tables(card))
    findings: list[Finding] = []
    for table in tables:
        findings += _sum_vs_total(card, table)
        findings += _products(card, table)
    findings += _double_counts(card, tables)
    return findings


@dataclass(frozen=True)
class _Total:
    """The total a component table states, where it states it, and the rows that add up to it."""

    count: int | None
    line: int
    said_by: str
    rows: list[ComponentRow]


def stated_total(table: ComponentTable) -> _Total:
    """The total a component table states (a 'Total' row, or a count in the text above it)
    and the rows that should add up to it. One pass: a table can have thousands of rows."""
    rows: list[ComponentRow] = []
    total_rows: list[ComponentRow] = []
    for r in table.rows:
        is_total = r.name.strip("* ").lower().startswith("total")
        (total_rows if is_total else rows).append(r)
    if total_rows:
        row = total_rows[0]
        return _Total(row.count, row.line, f"its '{row.name.strip('* ')}' row", rows)
    match = _TOTAL.search(table.context)
    count = int(match.group(1).replace(",", "")) if match else None
    return _Total(count, table.context_line, f"'{table.context}'", rows)


def _sum_vs_total(card: CardSource, table: ComponentTable) -> list[Finding]:
    total = stated_total(table)
    added = sum(row.count for row in total.rows)
    if total.count is None or not total.rows or added == total.count:
        return []
    return [
        card_finding(
            card,
            "CARD017",
            total.line,
            f"the component counts add up to {added}, but {total.said_by} states {total.count}",
        )
    ]


def _products(card: CardSource, table: ComponentTable) -> list[Finding]:
    findings = []
    for row in table.rows:
        match = _PRODUCT.match(row.rest)
        if match and int(match.group(1)) * int(match.group(2)) != row.count:
            findings.append(
                card_finding(
                    card,
                    "CARD019",
                    row.line,
                    f"'{row.name}' counts {row.count} "
                    f"but {match.group(1)}×{match.group(2)} = "
                    f"{int(match.group(1)) * int(match.group(2))}",
                )
            )
    return findings


def kind_of_table(table: ComponentTable) -> str | None:
    if _KEPT.search(table.context):
        return "kept"
    return "quantized" if _QUANTIZED.search(table.context) else None


def _double_counts(card: CardSource, tables: list[ComponentTable]) -> list[Finding]:
    quantized = [t for t in tables if kind_of_table(t) == "quantized"]
    kept = [t for t in tables if kind_of_table(t) == "kept"]
    findings = []
    for q_table in quantized:
        for k_table in kept:
            for q_row, k_row in _overlaps(q_table.rows, k_table.rows):
                findings.append(_double_count(card, q_table, q_row, k_table, k_row))
    return findings


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", _ALL_MARK.sub(" ", name.lower()))


def _overlaps(
    q_rows: Iterable[ComponentRow], k_rows: Iterable[ComponentRow]
) -> Iterable[tuple[ComponentRow, ComponentRow]]:
    """Pairs that name the same tensors: equal names, or 'X (all)' on one side and 'X ...' on the other."""
    k_list = list(k_rows)
    for q_row in q_rows:
        for k_row in k_list:
            q_words, k_words = _words(q_row.name), _words(k_row.name)
            same = q_words == k_words
            k_all = bool(_ALL_MARK.search(k_row.name)) and q_words[: len(k_words)] == k_words
            q_all = bool(_ALL_MARK.search(q_row.name)) and k_words[: len(q_words)] == q_words
            if q_words and k_words and (same or k_all or q_all):
                yield q_row, k_row


def _double_count(
    card: CardSource,
    q_table: ComponentTable,
    q_row: ComponentRow,
    k_table: ComponentTable,
    k_row: ComponentRow,
) -> Finding:
    total = stated_total(q_table)
    rest = sum(row.count for row in total.rows) - q_row.count
    stated = f", not the {total.count} {total.said_by} states" if total.count is not None else ""
    return card_finding(
        card,
        "CARD018",
        q_row.line,
        f"'{q_row.name}' ({q_row.count}, quantized, line "
        f"{q_row.line}) and '{k_row.name}' ({k_row.count}, '{k_table.context}', line "
        f"{k_row.line}) count the same tensors twice; without them the quantized rows "
        f"add up to {rest}{stated}",
    )
