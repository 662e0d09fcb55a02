"""Local Hub handlers that read: repository info, trees, paths-info, refs, commits, file downloads."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from publisher.localhub.handler_base import HandlerBase
from publisher.localhub.messages import (
    RepoRef,
    Request,
    Response,
    json_response,
)
from publisher.localhub.records import (
    DEFAULT_BRANCH,
    Commit,
    FileEntry,
    HubStateError,
    Repo,
    entry_not_found,
    folder_id,
)


class ReadHandlers(HandlerBase):
    """Handlers that only read a repository."""

    def repo_info(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        commit = self.storage.resolve_commit(repo, rest[0] if rest else DEFAULT_BRANCH)
        blobs = request.flag("blobs")
        siblings = [_sibling_json(entry, blobs) for _, entry in sorted(commit.tree.items())]
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo.type}/{repo.id}".encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.id.split("/")[0],
            "sha": commit.id,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(entry.size for entry in commit.tree.values()),
        }
        if repo.type == "model":
            info["modelId"] = repo.id
        return json_response(info)

    def tree(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        if not rest:
            raise HubStateError(400, "Missing revision")
        commit = self.storage.resolve_commit(repo, rest[0])
        folder = "/".join(rest[1:]).strip("/")
        folders, files = _list_folder(commit.tree, folder, request.flag("recursive"))
        if folder and not files and not folders:
            raise entry_not_found(folder)
        expand = request.flag("expand")
        items = [self._folder_json(repo, commit, path, expand) for path in folders]
        items += [self._file_json(repo, commit, commit.tree[path], expand) for path in files]
        return json_response(items)

    def paths_info(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        commit = self.storage.resolve_commit(repo, rest[0] if rest else DEFAULT_BRANCH)
        form = parse_qs(request.body().decode())
        expand = (form.get("expand") or ["false"])[0].lower() == "true"
        items = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.tree:
                items.append(self._file_json(repo, commit, commit.tree[path], expand))
            elif any(p.startswith(path + "/") for p in commit.tree):
                items.append(self._folder_json(repo, commit, path, expand))
        return json_response(items)

    def _file_json(
        self, repo: Repo, commit: Commit, entry: FileEntry, expand: bool
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": "file",
            "oid": entry.blob_id,
            "size": entry.size,
            "path": entry.path,
        }
        if entry.lfs:
            item["lfs"] = {
                "oid": entry.sha256,
                "size": entry.size,
                "pointerSize": entry.pointer_size,
            }
        if expand:
            item["lastCommit"] = self._last_commit(repo, commit, entry.path, folder=False)
            item["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False},
                "pickleImportScan": None,
            }
        return item

    def _folder_json(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": "directory",
            "oid": folder_id(commit.tree, path),
            "path": path,
        }
        if expand:
            item["lastCommit"] = self._last_commit(repo, commit, path, folder=True)
        return item

    def _last_commit(self, repo: Repo, head: Commit, path: str, folder: bool) -> dict[str, str]:
        """The newest commit (first-parent history) that changed `path`."""

        def snapshot(commit: Commit) -> object:
            if not folder:
                return commit.tree.get(path)
            return sorted(
                (p, e.blob_id) for p, e in commit.tree.items() if p.startswith(path + "/")
            )

        history = list(self.storage.history(repo, head.id))
        found = history[-1]
        for newer, older in itertools.pairwise(history):
            if snapshot(newer) != snapshot(older):
                found = newer
                break
        return {"id": found.id, "title": found.title, "date": found.date}

    def refs(self, request: Request, ref: RepoRef, _: list[str]) -> Response:
        repo = self._readable(request, ref)
        data: dict[str, Any] = {
            "branches": [
                _ref_json(name, f"refs/heads/{name}", oid)
                for name, oid in sorted(repo.branches.items())
            ],
            "converts": [],
            "tags": [
                _ref_json(name, f"refs/tags/{name}", oid) for name, oid in sorted(repo.tags.items())
            ],
        }
        if request.flag("include_prs"):
            data["pullRequests"] = [
                _ref_json(f"refs/pr/{num}", f"refs/pr/{num}", oid)
                for num, oid in sorted(repo.pull_requests.items())
            ]
        return json_response(data)

    def commits(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        head = self.storage.resolve_commit(repo, rest[0] if rest else DEFAULT_BRANCH)
        return json_response(
            [_commit_json(commit) for commit in self.storage.history(repo, head.id)]
        )

    def resolve(self, request: Request, ref: RepoRef, segments: list[str]) -> Response:
        """GET/HEAD a file at a revision; answers single-range requests with 206."""
        repo = self._readable(request, ref)
        index = segments.index("resolve")
        revision, path = segments[index + 1], "/".join(segments[index + 2 :])
        commit = self.storage.resolve_commit(repo, revision)
        entry = commit.tree.get(path)
        if entry is None:
            raise HubStateError(
                404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.id}
            )
        etag = f'"{entry.sha256}"' if entry.lfs else f'"{entry.blob_id}"'
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
            "ETag": etag,
            "X-Repo-Commit": commit.id,
            "Accept-Ranges": "bytes",
        }
        if entry.lfs:
            headers.update({"X-Linked-Size": str(entry.size), "X-Linked-Etag": etag})
        return _ranged_file(
            self.storage.object_path(entry.sha256),
            entry.size,
            request.headers.get("Range"),
            headers,
        )


def _list_folder(
    tree: Mapping[str, FileEntry], folder: str, recursive: bool
) -> tuple[list[str], list[str]]:
    """(folders, files) directly in `folder`, or anywhere under it if `recursive`."""
    prefix = folder + "/" if folder else ""
    folders: set[str] = set()
    files = []
    for path in sorted(tree):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        if len(parts) == 1 or recursive:
            files.append(path)
        depth = len(parts) if recursive else min(len(parts), 2)
        folders.update(prefix + "/".join(parts[:i]) for i in range(1, depth))
    return sorted(folders), files


def _sibling_json(entry: FileEntry, blobs: bool) -> dict[str, Any]:
    """A `siblings` item; size, blob id and LFS facts only with ?blobs=true, as on the Hub."""
    item: dict[str, Any] = {"rfilename": entry.path}
    if blobs:
        item.update({"size": entry.size, "blobId": entry.blob_id})
        if entry.lfs:
            item["lfs"] = {
                "size": entry.size,
                "sha256": entry.sha256,
                "pointerSize": entry.pointer_size,
            }
    return item


def _ref_json(name: str, ref: str, oid: str) -> dict[str, str]:
    return {"name": name, "ref": ref, "targetCommit": oid}


def _commit_json(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.id,
        "title": commit.title,
        "message": commit.message,
        "authors": [{"user": commit.author, "avatar": None}],
        "date": commit.date,
    }


def _ranged_file(
    path: Path, size: int, range_header: str | None, headers: dict[str, str]
) -> Response:
    """The whole file (200), or one byte range of it (206; 416 if it lies outside)."""
    span = _parse_range(range_header, size)
    if span is None:
        return Response(200, headers, file=path, start=0, length=size)
    start, end = span
    if start >= size or start > end:
        headers = {**headers, "Content-Range": f"bytes */{size}"}
        return Response(416, headers)
    end = min(end, size - 1)
    headers = {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}
    return Response(206, headers, file=path, start=start, length=end - start + 1)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range; None to send everything."""
    if not header or not header.strip().lower().startswith("bytes=") or "," in header:
        return None
    first, _, last = header.split("=", 1)[1].strip().partition("-")
    try:
        if not first:
            return max(size - int(last), 0), size - 1
        return int(first), int(last) if last else size - 1
    except ValueError:
        return None
