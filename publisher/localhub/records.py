"""What the local Hub stores: repositories, commits, file entries, discussions and commit operations.

Also the error every refused request raises (`HubStateError`: HTTP status and X-Error-Code) and
the checks on names and paths that keep everything inside the data directory.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REPO_TYPES = ("model", "dataset", "space")
DEFAULT_BRANCH = "main"


_OID_RE = re.compile(r"[0-9a-f]{64}")
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


class HubStateError(Exception):
    """A request the state refuses: carries the HTTP status and the Hub's X-Error-Code."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def repo_not_found(repo_id: str) -> HubStateError:
    return HubStateError(404, f"Repository not found: {repo_id}", "RepoNotFound")


def revision_not_found(revision: str) -> HubStateError:
    return HubStateError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str) -> HubStateError:
    return HubStateError(404, f"Entry not found: {path}", "EntryNotFound")


def now_iso() -> str:
    """The current UTC time in the Hub's format, e.g. 2024-05-01T12:00:00.123Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_id(data: bytes) -> str:
    """The git object id (sha1) of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(oid: str, size: int) -> bytes:
    """The git-lfs pointer file that stands in git for an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def is_oid(value: object) -> bool:
    return isinstance(value, str) and _OID_RE.fullmatch(value) is not None


def check_repo_name(namespace: str, name: str) -> None:
    """Refuse names the Hub refuses (and anything that could escape the data directory)."""
    for part in (namespace, name):
        if not _NAME_RE.fullmatch(part) or "--" in part or ".." in part or part.endswith(".git"):
            raise HubStateError(400, f"Invalid repo name: {namespace}/{name}")


MAX_PATH_LENGTH = 1000


def check_path(path: str) -> str:
    """A file path inside a repository, as the Hub accepts it: relative, no empty, '.' or '..'
    parts, not under .git, no backslash, no NUL or other control character."""
    parts = path.split("/")
    if (
        not path
        or len(path) > MAX_PATH_LENGTH
        or any(part in ("", ".", "..") for part in parts)
        or parts[0] == ".git"
        or "\\" in path
        or not path.isprintable()
    ):
        raise HubStateError(400, f"Invalid path in repo: {path!r}")
    return path


@dataclass(frozen=True)
class FileEntry:
    """One file of a tree: where its content is (sha256) and how git sees it (blob id)."""

    path: str
    size: int
    sha256: str
    blob_id: str  # for LFS files, the id of the pointer file, as on the Hub
    lfs: bool

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256, "blobId": self.blob_id, "lfs": self.lfs}

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> FileEntry:
        return cls(path, int(data["size"]), data["sha256"], data["blobId"], bool(data["lfs"]))


@dataclass(frozen=True)
class Commit:
    """A commit: parents, message, author, date and the full file tree (a snapshot)."""

    id: str
    parents: tuple[str, ...]
    title: str
    message: str
    author: str
    date: str
    tree: Mapping[str, FileEntry]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "title": self.title,
            "message": self.message,
            "author": self.author,
            "date": self.date,
            "tree": {path: entry.to_json() for path, entry in sorted(self.tree.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Commit:
        tree = {path: FileEntry.from_json(path, entry) for path, entry in data["tree"].items()}
        return cls(
            id=data["id"],
            parents=tuple(data["parents"]),
            title=data["title"],
            message=data["message"],
            author=data["author"],
            date=data["date"],
            tree=tree,
        )


def make_commit(
    parents: tuple[str, ...], title: str, message: str, author: str, tree: Mapping[str, FileEntry]
) -> Commit:
    """Build a commit whose id is the sha1 of its content, like git."""
    body = {
        "parents": list(parents),
        "title": title,
        "message": message,
        "author": author,
        "date": now_iso(),
        "tree": {path: entry.to_json() for path, entry in sorted(tree.items())},
    }
    commit_id = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return Commit.from_json({"id": commit_id, **body})


@dataclass
class Discussion:
    """A discussion or pull request. A pull request's commits live on refs/pr/<num>."""

    num: int
    title: str
    author: str
    created_at: str
    is_pull_request: bool
    status: str  # "draft" | "open" | "merged" | "closed"
    target_branch: str | None = None
    base_commit: str | None = None
    merge_commit: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Discussion:
        return cls(**data)


@dataclass
class Repo:
    """A repository's mutable metadata: visibility and refs."""

    type: str
    id: str
    private: bool
    author: str
    created_at: str
    last_modified: str
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    pull_requests: dict[int, str] = field(default_factory=dict)
    discussions: list[Discussion] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["pull_requests"] = {str(num): oid for num, oid in self.pull_requests.items()}
        data["discussions"] = [discussion.to_json() for discussion in self.discussions]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Repo:
        fields = dict(data)
        fields["pull_requests"] = {int(num): oid for num, oid in data["pull_requests"].items()}
        fields["discussions"] = [Discussion.from_json(item) for item in data["discussions"]]
        return cls(**fields)

    def discussion(self, num: int) -> Discussion:
        for item in self.discussions:
            if item.num == num:
                return item
        raise HubStateError(404, f"Discussion #{num} not found")


@dataclass(frozen=True)
class AddFile:
    """Commit operation: put `entry` at `entry.path` (its content is already stored)."""

    entry: FileEntry


@dataclass(frozen=True)
class DeletePath:
    """Commit operation: remove a file, or every file under a folder."""

    path: str
    folder: bool


Operation = AddFile | DeletePath


@dataclass(frozen=True)
class CommitResult:
    commit: Commit
    pr_num: int | None


def apply_operations(
    tree: Mapping[str, FileEntry], ops: Iterable[Operation]
) -> dict[str, FileEntry]:
    """The tree after `ops`, in order; refuses deleting what is not there."""
    new = dict(tree)
    for op in ops:
        if isinstance(op, AddFile):
            new[op.entry.path] = op.entry
        elif op.folder:
            prefix = op.path.rstrip("/") + "/"
            doomed = [path for path in new if path.startswith(prefix)]
            if not doomed:
                raise entry_not_found(f"{op.path} (no such folder)")
            for path in doomed:
                del new[path]
        elif new.pop(op.path, None) is None:
            raise entry_not_found(f"{op.path} (A file with this name doesn't exist)")
    _check_no_file_folder_clash(new)
    return new


def _check_no_file_folder_clash(tree: Mapping[str, FileEntry]) -> None:
    folders = {path.rsplit("/", 1)[0] for path in tree if "/" in path}
    folders |= {
        folder.rsplit("/", i)[0] for folder in folders for i in range(folder.count("/") + 1)
    }
    clash = sorted(folders & tree.keys())
    if clash:
        raise HubStateError(400, f"'{clash[0]}' cannot be both a file and a folder")


def folder_id(tree: Mapping[str, FileEntry], folder: str) -> str:
    """A stable id for a folder: the sha1 of what it holds."""
    prefix = folder + "/" if folder else ""
    body = "".join(f"{p} {e.blob_id}\n" for p, e in sorted(tree.items()) if p.startswith(prefix))
    return hashlib.sha1(body.encode()).hexdigest()
