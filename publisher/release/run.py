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
from typing import TYPE_CHECKING, TextIO

from publisher import __version__
from publisher.errors import (
    EXIT_OK,
    HubError,
)
from publisher.findings import Severity, sorted_findings
from publisher.release.github import (
    GitHubContext,
    Scrubber,
    annotation,
    append_summary,
    command,
    write_outputs,
)
from publisher.release.outcome import EXIT_BY_STATUS, HEADLINE, ReleaseOptions, SpecOutcome
from publisher.release.report import spec_summary, text_report
from publisher.release.spec_release import release_spec
from publisher.release.tags import ReleaseItem
from publisher.report import md_cell

if TYPE_CHECKING:
    from publisher.hub.push_types import Progress


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
        signers = sorted({p.signer for p in pushes if p.signer})
        if signers:  # release --sign: who signed model.sig (what `publisher verify` pins)
            values["signer"] = "\n".join(signers)
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
