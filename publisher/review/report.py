"""`publisher diff` reports: text for a terminal, Markdown for a CI step summary, JSON for tools.

Card text may come from the Hub (anyone's words): control characters are escaped line by line,
and a Markdown code fence is made longer than any run of backticks inside it.
"""

from __future__ import annotations

import json
import re

from publisher.report import md_cell, printable, render_text
from publisher.review.diff import ReviewResult, SpecDiff

_BACKTICKS = re.compile(r"`+")


def summary_line(result: ReviewResult) -> str:
    total, changed, broken = len(result.specs), len(result.changed), len(result.broken)
    outcome = [f"{changed} would change"] if changed else []
    outcome += [f"{broken} cannot be rendered"] if broken else []
    return (
        f"{total} card(s) compared with {result.against.label}: {', '.join(outcome) or 'no change'}"
    )


def _safe_diff(text: str) -> str:
    return "".join(printable(line) + "\n" for line in text.splitlines())


def render_text_report(result: ReviewResult) -> str:
    out: list[str] = []
    for item in result.specs:
        if not item.renders:
            out.append(f"{item.spec}: cannot be rendered")
            out.append(render_text(item.findings).rstrip("\n"))
            continue
        if not item.changed:
            continue
        out.append(f"{printable(item.spec)} → {printable(item.repo_id)}: "
                   f"{len(item.changes)} change(s)")  # fmt: skip
        out += [f"  {printable(change.as_text())}" for change in item.changes]
        assert item.diff is not None
        out.append(_safe_diff(item.diff.unified()).rstrip("\n"))
    out.append(summary_line(result))
    return "\n".join(out) + "\n"


def render_markdown_report(result: ReviewResult) -> str:
    out = ["## Model cards: what would change", "", summary_line(result) + ".", ""]
    for item in result.specs:
        if not item.renders:
            out += [f"### ⚠ `{md_cell(printable(item.spec))}` cannot be rendered", ""]
            out += [f"- {md_cell(printable(f'{f.code}: {f.message}'))}" for f in item.findings]
            out.append("")
        elif item.changed:
            out += _markdown_section(item)
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_section(item: SpecDiff) -> list[str]:
    assert item.diff is not None
    out = [f"### {md_cell(printable(item.repo_id))} (`{md_cell(printable(item.spec))}`)", ""]
    out += ["| Where | Before | After |", "|---|---|---|"]
    for change in item.changes:
        before = "" if change.old is None else change.old
        after = "" if change.new is None else change.new
        out.append(f"| {md_cell(printable(change.where))} | {md_cell(printable(before))} "
                   f"| {md_cell(printable(after))} |")  # fmt: skip
    diff = _safe_diff(item.diff.unified())
    fence = "`" * max(3, 1 + max((len(m) for m in _BACKTICKS.findall(diff)), default=0))
    out += ["", "<details><summary>Card diff</summary>", "", f"{fence}diff", diff.rstrip("\n"),
            fence, "", "</details>", ""]  # fmt: skip
    return out


def render_json_report(result: ReviewResult) -> str:
    specs = []
    for item in result.specs:
        specs.append(
            {
                "spec": str(item.spec),
                "repo_id": item.repo_id,
                "against": item.against,
                "renders": item.renders,
                "changed": item.changed,
                "changes": [
                    {"where": c.where, "kind": c.kind, "old": c.old, "new": c.new}
                    for c in item.changes
                ],
                "diff": item.diff.unified() if item.diff is not None else None,
                "findings": [f.to_dict() for f in item.findings],
            }
        )
    payload = {"against": result.against.label, "specs": specs, "summary": summary_line(result)}
    return json.dumps(payload, indent=2) + "\n"
