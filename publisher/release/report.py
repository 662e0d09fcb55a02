"""How a release reads: the log text and the Markdown summary section of one spec."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from publisher.findings import Severity
from publisher.release.outcome import HEADLINE, SpecOutcome
from publisher.report import md_cell

if TYPE_CHECKING:
    pass


def _lint_line(outcome: SpecOutcome) -> str:
    errors = sum(1 for f in outcome.lint_findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in outcome.lint_findings if f.severity is Severity.WARNING)
    verdict = "failed" if errors else "passed"
    return f"{verdict} ({errors} error(s), {warnings} warning(s))"


_PR_STATE = {"update": " (updated)", "reuse": " (already open; nothing sent)"}


def _hub_line(outcome: SpecOutcome) -> str:
    result = outcome.push
    if result is None:
        return outcome.error or "not pushed"
    if result.status == "dry-run":
        changes = len(result.plan.changes) if result.plan else 0
        where = f" in pull request {result.pr_url}" if result.pr_url else ""
        return f"dry run: {changes} file(s) would change{where}; nothing was sent"
    parts = []
    if result.pr_url:
        parts.append(f"pull request {result.pr_url}{_PR_STATE.get(result.pr_action or '', '')}")
    elif result.commit_url and result.commit:
        parts.append(f"commit [`{result.commit[:7]}`]({result.commit_url})")
    elif result.plan is not None and result.plan.remote.head:
        parts.append(f"up to date at `{result.plan.remote.head[:7]}`")
    if result.tag:
        state = "already there" if result.tag_state == "present" else "created"
        parts.append(f"tag `{result.tag}` ({state})")
    return ", ".join(parts) or result.status


MAP_FILE = "precision_map.svg"


def _map_line(outcome: SpecOutcome) -> str | None:
    """The summary's link to the precision map the push published, or None."""
    result = outcome.push
    if result is None or result.plan is None or result.status == "blocked":
        return None
    if not any(f.local.path == MAP_FILE for f in result.plan.files):
        return None
    if result.status == "dry-run":
        return f"`{MAP_FILE}` would be published beside the weights; the card embeds it"
    remote = result.plan.remote
    revision = result.commit or remote.head
    if result.commit_url and "/commit/" in result.commit_url:
        base = result.commit_url.split(f"/{remote.repo_id}/commit/", 1)[0]
    else:
        from huggingface_hub import constants

        base = constants.ENDPOINT
    if result.pr_url:
        return f"[`{MAP_FILE}`]({result.pr_url}) in the pull request; the card embeds it"
    if not revision:
        return None
    url = f"{base}/{remote.repo_id}/blob/{revision}/{MAP_FILE}"
    return f"[`{MAP_FILE}`]({url}), embedded in the card"


def spec_summary(outcome: SpecOutcome, root: Path) -> str:
    """The Markdown section of one spec: checks, component table, findings, Hub result."""
    from publisher.checkpoint.validation_report import format_report
    from publisher.report import render_markdown

    item = outcome.item
    version = f" {item.hub_tag}" if item.hub_tag else ""
    lines = [f"### `{item.name}`{version}: {HEADLINE[outcome.status]}", ""]
    lines += ["| Step | Result |", "|---|---|"]
    lines.append(f"| Lint `{md_cell(item.spec)}` | {md_cell(_lint_line(outcome))} |")
    card = f"rendered ({outcome.card_lines} lines)" if outcome.card_lines else "not rendered"
    lines.append(f"| Card | {card} |")
    validation = outcome.validation
    checked = outcome.validated
    if validation is not None:
        verdict = "passed" if validation.ok else "failed"
        checked += (
            f": {verdict}, {validation.tensor_count:,} tensors, format {validation.detected_format}"
        )
    lines.append(f"| Validate | {md_cell(checked)} |")
    hub = _hub_line(outcome)
    repo = f"`{outcome.repo_id}`: " if outcome.repo_id else ""
    lines.append(f"| Hub | {repo}{md_cell(hub) if outcome.push is None else hub} |")
    precision_map = _map_line(outcome)
    if precision_map:
        lines.append(f"| Precision map | {precision_map} |")
    if outcome.push is not None and outcome.push.signer:
        lines.append(f"| Signed by | {md_cell(outcome.push.signer)} (`model.sig`, same commit) |")
    lines.append("")
    if outcome.error:
        lines += [f"**Error:** {md_cell(outcome.error)}", ""]
    if outcome.lint_findings:
        lines += ["#### Spec findings", "", render_markdown(outcome.lint_findings)]
    if validation is not None:
        lines.append(
            format_report(validation, "markdown").replace("### Validation", "#### Validation", 1)
        )
    return "\n".join(lines) + "\n"


def text_report(outcome: SpecOutcome) -> str:
    """What a person reads in the log for one spec."""
    from publisher.checkpoint.validation_report import format_report
    from publisher.report import render_text

    text = ""
    if outcome.lint_findings:
        text += render_text(outcome.lint_findings)
    if outcome.validation is not None:
        text += format_report(outcome.validation, "text")
    elif outcome.status not in ("blocked", "unusable"):
        text += f"validate: {outcome.validated}\n"
    if outcome.push is not None and outcome.push.status != "blocked":
        from publisher.hub.push_report import render_result

        text += render_result(outcome.push)
    if outcome.error:
        text += f"publisher: error: {outcome.error}\n"
    return text + f"result: {HEADLINE[outcome.status]}\n\n"
