"""A local Hugging Face Hub-compatible HTTP server, for tests and demos (standard library only).

Point the real client at it::

    with LocalHub(Path("hub-data")) as hub:
        os.environ["HF_ENDPOINT"] = hub.endpoint   # before huggingface_hub is imported
        os.environ["HF_HUB_DISABLE_XET"] = "1"     # this Hub speaks LFS, not Xet
        HfApi(endpoint=hub.endpoint, token=DEMO_TOKEN).create_repo("me/model")

Tests and benchmarks can program faults (`hub.faults.add(...)`, see publisher.localhub.faults),
add latency to every request (`hub.latency = 0.05`), and read the request log
(`hub.requests`, a list of (method, path, range) tuples; `hub.requests.clear()`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from publisher.localhub.app import HubApp
from publisher.localhub.faults import Fault, FaultSet, LoggedRequest
from publisher.localhub.messages import Request, Response, error_response, json_response
from publisher.localhub.records import HubStateError
from publisher.localhub.storage import Storage

DEMO_TOKEN = "hf_local_publisher_demo"
DEFAULT_USER = "local-user"
_LOG = logging.getLogger("publisher.hub")
_DRAIN_LIMIT = (
    1024 * 1024
)  # unread request bodies up to this size are read, larger ones close the connection
_CHUNK = 1024 * 1024


def content_length(value: str | None) -> int:
    """The Content-Length header as a byte count: absent is 0; anything but digits (`abc`,
    `-5`, `1e3`, empty) is a 400, as the Hub answers it."""
    if value is None:
        return 0
    if not re.fullmatch(r"[0-9]{1,19}", value.strip()):
        raise HubStateError(400, f"Invalid Content-Length: {value[:40]!r}")
    return int(value)


class BodyReader:
    """Reads one request body, sized by Content-Length or chunked; never past its end."""

    def __init__(self, rfile: BinaryIO, headers: Mapping[str, str]):
        self._rfile = rfile
        self.broken = False  # framing the client got wrong: the connection cannot serve again
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.length = None if self.chunked else content_length(headers.get("Content-Length"))
        self._left = 0 if self.chunked else (self.length or 0)
        self.finished = not self.chunked and self._left == 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the body; b"" at its end."""
        if self.finished:
            return b""
        if self.chunked and self._left == 0 and not self._next_chunk():
            return b""
        data = self._rfile.read(min(size, self._left))
        if not data:
            raise ConnectionError("client closed the connection in the middle of the body")
        self._left -= len(data)
        if self._left == 0:
            if self.chunked:
                self._rfile.readline()  # CRLF after the chunk
            else:
                self.finished = True
        return data

    def _next_chunk(self) -> bool:
        line = self._rfile.readline(1024)
        size = line.split(b";")[0].strip() or b"0"
        if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size):
            self.broken = True
            raise HubStateError(400, "Invalid chunk size in a chunked request body")
        self._left = int(size, 16)
        if self._left == 0:
            while self._rfile.readline(1024).strip():  # trailers
                pass
            self.finished = True
        return not self.finished

    def skip(self, limit: int | None = None) -> int:
        """Read and discard the rest (at most `limit` bytes); return how many were read."""
        done = 0
        while limit is None or done < limit:
            chunk = self.read(_CHUNK if limit is None else min(_CHUNK, limit - done))
            if not chunk:
                break
            done += len(chunk)
        return done

    @property
    def remaining(self) -> int | None:
        return None if self.chunked else self._left


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    hub: LocalHub

    def __init__(self, address: tuple[str, int], hub: LocalHub):
        self.hub = hub
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections the client (or a fault) broke are normal here; anything else is logged."""
        _LOG.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HubHTTPServer
    timeout = 300  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        _LOG.debug("%s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        hub = self.server.hub
        split = urlsplit(self.path)
        hub.requests.append(LoggedRequest(self.command, split.path, self.headers.get("Range")))
        if hub.latency > 0:
            time.sleep(hub.latency)
        try:
            body = BodyReader(self.rfile, self.headers)  # type: ignore[arg-type]
        except HubStateError as error:  # the body cannot be framed: answer, then close
            self.close_connection = True
            self._send(error_response(error))
            return
        fault = hub.faults.take(self.command, split.path)
        if fault is not None and fault.action != "truncate":
            self._inject(fault, body)
            return
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers=self.headers,  # type: ignore[arg-type]
            read=body.read,
            content_length=body.length,
        )
        try:
            response = hub.app.handle(request)
        except (ConnectionError, TimeoutError):
            self._reset()
            return
        except HubStateError as error:  # raised while reading the body (bad chunk framing)
            response = error_response(error)
        except Exception:  # a bug: answer 500 (no Python text, as the Hub) and keep serving
            _LOG.exception("local Hub failed on %s %s", self.command, self.path)
            response = json_response(
                {"error": "Internal error of the local Hub (see its log)"}, 500
            )
        self._finish_body(body)
        self._send(response, cut_after=fault.after_bytes if fault is not None else None)

    def _inject(self, fault: Fault, body: BodyReader) -> None:
        if fault.action == "drop":
            body.skip(fault.after_bytes)
            self._reset()
            return
        self._finish_body(body)
        response = json_response({"error": f"Injected fault: HTTP {fault.status}"}, fault.status)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(int(fault.retry_after))
        self._send(response)

    def _finish_body(self, body: BodyReader) -> None:
        """Consume what the handler left of the body, so the connection can serve again."""
        remaining = body.remaining
        if body.broken or (not body.finished and (remaining is None or remaining > _DRAIN_LIMIT)):
            self.close_connection = True
        elif not body.finished:
            body.skip()

    def _reset(self) -> None:
        """Abort the connection with a TCP reset, without answering."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send(self, response: Response, cut_after: int | None = None) -> None:
        length = response.length if response.file is not None else len(response.body)
        if cut_after is not None:
            self.close_connection = True  # closed (FIN) after the cut: the body ends early
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        limit = length if cut_after is None else min(cut_after, length)
        if response.file is None:
            self.wfile.write(response.body[:limit])
        else:
            self._send_file(response.file, response.start, limit)

    def _send_file(self, path: Path, start: int, length: int) -> None:
        with path.open("rb") as handle:
            handle.seek(start)
            left = length
            while left > 0:
                chunk = handle.read(min(_CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


def _token_map(tokens: Mapping[str, str] | Iterable[str] | None, user: str) -> dict[str, str]:
    if tokens is None:
        return {DEMO_TOKEN: user}
    if isinstance(tokens, Mapping):
        return dict(tokens)
    return {token: user for token in tokens}


class LocalHub:
    """A Hub-compatible server on `host:port` (0 picks a free port), state under `data_dir`.

    `tokens` maps each accepted token to its user name (an iterable of tokens all belong to
    `user`); the default accepts only DEMO_TOKEN. Serves from a background thread between
    `start()` and `stop()`, or as a context manager.
    """

    def __init__(
        self,
        data_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | Iterable[str] | None = None,
        user: str = DEFAULT_USER,
    ):
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.storage = Storage(self.data_dir)
        self.app = HubApp(self.storage, _token_map(tokens, user))
        self.faults = FaultSet()
        self.requests: list[LoggedRequest] = []
        self.latency = 0.0
        self._server: _HubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The base URL to give the client as HF_ENDPOINT (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the local Hub is not running: call start() first")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def client_env(self) -> dict[str, str]:
        """The environment variables that point huggingface_hub at this server."""
        return {"HF_ENDPOINT": self.endpoint, "HF_HUB_DISABLE_XET": "1"}

    def start(self) -> LocalHub:
        """Bind (OSError if the port is taken) and serve from a background thread."""
        if self._server is not None:
            return self
        self._server = _HubHTTPServer((self.host, self.port), self)
        self.app.endpoint = self.endpoint
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"local-hub-{self._server.server_address[1]}",
        )  # fmt: skip
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl+C reaches the caller as KeyboardInterrupt)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Stop serving and drop open connections; the data stays on disk."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(5)

    def reset(self) -> None:
        """Forget faults, latency and the request log (not the repositories)."""
        self.faults.clear()
        self.latency = 0.0
        self.requests.clear()

    def wipe(self) -> None:
        """Delete every repository and object (the server keeps running)."""
        self.storage.wipe()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
