"""What a push takes and gives: options, progress reporting, the checks' verdict, the result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from publisher.errors import UsageError
from publisher.findings import Finding, has_errors
from publisher.hub.hashcache import (
    HashStats,
)
from publisher.hub.plan import (
    Plan,
)
from publisher.hub.pulls import (
    PullRequest,
    PullRequestAction,
)

if TYPE_CHECKING:
    pass

Advance = Callable[[int], None]
# "already-proposed": an open pull request of publisher's already holds these files.
Status = Literal["blocked", "dry-run", "up-to-date", "already-proposed", "committed"]


class Progress(Protocol):
    """Where a push reports what it is doing (the CLI shows bars or plain lines)."""

    def task(self, label: str, total: int) -> AbstractContextManager[Advance]: ...

    def note(self, text: str) -> None: ...


class QuietProgress:
    """Reports nothing (the library default)."""

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Advance]:
        yield lambda n: None

    def note(self, text: str) -> None:
        return None


@dataclass
class PushOptions:
    repo_id: str | None = None
    revision: str | None = None
    create_pr: bool = False
    private: bool = False
    tag: str | None = None
    message: str | None = None
    delete: tuple[str, ...] = ()
    dry_run: bool = False
    include: tuple[str, ...] = ()
    """fnmatch patterns of files to publish beyond what a model repository holds."""
    precision_map: bool = False  # publish precision_map.svg beside the weights, card links it

    def check(self) -> None:
        if self.tag and self.create_pr:
            raise UsageError("--tag and --create-pr do not go together: tag after merging the PR")
        if self.tag and not is_version_tag(self.tag):
            raise UsageError(
                f"tag {self.tag!r} is not a version tag",
                fix="write v<major>.<minor>.<patch>, e.g. v1.0.0",
            )
        if self.revision and self.revision.startswith(("refs/", "/")):
            raise UsageError("--revision takes a branch name (e.g. dev), not a ref")


def is_version_tag(tag: str) -> bool:
    """v<semver> (v1.0.0, v1.2.0-rc.1), as release tags are: `1.0` and `v1` are not."""
    import re

    from publisher.release.tags import SEMVER

    return re.fullmatch(rf"v{SEMVER}", tag) is not None


@dataclass
class Gate:
    """What the checks said, and the generated files when they passed."""

    findings: list[Finding]
    unusable: bool = False
    card: str | None = None
    manifest: dict[str, Any] | None = None
    precision_map: bytes | None = None  # precision_map.svg, drawn from the checkpoint's audit

    @property
    def blocked(self) -> bool:
        return self.card is None or has_errors(self.findings)


@dataclass
class PushResult:
    status: Status
    findings: list[Finding] = field(default_factory=list)
    unusable: bool = False
    plan: Plan | None = None
    commit: str | None = None
    commit_url: str | None = None
    pull_request: PullRequest | None = None
    pr_action: PullRequestAction | None = None
    tag: str | None = None
    tag_state: Literal["created", "present"] | None = None
    created_repo: bool = False
    hash_stats: HashStats = field(default_factory=HashStats)
    uploaded_bytes: int | None = 0
    notes: list[str] = field(default_factory=list)
    signer: str | None = None  # who signed model.sig (push --sign)

    @property
    def pr_url(self) -> str | None:
        """The pull request opened, updated or reused (in a dry run: that would be)."""
        return self.pull_request.url if self.pull_request else None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "commit": self.commit,
            "commit_url": self.commit_url,
            "pr_url": self.pr_url,
            "pull_request": self._pull_request_json(),
            "tag": self.tag,
            "tag_state": self.tag_state,
            "created_repo": self.created_repo,
            "hashed_bytes": self.hash_stats.hashed_bytes,
            "hashed_files": self.hash_stats.hashed_files,
            "cached_files": self.hash_stats.cached_files,
            "uploaded_bytes": self.uploaded_bytes,
            "notes": self.notes,
            "signer": self.signer,
            "plan": self.plan.to_json() if self.plan else None,
            "findings": [f.to_dict() for f in self.findings],
        }

    def _pull_request_json(self) -> dict[str, Any] | None:
        if self.pr_action is None:
            return None
        if self.pull_request is None:  # one still to open: no number yet
            return {"action": self.pr_action, "num": None, "ref": None, "url": None}
        return {"action": self.pr_action, **self.pull_request.to_json()}
