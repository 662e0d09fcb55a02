"""What a push will do, before it does anything: the files to publish, how each is stored on
the Hub (LFS or regular) and how it compares with the remote revision (new, changed,
unchanged), remote files to delete or keep, and local files that are never uploaded.

Pure logic and local file walking; no network (push.py fetches the remote state).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from publisher.errors import InputError
from publisher.filekind import not_regular
from publisher.hub.allowlist import (
    NEVER_DIRS,
    NOT_ALLOWED,
    allowed_kind,
    included_by,
    never_upload_reason,
)
from publisher.hub.pulls import PullRequest
from publisher.hubprotocol import DEFAULT_LFS_PATTERNS, lfs_patterns, upload_mode

Mode = Literal["lfs", "regular"]

# Managed by the Hub: never deleted, and not listed as "kept".
PROTECTED_REMOTE = frozenset({".gitattributes"})


class State(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class LocalFile:
    """One file to publish: from disk (`source`) or generated (`content`)."""

    path: str
    size: int
    sha256: str
    git_sha1: str | None
    sample: bytes
    source: Path | None = None
    content: bytes | None = None
    origin: str = "checkpoint"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int | None
    blob_id: str | None
    sha256: str | None  # set for LFS files

    @property
    def lfs(self) -> bool:
        return self.sha256 is not None


@dataclass
class RemoteState:
    """The revision a push is planned against: a branch, or an open pull request's ref."""

    repo_id: str
    revision: str
    exists: bool = False
    head: str | None = None
    branch_exists: bool = False
    private: bool | None = None
    files: dict[str, RemoteFile] = field(default_factory=dict)
    pull_request: PullRequest | None = None


@dataclass
class PlannedFile:
    local: LocalFile
    mode: Mode
    state: State

    @property
    def path(self) -> str:
        return self.local.path


@dataclass
class Plan:
    remote: RemoteState
    files: list[PlannedFile]
    deletions: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def changes(self) -> list[PlannedFile]:
        return [f for f in self.files if f.state is not State.UNCHANGED]

    @property
    def up_to_date(self) -> bool:
        return not self.changes and not self.deletions

    def count(self, state: State) -> int:
        return sum(1 for f in self.files if f.state is state)

    @property
    def change_bytes(self) -> int:
        return sum(f.local.size for f in self.changes)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s.value}" for s in State]
        text = f"{len(self.files)} files: " + ", ".join(parts)
        text += f", {len(self.deletions)} to delete; {human_bytes(self.change_bytes)} to send"
        return text

    def to_json(self) -> dict[str, Any]:
        remote = self.remote
        return {
            "repo_id": remote.repo_id,
            "revision": remote.revision,
            "repo_exists": remote.exists,
            "branch_exists": remote.branch_exists,
            "parent_commit": remote.head,
            "pull_request": remote.pull_request.to_json() if remote.pull_request else None,
            "files": [
                {
                    "path": f.path,
                    "state": f.state.value,
                    "mode": f.mode,
                    "size": f.local.size,
                    "sha256": f.local.sha256,
                    "origin": f.local.origin,
                }
                for f in self.files
            ],
            "delete": list(self.deletions),
            "kept": list(self.kept),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "summary": self.summary(),
        }


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


# ---- local files ------------------------------------------------------------------------


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _check_link(path: Path, root: Path, rel: str) -> Path:
    """The link's target; refused (InputError) when it leads outside the folder."""
    target = path.resolve()
    if not _inside(target, root):
        raise InputError(
            f"{rel} is a symbolic link to {target}, outside the folder",
            where=str(root),
            fix="copy the file into the folder, or remove the link",
        )
    return target


@dataclass
class Collection:
    """What a folder offers a push: files to publish (repository path → file on disk), the
    ones admitted only by an --include pattern (path → pattern), and what was skipped."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    included: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def collect_folder(
    folder: Path, *, include: tuple[str, ...] = (), images: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, Path]], list[Skipped]]:
    """(repo path, file) for every file to publish from `folder`, and what was skipped
    (see `collect_publishable`)."""
    found = collect_publishable(folder, include=include, images=images)
    return found.files, found.skipped


def collect_publishable(
    folder: Path, *, include: tuple[str, ...] = (), images: frozenset[str] = frozenset()
) -> Collection:
    """The files of `folder` a push may publish.

    A file is published when it is what a model repository holds (allowlist.ALLOWED), an
    image in `images` (the card references it), or matches an `include` pattern. A symbolic
    link is judged by its target (which must be a regular file inside the folder, itself
    admitted); a link leading outside the folder is refused (InputError). VCS data, caches
    and names that say "secret" are never published, whatever `include` says.
    """
    if not folder.is_dir():
        raise InputError("not a folder", where=str(folder))
    root = folder.resolve()
    found = Collection()
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames.sort()
        for name in list(dirnames):
            reason = _skip_dir(base / name, root, prefix + name)
            if reason is not None:
                dirnames.remove(name)
                found.skipped.append(Skipped(prefix + name + "/", reason))
        for name in sorted(filenames):
            rel, path = prefix + name, base / name
            reason, pattern = _judge_file(path, root, rel, include, images)
            if reason is not None:
                found.skipped.append(Skipped(rel, reason))
                continue
            found.files.append((rel, path))
            if pattern is not None:
                found.included[rel] = pattern
    return found


def _skip_dir(path: Path, root: Path, rel: str) -> str | None:
    if path.is_symlink():
        _check_link(path, root, rel)
        return "linked folder; not followed"
    return NEVER_DIRS.get(path.name.lower()) or never_upload_reason(path.name)


def _admitted(
    rel: str, include: tuple[str, ...], images: frozenset[str]
) -> tuple[bool, str | None]:
    """(admitted, the --include pattern that admitted it)."""
    if allowed_kind(rel) is not None or rel in images:
        return True, None
    pattern = included_by(rel, include)
    return pattern is not None, pattern


def _judge_file(
    path: Path, root: Path, rel: str, include: tuple[str, ...], images: frozenset[str]
) -> tuple[str | None, str | None]:
    """(why it is skipped or None, the --include pattern that admitted it or None)."""
    target_rel = rel
    if path.is_symlink():
        target = _check_link(path, root, rel)
        target_rel = target.relative_to(root).as_posix()
        what = describe_non_regular(target)
        if what is not None:
            return f"symbolic link to {target_rel}, {what}; not published", None
        reason = never_upload_reason(target.name)
        if reason is not None:
            return f"symbolic link to {target_rel}: {reason}", None
        ok, _ = _admitted(target_rel, include, images)
        if not ok:
            return f"symbolic link to {target_rel}: {NOT_ALLOWED}", None
    reason = never_upload_reason(path.name)
    if reason is not None:
        return reason, None
    what = describe_non_regular(path)
    if what is not None:
        return f"{what}, not a regular file", None
    ok, pattern = _admitted(rel, include, images)
    if not ok:
        return NOT_ALLOWED, None
    return None, pattern


def describe_non_regular(path: Path) -> str | None:
    """None for a regular file (after links), else what the path is."""
    return not_regular(path) or (None if os.path.lexists(path) else "missing")


def read_sample(path: Path) -> bytes:
    """The first 512 bytes: the Hub sends a file with a NUL byte in them to LFS."""
    with path.open("rb") as handle:
        return handle.read(512)


# ---- comparing with the remote ----------------------------------------------------------


def patterns_from(gitattributes: bytes | None) -> list[str]:
    """LFS patterns of a .gitattributes; the Hub's default list when there is none."""
    return lfs_patterns(gitattributes) if gitattributes is not None else list(DEFAULT_LFS_PATTERNS)


def predict_mode(local: LocalFile, patterns: list[str]) -> Mode:
    """How the Hub will store the file (the local Hub applies the same rule)."""
    if local.size == 0:
        return "regular"  # the client never sends empty files through LFS
    return (
        "lfs" if upload_mode(local.path, local.size, local.sample, patterns) == "lfs" else "regular"
    )


def file_state(local: LocalFile, remote: RemoteFile | None) -> State:
    """LFS files compare by sha256, regular ones by git blob id."""
    if remote is None:
        return State.NEW
    if remote.lfs:
        same = remote.sha256 == local.sha256 and remote.size in (None, local.size)
    else:
        same = local.git_sha1 is not None and remote.blob_id == local.git_sha1
    return State.UNCHANGED if same else State.CHANGED


def make_plan(
    files: list[LocalFile],
    remote: RemoteState,
    *,
    patterns: list[str],
    skipped: list[Skipped] | None = None,
    delete: tuple[str, ...] = (),
) -> Plan:
    """Compare the local files with the remote revision."""
    planned = []
    for local in files:
        existing = remote.files.get(local.path)
        state = file_state(local, existing)
        if state is State.UNCHANGED and existing is not None:
            mode: Mode = "lfs" if existing.lfs else "regular"
        else:
            mode = predict_mode(local, patterns)
        planned.append(PlannedFile(local, mode, state))
    ours = {f.path for f in files}
    deletions: list[str] = []
    kept: list[str] = []
    for path in sorted(set(remote.files) - ours - PROTECTED_REMOTE):
        doomed = any(fnmatch.fnmatchcase(path, pattern) for pattern in delete)
        (deletions if doomed else kept).append(path)
    return Plan(remote, planned, deletions, kept, list(skipped or []))


# ---- showing it -------------------------------------------------------------------------


def render_plan_text(plan: Plan, *, all_files: bool = True) -> str:
    """The plan as a table; `all_files=False` lists only what changes."""
    remote = plan.remote
    lines = [f"Plan for {remote.repo_id} ({remote.revision}): {_against(remote)}"]
    rows = plan.files if all_files else plan.changes
    width = max((len(human_bytes(f.local.size)) for f in rows), default=0)
    for f in rows:
        size = human_bytes(f.local.size).rjust(width)
        why = f"  (admitted by {f.local.origin})" if f.local.origin.startswith("--include") else ""
        lines.append(f"  {f.state.value:<10} {f.mode:<8} {size}  {f.path}{why}")
    lines += [f"  {'delete':<10} {'':<8} {'':>{width}}  {path}" for path in plan.deletions]
    if plan.kept:
        lines.append(
            "Kept on the Hub (not managed by this push; --delete PATTERN removes): "
            + ", ".join(plan.kept)
        )
    if plan.skipped:
        lines.append("Never uploaded:")
        lines += [f"  {s.path}: {s.reason}" for s in plan.skipped]
    lines.append(plan.summary())
    return "\n".join(lines) + "\n"


def _against(remote: RemoteState) -> str:
    if not remote.exists:
        return "new repository, created by the push"
    head = (remote.head or "")[:7]
    if remote.pull_request is not None:
        return f"open pull request #{remote.pull_request.num}, planned against {head}"
    if not remote.branch_exists:
        return f"new branch, created from {head}"
    return f"planned against {head}"
