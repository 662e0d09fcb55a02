"""Render findings as text, JSON or Markdown: the one reporter every command, `publisher
release` and the library use.

Text and Markdown escape control characters in messages, files and pointers (tensor names and
spec values come from files that may be hostile); JSON escapes them itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from publisher.findings import Finding, Severity, sorted_findings

Format = Literal["text", "json", "markdown"]


def printable(text: object) -> str:
    """`text` safe to print on one line of a terminal: control characters (newlines, NUL, ESC
    of colour codes, bidi overrides) escaped as `\\n`, `\\x00`, `\\x1b`, `\\u202e`. Tensor names
    and spec values come from files that may be hostile."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _printable_finding(f: Finding) -> Finding:
    loc = f.location
    location = replace(
        loc,
        file=None if loc.file is None else printable(loc.file),
        pointer=None if loc.pointer is None else printable(loc.pointer),
    )
    return replace(f, message=printable(f.message), location=location)


def printable_findings(findings: Iterable[Finding]) -> list[Finding]:
    return [_printable_finding(f) for f in findings]


def summary_line(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    if not findings:
        return "no findings"
    return f"{errors} error(s), {warnings} warning(s)"


def render_text(findings: Iterable[Finding]) -> str:
    """One line per finding, control characters escaped, then the summary line."""
    items = sorted_findings(printable_findings(findings))
    lines = [f"{f.location}: {f.code} {f.severity}: {f.message}" for f in items]
    lines.append(summary_line(items))
    return "\n".join(lines) + "\n"


SUMMARY_THRESHOLD = 30
"""More findings than this are summarised by code (the full list stays one flag away)."""


def render_summary(findings: Iterable[Finding], *, first: int = 3) -> str:
    """Findings grouped by code: how many of each and the first few, most frequent first,
    then the usual total line. Used when a full list would run to hundreds of lines."""
    items = sorted_findings(findings)
    by_code: dict[str, list[Finding]] = {}
    for f in items:
        by_code.setdefault(f.code, []).append(f)
    lines = []
    for code, group in sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"{code} {group[0].severity}: {len(group)} finding(s)")
        lines += [f"  {f.location}: {f.message}" for f in group[:first]]
        if len(group) > first:
            lines.append(f"  … and {len(group) - first} more")
    lines.append(summary_line(items))
    return "\n".join(lines) + "\n"


def render_json(findings: Iterable[Finding], **extra: object) -> str:
    items = sorted_findings(findings)
    payload: dict[str, object] = dict(extra)
    payload["findings"] = [f.to_dict() for f in items]
    payload["summary"] = summary_line(items)
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"


def md_cell(text: object) -> str:
    """Escape text for a Markdown table cell: pipes and line breaks would break the row."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def render_markdown(findings: Iterable[Finding]) -> str:
    """A findings table, control characters escaped, then the summary line."""
    items = sorted_findings(printable_findings(findings))
    if not items:
        return "No findings.\n"
    rows = ["| Code | Severity | Location | Message |", "|---|---|---|---|"]
    rows += [
        f"| {f.code} | {f.severity} | {md_cell(f.location)} | {md_cell(f.message)} |" for f in items
    ]
    rows.append("")
    rows.append(summary_line(items))
    return "\n".join(rows) + "\n"


def render(findings: Iterable[Finding], fmt: Format) -> str:
    if fmt == "json":
        return render_json(findings)
    if fmt == "markdown":
        return render_markdown(findings)
    return render_text(findings)
