"""The local Hub answers malformed requests as the Hub does: a 400 with the Hub's error shape
(`{"error": ...}` and X-Error-Message), never a 500 with Python exception text (the client
retries 5xx) nor a closed connection; and it refuses what the Hub refuses (issue 11, 9-10)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from publisher.localhub.server import DEFAULT_USER, DEMO_TOKEN, LocalHub
from tests import hub_fixtures

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api
hub_repo_id = hub_fixtures.hub_repo_id

PYTHON_ERRORS = ("Traceback", "Error:", "Exception", "object has no attribute", "not subscriptable")
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


def _request(
    hub: LocalHub,
    method: str,
    path: str,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    address = urlsplit(hub.endpoint)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={**AUTH, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _assert_hub_400(status: int, headers: dict[str, str], body: bytes) -> str:
    assert status == 400, (status, body)
    payload = json.loads(body)
    assert set(payload) == {"error"} and isinstance(payload["error"], str), payload
    assert headers.get("X-Error-Message"), headers
    for text in PYTHON_ERRORS:
        assert text not in payload["error"], payload["error"]
    return str(payload["error"])


@pytest.fixture
def repo(hub: LocalHub, hub_api: Any, hub_repo_id: str) -> str:
    hub_api.create_repo(hub_repo_id)
    return hub_repo_id


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"5",
        b'{"key": "header", "value": []}',
        b'{"key": "header", "value": {}}\n[]',
        b'{"key": "header", "value": {}}\n{"key": "file", "value": 5}',
        b'{"key": "header", "value": {}}\n{"key": "lfsFile", "value": {"path": "a", "oid": "x", "size": "big"}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "not-json",
        "list",
        "number",
        "header-list",
        "op-list",
        "op-value-number",
        "lfs-size",
        "deep",
    ],
)
def test_a_malformed_commit_is_a_400(
    hub: LocalHub, repo: str, body: bytes, no_server_errors: None
) -> None:
    status, headers, answer = _request(
        hub, "POST", f"/api/models/{repo}/commit/main", body,
        {"Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    _assert_hub_400(status, headers, answer)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/models/{repo}/preupload/main", {"files": 5}),
        ("/api/models/{repo}/preupload/main", {"files": [5]}),
        ("/api/models/{repo}/preupload/main", [1, 2]),
        ("/{repo}.git/info/lfs/objects/batch", {"operation": "upload", "objects": "x"}),
        ("/{repo}.git/info/lfs/objects/batch", {"operation": "upload", "objects": [7]}),
        ("/{repo}.git/info/lfs/objects/batch", ["upload"]),
        ("/api/repos/create", [1]),
        ("/api/repos/create", {"name": {"a": 1}}),
    ],
)
def test_malformed_json_bodies_are_400s(
    hub: LocalHub, repo: str, path: str, payload: Any, no_server_errors: None
) -> None:
    status, headers, answer = _request(hub, "POST", path.format(repo=repo), json.dumps(payload))
    _assert_hub_400(status, headers, answer)


def test_deeply_nested_json_is_a_400(hub: LocalHub, no_server_errors: None) -> None:
    body = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, headers, answer = _request(hub, "POST", "/api/repos/create", body)
    _assert_hub_400(status, headers, answer)


@pytest.mark.parametrize("name", [None, "", "../../x", "a/b", "x" * 200, "bad name", 5])
def test_create_refuses_a_name_the_hub_refuses(
    hub: LocalHub, name: Any, no_server_errors: None
) -> None:
    status, headers, answer = _request(hub, "POST", "/api/repos/create", json.dumps({"name": name}))

    message = _assert_hub_400(status, headers, answer)
    assert "name" in message.lower()
    for created in ("None", "5"):
        assert _request(hub, "GET", f"/api/models/{DEFAULT_USER}/{created}")[0] == 404


@pytest.mark.parametrize(
    "path",
    ["/api/models/..%2F..%2Fx/revision/main", "/api/models/%2E%2E/x", "/%2E%2E/x/resolve/main/a"],
)
def test_a_repo_id_that_climbs_is_refused(hub: LocalHub, path: str, no_server_errors: None) -> None:
    status, _, answer = _request(hub, "GET", path)
    assert status in (400, 404), (status, answer)
    assert not any(text in answer.decode() for text in PYTHON_ERRORS)


@pytest.mark.parametrize("path", ["a\0b.txt", "dir\\file.txt", "a/\0/b"])
def test_a_commit_path_with_nul_or_backslash_is_refused(
    hub: LocalHub, hub_api: Any, repo: str, path: str, no_server_errors: None
) -> None:
    lines = [
        {"key": "header", "value": {"summary": "x"}},
        {"key": "file", "value": {"path": path, "content": base64.b64encode(b"x").decode(),
                                  "encoding": "base64"}},
    ]  # fmt: skip
    body = "\n".join(json.dumps(line) for line in lines)

    status, headers, answer = _request(hub, "POST", f"/api/models/{repo}/commit/main", body)

    message = _assert_hub_400(status, headers, answer)
    assert "path" in message.lower()
    assert set(hub_api.list_repo_files(repo)) == {".gitattributes"}


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", ""])
def test_a_bad_content_length_is_answered_with_a_400(
    hub: LocalHub, repo: str, length: str, no_server_errors: None
) -> None:
    address = urlsplit(hub.endpoint)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            f"POST /api/models/{repo}/commit/main HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {DEMO_TOKEN}\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"Content-Length" in body or b"error" in body
