"""Release specs: for each, lint → render → validate → push → Hub tag, then report.

Validation uses a local checkpoint when there is one (`--checkpoint DIR`, else the convention
`checkpoints/<spec-name>/` under the repository root); otherwise the weights already on the
Hub are audited by their headers (range requests). A repository with no weights yet is said
so, and nothing is validated. A spec whose checks fail is not pushed.

Exit code of a run: the worst of its specs: 0 released (or up to date, or a dry run), 1 checks
failed, 2 unusable input, 3 the Hub failed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from publisher import __version__
from publisher.errors import (
    EXIT_FINDINGS,
    EXIT_HUB,
    EXIT_INPUT,
    EXIT_OK,
    HubError,
    PublisherError,
)
from publisher.findings import Finding, Severity, has_errors, sorted_findings
from publisher.release.github import (
    GitHubContext,
    Scrubber,
    annotation,
    append_summary,
    command,
    write_outputs,
)
from publisher.release.tags import ReleaseItem, relative
from publisher.report import md_cell

if TYPE_CHECKING:
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.push import Progress, PushResult
    from publisher.spec.model import ModelSpec

CHECKPOINTS_DIR = "checkpoints"
Status = Literal[
    "released", "pr-opened", "pr-updated", "pr-already-open", "up-to-date", "dry-run", "blocked",
    "unusable", "hub-error",
]  # fmt: skip
EXIT_BY_STATUS: dict[str, int] = {
    "released": EXIT_OK,
    "pr-opened": EXIT_OK,
    "pr-updated": EXIT_OK,
    "pr-already-open": EXIT_OK,
    "up-to-date": EXIT_OK,
    "dry-run": EXIT_OK,
    "blocked": EXIT_FINDINGS,
    "unusable": EXIT_INPUT,
    "hub-error": EXIT_HUB,
}
HEADLINE = {
    "released": "released",
    "pr-opened": "pull request opened",
    "pr-updated": "pull request updated",
    "pr-already-open": "already proposed in an open pull request",
    "up-to-date": "already up to date",
    "dry-run": "dry run: checks passed, nothing pushed",
    "blocked": "checks failed: nothing pushed",
    "unusable": "unusable input: nothing pushed",
    "hub-error": "the Hub failed",
}


@dataclass
class ReleaseOptions:
    checkpoint: Path | None = None
    checkpoints_dir: str = CHECKPOINTS_DIR
    repo_id: str | None = None
    revision: str | None = None
    create_pr: bool = False
    private: bool = False
    dry_run: bool = False
    token: str | None = None
    endpoint: str | None = None


@dataclass
class SpecOutcome:
    """What happened to one spec."""

    item: ReleaseItem
    status: Status = "blocked"
    repo_id: str | None = None
    findings: list[Finding] = field(default_factory=list)
    lint_findings: list[Finding] = field(default_factory=list)
    card_lines: int | None = None
    checkpoint: Path | None = None
    validated: str = "not reached"
    validation: ValidationReport | None = None
    push: PushResult | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_BY_STATUS[self.status]


def resolve_release_token(token: str | None = None) -> str | None:
    """The token to publish with: HF_TOKEN, the stored login, or — with HF_OIDC_RESOURCE set —
    a short-lived one huggingface_hub (≥ 1.19) exchanges for the job's GitHub OIDC id token
    (Trusted Publishing). A failed exchange is a HubError (exit 3)."""
    from publisher.hub.client import redact, resolve_token

    try:
        return resolve_token(token)
    except Exception as error:
        if not os.environ.get("HF_OIDC_RESOURCE"):
            raise
        raise HubError(
            f"trusted publishing: the OIDC token exchange failed: {redact(str(error))}",
            fix="give the job `permissions: id-token: write` and add this repository's "
            "workflow as a Trusted Publisher of the Hub repository (or set HF_TOKEN)",
        ) from None


# ---- one spec -----------------------------------------------------------------------------


def local_checkpoint(item: ReleaseItem, root: Path, options: ReleaseOptions) -> Path | None:
    """`--checkpoint`, else `checkpoints/<spec-name>/` when it exists, else None (remote)."""
    if options.checkpoint is not None:
        return options.checkpoint
    folder = root / options.checkpoints_dir / item.name
    return folder if folder.is_dir() else None


def release_spec(
    item: ReleaseItem, root: Path, options: ReleaseOptions, progress: Progress | None = None
) -> SpecOutcome:
    """Check one spec and, when every check passes, push it (unless a dry run)."""
    outcome = SpecOutcome(item)
    try:
        _release_spec(outcome, root, options, progress)
    except HubError as error:
        outcome.status, outcome.error = "hub-error", str(error)
    except PublisherError as error:
        outcome.status, outcome.error = "unusable", str(error)
    return outcome


def _release_spec(
    outcome: SpecOutcome, root: Path, options: ReleaseOptions, progress: Progress | None
) -> None:
    from publisher.card.pipeline import checkpoint_facts, render_spec
    from publisher.checkpoint.validate import validate_checkpoint

    item = outcome.item
    checkpoint = outcome.checkpoint = local_checkpoint(item, root, options)
    facts = checkpoint_facts(checkpoint) if checkpoint is not None else None
    rendered = render_spec(item.path, checkpoint=facts)
    outcome.lint_findings = list(rendered.findings)
    outcome.findings += rendered.findings
    if rendered.spec is None or rendered.text is None or has_errors(rendered.findings):
        outcome.status = "unusable" if rendered.unusable else "blocked"
        return
    spec = rendered.spec
    outcome.card_lines = rendered.text.count("\n") + 1
    repo_id = outcome.repo_id = options.repo_id or spec.repo_id
    if checkpoint is not None:
        outcome.validation = validate_checkpoint(rendered, checkpoint)
        outcome.validation.checkpoint = relative(checkpoint, root)  # shown in the report
        outcome.validated = f"local checkpoint `{outcome.validation.checkpoint}`"
    else:
        outcome.validation, outcome.validated = validate_remote(spec, item, repo_id, options)
    if outcome.validation is not None:
        outcome.findings += outcome.validation.findings
    if has_errors(outcome.findings):
        outcome.status = "blocked"
        return
    _push(outcome, checkpoint, repo_id, options, progress)


def validate_remote(
    spec: ModelSpec, item: ReleaseItem, repo_id: str, options: ReleaseOptions
) -> tuple[ValidationReport | None, str]:
    """Validate the weights already on the Hub (headers only), or say there are none yet."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    from publisher.checkpoint.integrity import check_inventory
    from publisher.checkpoint.validate import validate_inventory
    from publisher.hub.client import hub_errors, make_api
    from publisher.hub.remote import read_remote_checkpoint
    from publisher.spec.lint import derive_inventory

    where = f"{repo_id}@{options.revision or 'main'}"
    api = make_api(options.token, options.endpoint)
    with hub_errors(f"reading {repo_id}", repo_id=repo_id, token=options.token):
        try:
            info = api.model_info(repo_id, revision=options.revision)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return None, f"no local checkpoint, and {where} does not exist yet: nothing validated"
    if not any(s.rfilename.endswith(".safetensors") for s in info.siblings or []):
        return None, f"no local checkpoint, and {where} has no weights yet: nothing validated"
    inventory, stats = read_remote_checkpoint(
        repo_id, options.revision, token=options.token, endpoint=options.endpoint
    )
    profile, model = derive_inventory(spec)
    report = validate_inventory(
        spec,
        profile,
        model,
        inventory,
        spec_file=item.path.name,
        read_findings=check_inventory(inventory),
    )
    return report, f"weights on the Hub `{where}` (headers, {stats.requests} requests)"


def _push(
    outcome: SpecOutcome,
    checkpoint: Path | None,
    repo_id: str,
    options: ReleaseOptions,
    progress: Progress | None,
) -> None:
    from publisher.hub.push import push

    item = outcome.item
    tag = None if options.create_pr else item.hub_tag
    version = f" {item.hub_tag}" if item.hub_tag else ""
    result = push(
        item.path,
        checkpoint,
        repo_id=repo_id,
        revision=options.revision,
        create_pr=options.create_pr,
        private=options.private,
        tag=tag,
        message=f"Release {item.name}{version} (publisher {__version__})",
        dry_run=options.dry_run,
        token=options.token,
        endpoint=options.endpoint,
        progress=progress,
    )
    outcome.push = result
    if result.status == "blocked":  # the push's own gate disagreed: report what it found
        known = set(outcome.findings)
        outcome.findings += [f for f in result.findings if f not in known]
        outcome.status = "unusable" if result.unusable else "blocked"
    elif result.status == "dry-run":
        outcome.status = "dry-run"
    elif result.status == "up-to-date":
        outcome.status = "up-to-date"
    elif result.status == "already-proposed":
        outcome.status = "pr-already-open"
    elif result.pr_action == "update":
        outcome.status = "pr-updated"
    else:
        outcome.status = "pr-opened" if result.pr_url else "released"


# ---- the whole run ------------------------------------------------------------------------


@dataclass
class Release:
    """A release run: the specs, where to report, and how."""

    items: list[ReleaseItem]
    root: Path
    options: ReleaseOptions
    context: GitHubContext
    tag: str | None = None
    commit: str | None = None
    reason: str = ""
    annotate: bool = False
    scrub: Scrubber = field(default_factory=Scrubber)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    progress: Progress | None = None
    outcomes: list[SpecOutcome] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.out.write(self.scrub(text))

    def run(self) -> int:
        write = self.write
        for item in self.items:
            where = f" {item.hub_tag}" if item.hub_tag else ""
            write(f"publisher release: {item.name}{where} ({item.spec})\n")
            outcome = release_spec(item, self.root, self.options, self.progress)
            self.outcomes.append(outcome)
            if self.annotate:
                write("".join(line + "\n" for line in self.annotations(outcome)))
            write(text_report(outcome))
        write_outputs(self.context.output, self.outputs(), self.scrub)
        append_summary(self.context.summary, self.summary(), self.scrub)
        return max((o.exit_code for o in self.outcomes), default=EXIT_OK)

    # ---- reporting ------------------------------------------------------------------------

    def workspace_file(self, file: str | None, checkpoint: Path | None) -> str | None:
        """A finding's file as a path inside the repository, or None when it lies outside."""
        if not file:
            return None
        given = Path(file)
        candidates = [given] if given.is_absolute() else [self.root / given, Path.cwd() / given]
        if checkpoint is not None and not given.is_absolute():
            candidates.append(checkpoint / given)
        root = self.root.resolve()
        for candidate in candidates:
            if candidate.exists():
                resolved = candidate.resolve()
                if resolved == root or root in resolved.parents:
                    return resolved.relative_to(root).as_posix()
        return None

    def annotations(self, outcome: SpecOutcome) -> list[str]:
        lines = [
            annotation(f, self.workspace_file(f.location.file, outcome.checkpoint))
            for f in sorted_findings(outcome.findings)
            if f.severity is not Severity.INFO
        ]
        if outcome.error:
            spec_file = self.workspace_file(str(outcome.item.path), None)
            props = {"file": spec_file, "title": "publisher release"}
            lines.append(command("error", outcome.error, props))
        return lines

    def outputs(self) -> dict[str, str]:
        pushes = [o.push for o in self.outcomes if o.push is not None]
        urls = [p.commit_url for p in pushes if p.commit_url and not p.pr_url]
        tags = sorted({p.tag for p in pushes if p.tag})
        prs = [p.pr_url for p in pushes if p.pr_url and p.status != "dry-run"]
        statuses = {o.status for o in self.outcomes}
        if any(EXIT_BY_STATUS[s] != EXIT_OK for s in statuses):
            status = "failed"
        elif statuses == {"dry-run"}:
            status = "dry-run"
        else:
            status = "released"
        values = {
            "commit_url": "\n".join(urls),
            "hub_tag": "\n".join(tags),
            "status": status,
            "specs": "\n".join(o.item.spec for o in self.outcomes),
        }
        if prs:
            values["pr_url"] = "\n".join(prs)
        return values

    def summary(self) -> str:
        title = f"`{self.tag}`" if self.tag else "(no release tag)"
        lines = [f"## publisher release {title}", ""]
        facts = []
        if self.commit:
            facts.append(f"commit `{self.commit[:12]}`")
        facts.append(f"{len(self.outcomes)} spec(s)")
        if self.options.dry_run:
            facts.append("**dry run**: nothing was pushed")
        lines.append("; ".join(facts) + (f". {self.reason}." if self.reason else "."))
        lines.append("")
        lines += ["| Spec | Hub repository | Result |", "|---|---|---|"]
        for o in self.outcomes:
            lines.append(
                f"| `{md_cell(o.item.spec)}` | {md_cell(o.repo_id or '-')} | {md_cell(HEADLINE[o.status])} |"
            )
        lines.append("")
        for outcome in self.outcomes:
            lines.append(spec_summary(outcome, self.root))
        lines.append(f"<sub>publisher {__version__}</sub>\n")
        return "\n".join(lines)


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


def spec_summary(outcome: SpecOutcome, root: Path) -> str:
    """The Markdown section of one spec: checks, component table, findings, Hub result."""
    from publisher.commands.validate import format_report
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
    from publisher.commands.validate import format_report
    from publisher.report import render_text

    text = ""
    if outcome.lint_findings:
        text += render_text(outcome.lint_findings)
    if outcome.validation is not None:
        text += format_report(outcome.validation, "text")
    elif outcome.status not in ("blocked", "unusable"):
        text += f"validate: {outcome.validated}\n"
    if outcome.push is not None and outcome.push.status != "blocked":
        from publisher.commands.push import render_result

        text += render_result(outcome.push)
    if outcome.error:
        text += f"publisher: error: {outcome.error}\n"
    return text + f"result: {HEADLINE[outcome.status]}\n\n"
