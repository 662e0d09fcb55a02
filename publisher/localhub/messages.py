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

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (every JSON endpoint of the Hub takes one); anything else,
        including JSON nested too deep to parse, is a 400 as the Hub answers it."""
        value = parse_json(self.body(), empty={})
        if not isinstance(value, dict):
            raise HubStateError(400, "Request body must be a JSON object")
        return value

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


def parse_json(raw: bytes, *, empty: Any = None) -> Any:
    """One JSON document; a 400 (not a 500) when it is not JSON or nests too deep to parse."""
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except ValueError as error:
        raise HubStateError(400, f"Request body is not JSON: {error.args[0]}") from None
    except RecursionError:
        raise HubStateError(400, "Request body is not JSON: nested too deeply") from None


def objects_field(payload: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """`payload[key]`: a list of JSON objects (missing: empty), else a 400 naming the field."""
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise HubStateError(400, f"'{key}' must be a list of objects")
    return value


def optional_str(payload: Mapping[str, Any], key: str) -> str | None:
    """`payload[key]`: a string or absent/null, else a 400 naming the field."""
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise HubStateError(400, f"'{key}' must be a string")
    return value


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
