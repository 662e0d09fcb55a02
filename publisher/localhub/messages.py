"""Requests and responses of the local Hub's HTTP API, without any transport."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.localhub.records import HubStateError

UPLOAD_PREFIX = "_lfs"  # URL prefix of LFS uploads; no repo namespace can start with "_"
JSON_TYPE = "application/json"
LFS_JSON_TYPE = "application/vnd.git-lfs+json"


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


def json_response(data: Any, status: int = 200, content_type: str = JSON_TYPE) -> Response:
    return Response(status, {"Content-Type": content_type}, json.dumps(data).encode())


def error_response(error: HubStateError) -> Response:
    response = json_response({"error": error.message}, error.status)
    response.headers["X-Error-Message"] = error.message.encode("ascii", "replace").decode()
    if error.code:
        response.headers["X-Error-Code"] = error.code
    response.headers.update(error.headers)
    return response


def unauthenticated() -> HubStateError:
    return HubStateError(401, "You must be authenticated (Authorization: Bearer <token>)")


@dataclass(frozen=True)
class RepoRef:
    """Which repository a URL names."""

    type: str
    id: str
