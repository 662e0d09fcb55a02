"""Control characters from hostile files never reach a terminal or a job log raw: the CLI,
`publisher release` and the library print findings through the same escaping."""

from __future__ import annotations

from pathlib import Path

from publisher.findings import Finding, Location
from publisher.release.outcome import SpecOutcome
from publisher.release.report import spec_summary, text_report
from publisher.release.tags import ReleaseItem
from publisher.report import render_markdown, render_text

# A tensor name or spec value as a hostile file could carry it: a colour code, a carriage
# return that would overwrite the line, a bidi override that reorders what the reader sees.
HOSTILE = "model.layers.0\x1b[31m.weight\rFAKE\u202e"
ESCAPED = "model.layers.0\\x1b[31m.weight\\rFAKE\\u202e"


def _finding() -> Finding:
    return Finding("SPEC030", f"{HOSTILE} is odd", Location(file="spec.yaml", pointer=HOSTILE))


def _outcome() -> SpecOutcome:
    item = ReleaseItem("model_specs/X.yaml", Path("model_specs/X.yaml"), "X", "1.0.0", None)
    finding = _finding()
    return SpecOutcome(item, status="blocked", findings=[finding], lint_findings=[finding])


def _raw_controls(text: str) -> list[str]:
    return [ch for ch in text if not ch.isprintable() and ch != "\n"]


def test_the_release_log_escapes_control_characters_as_the_cli_does() -> None:
    log = text_report(_outcome())
    assert _raw_controls(log) == []
    assert f"{ESCAPED} is odd" in log
    assert render_text([_finding()]) in log  # the very text the CLI prints


def test_the_release_summary_escapes_control_characters() -> None:
    summary = spec_summary(_outcome(), Path("."))
    assert _raw_controls(summary) == []
    assert "FAKE" in summary  # shown, escaped (and a Markdown cell doubles the backslashes)
    assert render_markdown([_finding()]) in summary


def test_release_annotations_escape_control_characters_and_keep_githubs_rules() -> None:
    from publisher.release.github import annotation

    line = annotation(_finding(), "model_specs/X.yaml")
    assert _raw_controls(line) == []
    # ESC and the bidi override as the CLI shows them; CR by GitHub's own rule
    assert "model.layers.0\\x1b[31m.weight%0DFAKE\\u202e is odd" in line
    assert annotation(Finding("SPEC030", "two\nlines"), None).endswith("::two%0Alines")
