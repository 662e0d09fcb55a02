"""The Hub's HTTP API over `Storage`: routing, auth, and request/response shapes as
huggingface_hub (2.x) reads them. Transport-free: the server turns sockets into `Request`s.

Auth: `Authorization: Bearer <token>` with one of the configured tokens. A token that is not
one of them gets 401 on every request (as on the Hub); without a token, public repositories
can be read, private ones look missing (404 RepoNotFound), and writes get 401. Any valid token
may read and write every namespace (a single-tenant Hub).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from publisher.localhub.storage import (
    DEFAULT_BRANCH,
    AddFile,
    Commit,
    DeletePath,
    Discussion,
    FileEntry,
    HubStateError,
    Operation,
    Repo,
    Storage,
    check_path,
    entry_not_found,
    folder_id,
    is_ignored,
    is_oid,
    lfs_patterns,
    repo_not_found,
    upload_mode,
)

_TYPE_PREFIXES = {"datasets": "dataset", "spaces": "space"}
_API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_UPLOAD = "_lfs"  # URL prefix of LFS uploads; no repo namespace can start with "_"
_JSON = "application/json"
_LFS_JSON = "application/vnd.git-lfs+json"


@dataclass
class Request:
    """An HTTP request: raw path (no query), parsed query, headers, and a body reader."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    read: Callable[[int], bytes]
    content_length: int | None
    user: str | None = None
    _body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            chunks = []
            while chunk := self.read(1024 * 1024):
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    def json(self) -> Any:
        raw = self.body()
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            raise HubStateError(400, f"Request body is not JSON: {error}") from error

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() in ("1", "true")


@dataclass
class Response:
    """An HTTP response: either `body`, or `length` bytes of `file` from `start`."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: Path | None = None
    start: int = 0
    length: int = 0


def json_response(data: Any, status: int = 200, content_type: str = _JSON) -> Response:
    return Response(status, {"Content-Type": content_type}, json.dumps(data).encode())


def error_response(error: HubStateError) -> Response:
    response = json_response({"error": error.message}, error.status)
    response.headers["X-Error-Message"] = error.message.encode("ascii", "replace").decode()
    if error.code:
        response.headers["X-Error-Code"] = error.code
    response.headers.update(error.headers)
    return response


def _unauthenticated() -> HubStateError:
    return HubStateError(401, "You must be authenticated (Authorization: Bearer <token>)")


@dataclass(frozen=True)
class RepoRef:
    """Which repository a URL names."""

    type: str
    id: str


class HubApp:
    """Routes `Request`s to handlers; every handler returns a `Response`."""

    def __init__(self, storage: Storage, tokens: Mapping[str, str], endpoint: str = ""):
        self.storage = storage
        self.tokens = dict(tokens)
        self.endpoint = endpoint
        self._secret = storage.signing_key()  # the client PUTs LFS objects without a token

    # ---- entry point --------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            request.user = self._authenticate(request.headers.get("Authorization"))
            return self._route(request)
        except HubStateError as error:
            return error_response(error)

    def _authenticate(self, header: str | None) -> str | None:
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HubStateError(401, "Invalid credentials in Authorization header")
        return user

    def _route(self, request: Request) -> Response:
        segments = [unquote(part) for part in request.path.split("/")[1:]]
        if segments[:1] == ["api"]:
            return self._route_api(request, segments[1:])
        if segments[:1] == [_UPLOAD] and len(segments) == 6:
            return self._route_lfs_transfer(request, segments[1:])
        if segments[-4:] == ["info", "lfs", "objects", "batch"] and request.method == "POST":
            return self.lfs_batch(request, _repo_from_git_path(segments[:-4]))
        for offset in (0, 1):
            is_resolve = len(segments) > offset + 3 and segments[offset + 2] == "resolve"
            if is_resolve and request.method in ("GET", "HEAD"):
                return self.resolve(request, _repo_from_url(segments[: offset + 2]), segments)
        raise HubStateError(404, f"Not found: {request.method} {request.path}")

    def _route_api(self, request: Request, segments: list[str]) -> Response:
        top: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "whoami-v2"): self.whoami,
            ("POST", "repos/create"): self.create_repo,
            ("DELETE", "repos/delete"): self.delete_repo,
            ("POST", "validate-yaml"): self.validate_yaml,
        }
        handler = top.get((request.method, "/".join(segments)))
        if handler is not None:
            return handler(request)
        if len(segments) >= 3 and segments[0] in _API_TYPES:
            repo = RepoRef(_API_TYPES[segments[0]], f"{segments[1]}/{segments[2]}")
            return self._route_repo(request, repo, segments[3:])
        raise HubStateError(404, f"Not found: {request.method} {request.path}")

    def _route_repo(self, request: Request, repo: RepoRef, rest: list[str]) -> Response:
        action = rest[0] if rest else ""
        if action.startswith("xet-"):
            raise HubStateError(
                501, "This local Hub does not speak Xet: set HF_HUB_DISABLE_XET=1 in the client"
            )
        handlers: dict[tuple[str, str], Callable[[Request, RepoRef, list[str]], Response]] = {
            ("GET", ""): self.repo_info,
            ("GET", "revision"): self.repo_info,
            ("GET", "tree"): self.tree,
            ("POST", "paths-info"): self.paths_info,
            ("GET", "refs"): self.refs,
            ("GET", "commits"): self.commits,
            ("POST", "preupload"): self.preupload,
            ("POST", "commit"): self.commit,
            ("POST", "branch"): self.create_branch,
            ("DELETE", "branch"): self.delete_branch,
            ("POST", "tag"): self.create_tag,
            ("DELETE", "tag"): self.delete_tag,
            ("GET", "discussions"): self.get_discussions,
            ("POST", "discussions"): self.post_discussions,
            ("PUT", "settings"): self.settings,
        }
        handler = handlers.get((request.method, action))
        if handler is None:
            raise HubStateError(404, f"Not found: {request.method} {request.path}")
        return handler(request, repo, rest[1:])

    # ---- access -------------------------------------------------------------------------

    def _readable(self, request: Request, ref: RepoRef) -> Repo:
        repo = self.storage.get_repo(ref.type, ref.id)
        if repo is None or (repo.private and request.user is None):
            raise repo_not_found(ref.id)
        return repo

    def _writable(self, request: Request, ref: RepoRef) -> Repo:
        if request.user is None:
            raise _unauthenticated()
        return self._readable(request, ref)

    def _user(self, request: Request) -> str:
        if request.user is None:
            raise _unauthenticated()
        return request.user

    def repo_url(self, repo_type: str, repo_id: str) -> str:
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return f"{self.endpoint}/{prefix}{repo_id}"

    # ---- account and repositories -------------------------------------------------------

    def whoami(self, request: Request) -> Response:
        user = self._user(request)
        return json_response(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "canPay": False,
                "avatarUrl": "",
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "local", "role": "write"},
                },
            }
        )

    def create_repo(self, request: Request) -> Response:
        user = self._user(request)
        payload = request.json()
        repo_type = payload.get("type") or "model"
        if repo_type not in _API_TYPES.values():
            raise HubStateError(400, f"Invalid repo type: {repo_type}")
        repo_id = f"{payload.get('organization') or user}/{payload.get('name', '')}"
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        url = self.repo_url(repo_type, repo_id)
        try:
            self.storage.create_repo(repo_type, repo_id, private, user)
        except HubStateError as error:
            if error.status != 409:
                raise
            return json_response({"error": error.message, "url": url}, 409)
        return json_response({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, request: Request) -> Response:
        user = self._user(request)
        payload = request.json()
        ref = RepoRef(
            payload.get("type") or "model",
            f"{payload.get('organization') or user}/{payload.get('name')}",
        )
        self._writable(request, ref)
        self.storage.delete_repo(ref.type, ref.id)
        return json_response({})

    def settings(self, request: Request, ref: RepoRef, _: list[str]) -> Response:
        self._writable(request, ref)
        payload = request.json()
        if "visibility" in payload or "private" in payload:
            private = payload.get("visibility") == "private" or payload.get("private") is True
            self.storage.set_private(ref.type, ref.id, private)
        return json_response({})

    def validate_yaml(self, request: Request) -> Response:
        return json_response({"errors": [], "warnings": []})

    # ---- reading ------------------------------------------------------------------------

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

    # ---- uploads and commits ------------------------------------------------------------

    def preupload(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._writable(request, ref)
        commit = self.storage.resolve_commit(repo, rest[0] if rest else DEFAULT_BRANCH)
        payload = request.json()
        patterns = lfs_patterns(self._read_tree_file(commit, ".gitattributes"))
        gitignore = payload.get("gitIgnore")
        if gitignore is None:
            raw = self._read_tree_file(commit, ".gitignore")
            gitignore = raw.decode("utf-8", "replace") if raw is not None else None
        files = [
            self._preupload_file(commit, item, patterns, gitignore)
            for item in payload.get("files", [])
        ]
        return json_response({"files": files, "commitOid": commit.id})

    def _preupload_file(
        self, commit: Commit, item: Mapping[str, Any], patterns: list[str], gitignore: str | None
    ) -> dict[str, Any]:
        path = str(item.get("path", ""))
        try:
            sample = base64.b64decode(item.get("sample") or "")
        except (binascii.Error, ValueError) as error:
            raise HubStateError(400, f"Bad base64 sample for {path}") from error
        existing = commit.tree.get(path)
        oid = None if existing is None else existing.sha256 if existing.lfs else existing.blob_id
        return {
            "path": path,
            "uploadMode": upload_mode(path, int(item.get("size") or 0), sample, patterns),
            "shouldIgnore": is_ignored(path, gitignore),
            "oid": oid,
        }

    def _read_tree_file(self, commit: Commit, path: str) -> bytes | None:
        entry = commit.tree.get(path)
        return self.storage.read_object(entry.sha256) if entry is not None else None

    def commit(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        """Apply an NDJSON commit (header, file, lfsFile, deletedFile, deletedFolder)."""
        self._writable(request, ref)
        revision = rest[0] if rest else DEFAULT_BRANCH
        lines = [json.loads(line) for line in request.body().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubStateError(400, "A commit payload starts with a header line")
        header = lines[0].get("value") or {}
        ops = [self._operation(item) for item in lines[1:]]
        result = self.storage.commit(
            ref.type,
            ref.id,
            revision,
            ops,
            title=str(header.get("summary") or ""),
            message=str(header.get("description") or ""),
            author=self._user(request),
            parent_commit=header.get("parentCommit"),
            create_pr=request.flag("create_pr"),
        )
        url = self.repo_url(ref.type, ref.id)
        data = {
            "success": True,
            "commitOid": result.commit.id,
            "commitUrl": f"{url}/commit/{result.commit.id}",
            "hookOutput": "",
        }
        if result.pr_num is not None:
            data["pullRequestUrl"] = f"{url}/discussions/{result.pr_num}"
        return json_response(data)

    def _operation(self, item: Mapping[str, Any]) -> Operation:
        key, value = item.get("key"), item.get("value") or {}
        path = check_path(
            str(value.get("path", "")).strip("/")
            if key == "deletedFolder"
            else str(value.get("path", ""))
        )
        if key == "file":
            return AddFile(self.storage.regular_entry(path, _decode_content(value)))
        if key == "lfsFile":
            size = value.get("size")
            return AddFile(
                self.storage.lfs_entry(
                    path, str(value.get("oid")), None if size is None else int(size)
                )
            )
        if key in ("deletedFile", "deletedFolder"):
            return DeletePath(path, folder=key == "deletedFolder")
        raise HubStateError(400, f"Unknown commit operation {key!r}")

    # ---- LFS ----------------------------------------------------------------------------

    def lfs_batch(self, request: Request, ref: RepoRef) -> Response:
        """Git LFS batch API (basic transfer): no `actions` for objects already stored."""
        self._writable(request, ref)
        payload = request.json()
        if payload.get("operation") != "upload":
            raise HubStateError(400, "Only the upload operation is supported")
        objects = [self._batch_object(ref, item) for item in payload.get("objects", [])]
        return json_response(
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}, content_type=_LFS_JSON
        )

    def _batch_object(self, ref: RepoRef, item: Mapping[str, Any]) -> dict[str, Any]:
        oid, size = item.get("oid"), item.get("size")
        if not is_oid(oid) or not isinstance(size, int) or size < 0:
            return {"oid": str(oid), "size": size if isinstance(size, int) else 0,
                    "error": {"code": 422, "message": "Invalid oid or size"}}  # fmt: skip
        assert isinstance(oid, str)
        if self.storage.has_object(oid) and self.storage.object_size(oid) == size:
            return {"oid": oid, "size": size}
        base = f"{self.endpoint}/{_UPLOAD}"
        target = f"{ref.type}/{ref.id}/{oid}"
        return {
            "oid": oid,
            "size": size,
            "authenticated": True,
            "actions": {
                "upload": {
                    "href": f"{base}/upload/{target}?size={size}&sig={self._sign(target, size)}"
                },
                "verify": {"href": f"{base}/verify/{target}", "header": {}},
            },
        }

    def _sign(self, target: str, size: int) -> str:
        return hmac.new(self._secret, f"{target}:{size}".encode(), hashlib.sha256).hexdigest()

    def _route_lfs_transfer(self, request: Request, segments: list[str]) -> Response:
        kind, repo_type, namespace, name, oid = segments
        target = f"{repo_type}/{namespace}/{name}/{oid}"
        if kind == "upload" and request.method == "PUT":
            return self.lfs_upload(request, target, oid)
        if kind == "verify" and request.method == "POST":
            self._writable(request, RepoRef(repo_type, f"{namespace}/{name}"))
            if not self.storage.has_object(oid):
                raise HubStateError(404, f"Object {oid} not found")
            return json_response({})
        raise HubStateError(404, f"Not found: {request.method} {request.path}")

    def lfs_upload(self, request: Request, target: str, oid: str) -> Response:
        """Basic-transfer PUT of one object; kept only if complete and its sha256 matches."""
        size = int(request.param("size") or -1)
        if not hmac.compare_digest(self._sign(target, size), request.param("sig") or ""):
            raise HubStateError(403, "Invalid or expired upload URL")
        if request.content_length is not None and request.content_length != size:
            raise HubStateError(
                400, f"Expected {size} bytes, Content-Length is {request.content_length}"
            )
        if self.storage.has_object(oid):
            request.body()
        else:
            self.storage.put_stream(request.read, size, oid)
        return Response(200)

    # ---- refs, discussions, pull requests -----------------------------------------------

    def create_branch(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.create_branch(
            ref.type, ref.id, "/".join(rest), request.json().get("startingPoint")
        )
        return json_response({})

    def delete_branch(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.delete_branch(ref.type, ref.id, "/".join(rest))
        return json_response({})

    def create_tag(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        tag = request.json().get("tag")
        if not isinstance(tag, str):
            raise HubStateError(400, "Missing tag name")
        self.storage.create_tag(ref.type, ref.id, tag, "/".join(rest) or DEFAULT_BRANCH)
        return json_response({})

    def delete_tag(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.delete_tag(ref.type, ref.id, "/".join(rest))
        return json_response({})

    def get_discussions(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        if rest:
            return json_response(
                _discussion_details(repo, repo.discussion(_discussion_num(rest[0])))
            )
        items = [
            _discussion_json(repo, d) for d in reversed(repo.discussions) if _wanted(d, request)
        ]
        page = items if int(request.param("p") or 0) == 0 else []
        return json_response(
            {"discussions": page, "count": len(items), "start": 0, "numClosedDiscussions": 0}
        )

    def post_discussions(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        user = self._user(request)
        payload = request.json()
        if not rest:
            discussion = self.storage.create_discussion(
                ref.type,
                ref.id,
                str(payload.get("title", "")),
                user,
                description=str(payload.get("description") or ""),
                pull_request=bool(payload.get("pullRequest")),
            )
            return json_response(
                {
                    "num": discussion.num,
                    "url": f"{self.repo_url(ref.type, ref.id)}/discussions/{discussion.num}",
                }
            )
        num = _discussion_num(rest[0])
        action = rest[1] if len(rest) > 1 else ""
        if action == "merge":
            self.storage.merge_pull_request(ref.type, ref.id, num, user)
            return json_response({})
        if action == "status":
            event = self.storage.set_discussion_status(
                ref.type, ref.id, num, str(payload.get("status")), user
            )
            return json_response({"newStatus": event})
        raise HubStateError(404, f"Not found: {request.method} {request.path}")


# ---- helpers ------------------------------------------------------------------------------


def _repo_from_url(segments: list[str]) -> RepoRef:
    """[datasets|spaces,] namespace, name -> the repository a web URL names."""
    repo_type = _TYPE_PREFIXES.get(segments[0], "model") if len(segments) == 3 else "model"
    return RepoRef(repo_type, "/".join(segments[-2:]))


def _repo_from_git_path(segments: list[str]) -> RepoRef:
    if not segments or not segments[-1].endswith(".git") or len(segments) not in (2, 3):
        raise HubStateError(404, "Not a repository git URL")
    return _repo_from_url([*segments[:-1], segments[-1].removesuffix(".git")])


def _decode_content(value: Mapping[str, Any]) -> bytes:
    content = str(value.get("content", ""))
    if value.get("encoding", "base64") != "base64":
        return content.encode()
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as error:
        raise HubStateError(400, f"Bad base64 content for {value.get('path')}") from error


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


def _discussion_num(raw: str) -> int:
    if not raw.isdigit():
        raise HubStateError(404, f"Discussion {raw!r} not found")
    return int(raw)


def _wanted(discussion: Discussion, request: Request) -> bool:
    kind = request.param("type")
    status = request.param("status")
    author = request.param("author")
    if kind in ("pull_request", "discussion") and discussion.is_pull_request != (
        kind == "pull_request"
    ):
        return False
    if status in ("open", "closed") and (discussion.status in ("open", "draft")) != (
        status == "open"
    ):
        return False
    return author is None or discussion.author == author


def _discussion_json(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    return {
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status,
        "author": {"name": discussion.author},
        "createdAt": discussion.created_at,
        "isPullRequest": discussion.is_pull_request,
        "repo": {"name": repo.id, "type": repo.type},
        "numComments": 0,
        "pinned": False,
    }


def _discussion_details(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    data = _discussion_json(repo, discussion)
    data.update({"events": discussion.events, "filesWithConflicts": [], "diff": None})
    if discussion.is_pull_request:
        data["changes"] = {
            "base": f"refs/heads/{discussion.target_branch}",
            "mergeCommitId": discussion.merge_commit,
        }
    return data
