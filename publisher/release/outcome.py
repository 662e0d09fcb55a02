"""What happened to each spec of a release: its status, exit code, findings and Hub result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from publisher.errors import (
    EXIT_FINDINGS,
    EXIT_HUB,
    EXIT_INPUT,
    EXIT_OK,
)
from publisher.findings import Finding
from publisher.release.tags import ReleaseItem

if TYPE_CHECKING:
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.push_types import PushResult
    from publisher.provenance.keys import SigningMaterial


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
    precision_map: bool = False  # publish precision_map.svg with a local checkpoint
    signing: SigningMaterial | None = None  # sign the published files into model.sig


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
