"""On-disk state of the local Hub: content-addressed objects, commits and refs.

Layout under the data directory::

    upload-key                         signs LFS upload URLs
    objects/ab/cd/<sha256>             every file's content, named by its sha256 (LFS or not)
    repos/<type>s/<ns>/<name>/repo.json  visibility, branches, tags, pull requests, discussions
    repos/<type>s/<ns>/<name>/commits/<commit id>.json  parent, message, author, full file tree
    tmp/                                 temporary files, emptied at start

Upload mode (the preupload answer; rules in publisher/hubprotocol.py): LFS for paths matching a `filter=lfs` pattern of the
revision's .gitattributes (a new repository gets the Hub's default one: *.safetensors, *.bin,
*.pt, ...), for files of LFS_SIZE_THRESHOLD (10 MiB) or more, and for binary content (a NUL
byte in the first 512 bytes); everything else is committed inline. LFS objects are stored
once for the whole server, so the LFS batch API skips objects any repository already has.

Every write goes to a temporary file first and is then renamed into place, so a crash never
leaves half an object or half a commit: a commit is visible only once its ref in repo.json
points at it, and repo.json is replaced in one rename.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from publisher.hubprotocol import DEFAULT_GITATTRIBUTES
from publisher.localhub.objects import ObjectStore, atomic_write
from publisher.localhub.records import (
    DEFAULT_BRANCH,
    REPO_TYPES,
    Commit,
    CommitResult,
    Discussion,
    FileEntry,
    HubStateError,
    Operation,
    Repo,
    apply_operations,
    check_repo_name,
    make_commit,
    now_iso,
    repo_not_found,
    revision_not_found,
)

_PR_REF_RE = re.compile(r"refs/pr/(\d+)")
_COMMIT_PREFIX_RE = re.compile(r"[0-9a-f]{7,40}")


class Storage(ObjectStore):
    """All state of the local Hub, on disk under `root`. Thread-safe."""

    def __init__(self, root: Path):
        self.root = Path(root)
        super().__init__(self.root)  # objects/ and tmp/
        self.repos_dir = self.root / "repos"
        self.repos_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._commits: dict[tuple[str, str, str], Commit] = {}

    def signing_key(self) -> bytes:
        """The key that signs LFS upload URLs; kept on disk so URLs outlive a restart."""
        path = self.root / "upload-key"
        with self._lock:
            if not path.is_file():
                atomic_write(path, os.urandom(32))
                path.chmod(0o600)
            return path.read_bytes()

    def wipe(self) -> None:
        """Delete every repository and object."""
        with self._lock:
            for folder in (self.repos_dir, self.objects_dir):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            self._repos.clear()
            self._commits.clear()

    # ---- repositories -------------------------------------------------------------------

    def _repo_dir(self, repo_type: str, repo_id: str) -> Path:
        namespace, name = repo_id.split("/")
        return self.repos_dir / f"{repo_type}s" / namespace / name

    def get_repo(self, repo_type: str, repo_id: str) -> Repo | None:
        """A copy of the repository's metadata, or None if it does not exist."""
        with self._lock:
            repo = self._load_repo(repo_type, repo_id)
            return copy.deepcopy(repo) if repo else None

    def _load_repo(self, repo_type: str, repo_id: str) -> Repo | None:
        key = (repo_type, repo_id)
        if key not in self._repos:
            if repo_type not in REPO_TYPES or repo_id.count("/") != 1:
                return None
            meta = self._repo_dir(repo_type, repo_id) / "repo.json"
            if not meta.is_file():
                return None
            self._repos[key] = Repo.from_json(json.loads(meta.read_text()))
        return self._repos[key]

    def _require_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self._load_repo(repo_type, repo_id)
        if repo is None:
            raise repo_not_found(repo_id)
        return repo

    def _save_repo(self, repo: Repo) -> None:
        """Persist, then publish: a failed write leaves the old metadata in force."""
        repo.last_modified = now_iso()
        path = self._repo_dir(repo.type, repo.id) / "repo.json"
        atomic_write(path, json.dumps(repo.to_json(), indent=1).encode())
        self._repos[(repo.type, repo.id)] = repo

    def create_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        """Create a repository with the Hub's initial commit (a default .gitattributes)."""
        namespace, name = repo_id.split("/")
        check_repo_name(namespace, name)
        with self._lock:
            if self._load_repo(repo_type, repo_id) is not None:
                raise HubStateError(409, "You already created this model repo")
            tree = {".gitattributes": self.regular_entry(".gitattributes", DEFAULT_GITATTRIBUTES)}
            commit = make_commit((), "initial commit", "", author, tree)
            self._save_commit(repo_type, repo_id, commit)
            stamp = now_iso()
            repo = Repo(
                repo_type, repo_id, private, author, stamp, stamp, {DEFAULT_BRANCH: commit.id}
            )
            self._save_repo(repo)
            return copy.deepcopy(repo)

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        """Remove a repository (its objects stay: they may be shared)."""
        with self._lock:
            self._require_repo(repo_type, repo_id)
            folder = self._repo_dir(repo_type, repo_id)
            graveyard = Path(tempfile.mkdtemp(dir=self.tmp_dir, prefix="deleted-"))
            os.replace(folder, graveyard / "repo")
            del self._repos[(repo_type, repo_id)]
            self._commits = {
                k: v for k, v in self._commits.items() if k[:2] != (repo_type, repo_id)
            }
        shutil.rmtree(graveyard, ignore_errors=True)

    def set_private(self, repo_type: str, repo_id: str, private: bool) -> None:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            repo.private = private
            self._save_repo(repo)

    # ---- commits and revisions ----------------------------------------------------------

    def _save_commit(self, repo_type: str, repo_id: str, commit: Commit) -> None:
        path = self._repo_dir(repo_type, repo_id) / "commits" / f"{commit.id}.json"
        atomic_write(path, json.dumps(commit.to_json()).encode())
        self._commits[(repo_type, repo_id, commit.id)] = commit

    def get_commit(self, repo_type: str, repo_id: str, commit_id: str) -> Commit:
        key = (repo_type, repo_id, commit_id)
        with self._lock:
            if key not in self._commits:
                path = self._repo_dir(repo_type, repo_id) / "commits" / f"{commit_id}.json"
                self._commits[key] = Commit.from_json(json.loads(path.read_text()))
            return self._commits[key]

    def resolve(self, repo: Repo, revision: str) -> str | None:
        """The commit id a revision names: branch, tag, refs/..., PR ref or commit id (prefix)."""
        for prefix, refs in (("refs/heads/", repo.branches), ("refs/tags/", repo.tags)):
            name = revision.removeprefix(prefix)
            if name in refs:
                return refs[name]
        pr = _PR_REF_RE.fullmatch(revision)
        if pr:
            return repo.pull_requests.get(int(pr.group(1)))
        if _COMMIT_PREFIX_RE.fullmatch(revision):
            folder = self._repo_dir(repo.type, repo.id) / "commits"
            found = [p.stem for p in folder.glob(f"{revision}*.json")]
            return found[0] if len(found) == 1 else None
        return None

    def resolve_commit(self, repo: Repo, revision: str) -> Commit:
        commit_id = self.resolve(repo, revision)
        if commit_id is None:
            raise revision_not_found(revision)
        return self.get_commit(repo.type, repo.id, commit_id)

    def history(self, repo: Repo, commit_id: str) -> Iterator[Commit]:
        """The commit and its first-parent ancestors, newest first."""
        current: str | None = commit_id
        while current is not None:
            commit = self.get_commit(repo.type, repo.id, current)
            yield commit
            current = commit.parents[0] if commit.parents else None

    def read_file(self, repo: Repo, revision: str, path: str) -> bytes | None:
        entry = self.resolve_commit(repo, revision).tree.get(path)
        return self.read_object(entry.sha256) if entry else None

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        revision: str,
        ops: list[Operation],
        *,
        title: str,
        message: str,
        author: str,
        parent_commit: str | None = None,
        create_pr: bool = False,
    ) -> CommitResult:
        """Apply `ops` on top of `revision` (a branch or refs/pr/N), or open a pull request.

        With `parent_commit`, refuse (412) unless the branch still points at it: one writer
        at a time per branch. With `create_pr`, the PR starts from `parent_commit` if given,
        takes the commit's title as its title and its description as its opening comment
        (as on the Hub).
        """
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            if create_pr:
                return self._commit_to_new_pr(
                    repo, revision, ops, title, message, author, parent_commit
                )
            set_ref = self._writable_ref(repo, revision)
            head = self.resolve_commit(repo, revision)
            if parent_commit is not None and not head.id.startswith(parent_commit.lower()):
                raise HubStateError(
                    412, "A commit has happened since. Please refresh and try again.", "Conflict"
                )
            commit = self._new_commit(repo, head, ops, title, message, author)
            set_ref(commit.id)
            self._note_pr_commit(repo, revision, commit)
            self._save_repo(repo)
            return CommitResult(commit, None)

    def _new_commit(
        self, repo: Repo, base: Commit, ops: list[Operation], title: str, message: str, author: str
    ) -> Commit:
        tree = apply_operations(base.tree, ops)
        commit = make_commit((base.id,), title, message, author, tree)
        self._save_commit(repo.type, repo.id, commit)
        return commit

    def _writable_ref(self, repo: Repo, revision: str) -> Callable[[str], None]:
        """A setter for the ref `revision` names, if commits may go there."""
        branch = revision.removeprefix("refs/heads/")
        if branch in repo.branches:
            return lambda oid: repo.branches.__setitem__(branch, oid)
        pr = _PR_REF_RE.fullmatch(revision)
        if pr and int(pr.group(1)) in repo.pull_requests:
            num = int(pr.group(1))
            if repo.discussion(num).status in ("merged", "closed"):
                raise HubStateError(403, f"Pull request #{num} is {repo.discussion(num).status}")
            return lambda oid: repo.pull_requests.__setitem__(num, oid)
        if self.resolve(repo, revision) is not None:
            raise HubStateError(400, f"Cannot commit to {revision}: not a branch")
        raise revision_not_found(revision)

    def _commit_to_new_pr(
        self,
        repo: Repo,
        revision: str,
        ops: list[Operation],
        title: str,
        message: str,
        author: str,
        parent_commit: str | None,
    ) -> CommitResult:
        target = revision.removeprefix("refs/heads/")
        if target not in repo.branches:
            raise revision_not_found(revision)
        base = self.resolve_commit(repo, parent_commit or target)
        commit = self._new_commit(repo, base, ops, title, message, author)
        discussion = self._open_discussion(repo, title, author, is_pr=True, status="open")
        discussion.target_branch, discussion.base_commit = target, base.id
        repo.pull_requests[discussion.num] = commit.id
        discussion.events.append(_comment_event(author, message))  # the commit's description
        discussion.events.append(_commit_event(commit))
        self._save_repo(repo)
        return CommitResult(commit, discussion.num)

    def _note_pr_commit(self, repo: Repo, revision: str, commit: Commit) -> None:
        pr = _PR_REF_RE.fullmatch(revision)
        if pr:
            discussion = repo.discussion(int(pr.group(1)))
            discussion.events.append(_commit_event(commit))
            if discussion.status == "draft":
                discussion.status = "open"

    @staticmethod
    def _open_discussion(
        repo: Repo, title: str, author: str, *, is_pr: bool, status: str
    ) -> Discussion:
        num = max((d.num for d in repo.discussions), default=0) + 1
        discussion = Discussion(num, title, author, now_iso(), is_pr, status)
        repo.discussions.append(discussion)
        return discussion

    # ---- refs ---------------------------------------------------------------------------

    def create_branch(self, repo_type: str, repo_id: str, branch: str, start: str | None) -> None:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            _check_ref_name(branch)
            if branch in repo.branches:
                raise HubStateError(409, f"Reference refs/heads/{branch} already exists")
            repo.branches[branch] = self.resolve_commit(repo, start or DEFAULT_BRANCH).id
            self._save_repo(repo)

    def delete_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            if branch == DEFAULT_BRANCH:
                raise HubStateError(403, "Cannot delete the default branch")
            if repo.branches.pop(branch, None) is None:
                raise revision_not_found(branch)
            self._save_repo(repo)

    def create_tag(self, repo_type: str, repo_id: str, tag: str, revision: str) -> None:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            _check_ref_name(tag)
            if tag in repo.tags:
                raise HubStateError(409, f"Tag {tag} already exists")
            repo.tags[tag] = self.resolve_commit(repo, revision).id
            self._save_repo(repo)

    def delete_tag(self, repo_type: str, repo_id: str, tag: str) -> None:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            if repo.tags.pop(tag.removeprefix("refs/tags/"), None) is None:
                raise revision_not_found(tag)
            self._save_repo(repo)

    # ---- discussions and pull requests --------------------------------------------------

    def create_discussion(
        self,
        repo_type: str,
        repo_id: str,
        title: str,
        author: str,
        *,
        description: str = "",
        pull_request: bool = False,
    ) -> Discussion:
        """Open a discussion, or a draft pull request starting at the head of main."""
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            status = "draft" if pull_request else "open"
            discussion = self._open_discussion(
                repo, title, author, is_pr=pull_request, status=status
            )
            discussion.events.append(_comment_event(author, description))
            if pull_request:
                head = repo.branches[DEFAULT_BRANCH]
                discussion.target_branch, discussion.base_commit = DEFAULT_BRANCH, head
                repo.pull_requests[discussion.num] = head
            self._save_repo(repo)
            return copy.deepcopy(discussion)

    def set_discussion_status(
        self, repo_type: str, repo_id: str, num: int, status: str, author: str
    ) -> dict[str, Any]:
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            discussion = repo.discussion(num)
            if status not in ("open", "closed") or discussion.status == "merged":
                raise HubStateError(400, f"Cannot set status {status!r} on #{num}")
            discussion.status = status
            event = _event("status-change", author, {"status": status})
            discussion.events.append(event)
            self._save_repo(repo)
            return event

    def merge_pull_request(self, repo_type: str, repo_id: str, num: int, author: str) -> Commit:
        """Replay the PR's changes (since its base) on its target branch."""
        with self._lock:
            repo = copy.deepcopy(self._require_repo(repo_type, repo_id))
            discussion = repo.discussion(num)
            if not discussion.is_pull_request or discussion.status not in ("open", "draft"):
                raise HubStateError(400, f"#{num} is not an open pull request")
            assert discussion.target_branch is not None and discussion.base_commit is not None
            base = self.get_commit(repo.type, repo.id, discussion.base_commit)
            pr_head = self.get_commit(repo.type, repo.id, repo.pull_requests[num])
            target = self.resolve_commit(repo, discussion.target_branch)
            tree = _three_way(base.tree, pr_head.tree, target.tree)
            commit = make_commit((target.id, pr_head.id), discussion.title, "", author, tree)
            self._save_commit(repo.type, repo.id, commit)
            repo.branches[discussion.target_branch] = commit.id
            discussion.status, discussion.merge_commit = "merged", commit.id
            discussion.events.append(_event("status-change", author, {"status": "merged"}))
            self._save_repo(repo)
            return commit


def _check_ref_name(name: str) -> None:
    if not name or name.startswith(("refs/", "/")) or ".." in name or name.endswith("/"):
        raise HubStateError(400, f"Invalid reference name: {name!r}")


def _three_way(
    base: Mapping[str, FileEntry], ours: Mapping[str, FileEntry], theirs: Mapping[str, FileEntry]
) -> dict[str, FileEntry]:
    """Apply the changes base->ours onto theirs; refuse (409) paths both sides changed."""
    merged = dict(theirs)
    for path in base.keys() | ours.keys():
        if base.get(path) == ours.get(path):
            continue
        if theirs.get(path) not in (base.get(path), ours.get(path)):
            raise HubStateError(409, f"Merge conflict on {path}")
        if path in ours:
            merged[path] = ours[path]
        else:
            merged.pop(path, None)
    return merged


def _event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": hashlib.sha1(os.urandom(16)).hexdigest()[:24],
        "type": kind,
        "createdAt": now_iso(),
        "author": {"name": author},
        "data": data,
    }


def _comment_event(author: str, text: str) -> dict[str, Any]:
    latest = {"raw": text, "html": text, "updatedAt": now_iso()}
    return _event(
        "comment", author, {"edited": False, "hidden": False, "latest": latest, "numEdits": 0}
    )


def _commit_event(commit: Commit) -> dict[str, Any]:
    return _event("commit", commit.author, {"subject": commit.title, "oid": commit.id})
