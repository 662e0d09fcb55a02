"""Local Hub handlers that write: preupload, commits, the LFS batch API and LFS uploads."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from publisher.hubprotocol import is_ignored, lfs_patterns, upload_mode
from publisher.localhub.handler_base import HandlerBase
from publisher.localhub.messages import (
    LFS_JSON_TYPE,
    UPLOAD_PREFIX,
    RepoRef,
    Request,
    Response,
    json_response,
    objects_field,
    optional_str,
    parse_json,
)
from publisher.localhub.records import (
    DEFAULT_BRANCH,
    AddFile,
    Commit,
    DeletePath,
    HubStateError,
    Operation,
    check_path,
    is_oid,
)


class WriteHandlers(HandlerBase):
    """Handlers that upload content and make commits."""

    def preupload(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._writable(request, ref)
        commit = self.storage.resolve_commit(repo, rest[0] if rest else DEFAULT_BRANCH)
        payload = request.json()
        patterns = lfs_patterns(self._read_tree_file(commit, ".gitattributes"))
        gitignore = optional_str(payload, "gitIgnore")
        if gitignore is None:
            raw = self._read_tree_file(commit, ".gitignore")
            gitignore = raw.decode("utf-8", "replace") if raw is not None else None
        files = [
            self._preupload_file(commit, item, patterns, gitignore)
            for item in objects_field(payload, "files")
        ]
        return json_response({"files": files, "commitOid": commit.id})

    def _preupload_file(
        self, commit: Commit, item: Mapping[str, Any], patterns: list[str], gitignore: str | None
    ) -> dict[str, Any]:
        path = check_path(optional_str(item, "path") or "")
        size = item.get("size") or 0
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise HubStateError(400, f"Invalid size for {path}: must be a non-negative integer")
        try:
            sample = base64.b64decode(optional_str(item, "sample") or "")
        except (binascii.Error, ValueError) as error:
            raise HubStateError(400, f"Bad base64 sample for {path}") from error
        existing = commit.tree.get(path)
        oid = None if existing is None else existing.sha256 if existing.lfs else existing.blob_id
        return {
            "path": path,
            "uploadMode": upload_mode(path, size, sample, patterns),
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
        lines = [parse_json(line) for line in request.body().splitlines() if line.strip()]
        if not all(isinstance(line, dict) for line in lines):
            raise HubStateError(400, "Every line of a commit payload must be a JSON object")
        if not lines or lines[0].get("key") != "header":
            raise HubStateError(400, "A commit payload starts with a header line")
        header = lines[0].get("value")
        if not isinstance(header, dict):
            raise HubStateError(400, "The commit header's value must be an object")
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
        key, value = item.get("key"), item.get("value")
        if not isinstance(value, dict):
            raise HubStateError(400, f"The value of a {key!r} commit line must be an object")
        path = check_path(
            str(value.get("path", "")).strip("/")
            if key == "deletedFolder"
            else str(value.get("path", ""))
        )
        if key == "file":
            return AddFile(self.storage.regular_entry(path, _decode_content(value)))
        if key == "lfsFile":
            size = value.get("size")
            if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
                raise HubStateError(400, f"Invalid size for {path}: must be an integer")
            return AddFile(self.storage.lfs_entry(path, str(value.get("oid")), size))
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
        objects = [self._batch_object(ref, item) for item in objects_field(payload, "objects")]
        return json_response(
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
            content_type=LFS_JSON_TYPE,
        )

    def _batch_object(self, ref: RepoRef, item: Mapping[str, Any]) -> dict[str, Any]:
        oid, size = item.get("oid"), item.get("size")
        if not is_oid(oid) or not isinstance(size, int) or size < 0:
            return {"oid": str(oid), "size": size if isinstance(size, int) else 0,
                    "error": {"code": 422, "message": "Invalid oid or size"}}  # fmt: skip
        assert isinstance(oid, str)
        if self.storage.has_object(oid) and self.storage.object_size(oid) == size:
            return {"oid": oid, "size": size}
        base = f"{self.endpoint}/{UPLOAD_PREFIX}"
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


def _decode_content(value: Mapping[str, Any]) -> bytes:
    content = str(value.get("content", ""))
    if value.get("encoding", "base64") != "base64":
        return content.encode()
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as error:
        raise HubStateError(400, f"Bad base64 content for {value.get('path')}") from error
