"""Local preview: the card in the terminal, or served as a Hub-like page that reloads on change."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from publisher.card.facts import CheckpointFacts
from publisher.card.html import card_page
from publisher.card.pipeline import render_spec
from publisher.findings import Finding


def watched_files(spec_path: Path, templates_dir: Path) -> Iterator[Path]:
    yield spec_path
    yield from sorted(spec_path.parent.rglob("*.yaml"))
    yield from sorted(templates_dir.rglob("*.j2"))


def sources_version(spec_path: Path, templates_dir: Path) -> str:
    """A fingerprint of the spec, its family files and the templates (changes when any does)."""
    digest = hashlib.sha256()
    for path in watched_files(spec_path, templates_dir):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:16]


class CheckpointMap:
    """The precision map of a checkpoint folder, drawn again only when its files change."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key: str | None = None
        self.svg = ""
        self.facts: CheckpointFacts | None = None
        self.findings: list[Finding] = []

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.folder.glob("*")):
            if path.suffix in (".safetensors", ".json"):
                stat = path.stat()
                digest.update(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}".encode())
        return digest.hexdigest()[:16]

    def current(self) -> tuple[str, CheckpointFacts | None, list[Finding]]:
        """(the map's SVG, the card's checkpoint facts with the map linked, findings)."""
        from publisher.auditview import MAP_FILE, build_map, draw_svg
        from publisher.card.pipeline import checkpoint_facts
        from publisher.checkpoint.audit import audit_inventory
        from publisher.checkpoint.integrity import check_checkpoint
        from publisher.errors import PublisherError

        try:
            key = self._fingerprint()
        except OSError as error:
            return "", None, [Finding("CARD025", f"{self.folder}: {error.strerror}")]
        if key == self.key:
            return self.svg, self.facts, self.findings
        try:
            inventory, self.findings = check_checkpoint(self.folder)
            view = build_map(audit_inventory(inventory), title=self.folder.name)
            self.svg = draw_svg(view)
            measured = checkpoint_facts(self.folder)
            self.facts = CheckpointFacts(
                measured.total_bytes, measured.files, (MAP_FILE, view.summary())
            )
        except PublisherError as error:
            self.svg, self.facts, self.findings = "", None, [Finding("CARD025", str(error))]
        self.key = key
        return self.svg, self.facts, self.findings


def build_page(
    spec_path: Path, checkpoint: CheckpointMap | None = None
) -> tuple[str, list[Finding]]:
    from publisher.card.check import check_card
    from publisher.card.render import find_templates_dir
    from publisher.errors import PublisherError

    findings: list[Finding] = []
    text: str | None = None
    svg, facts = "", None
    if checkpoint is not None:
        svg, facts, checkpoint_findings = checkpoint.current()
        findings.extend(checkpoint_findings)
    try:
        result = render_spec(spec_path, facts)
        findings.extend(result.findings)
        text = result.text
    except PublisherError as error:
        findings.append(Finding("CARD025", str(error)))
    if text is not None:
        findings.extend(check_card(text, file="README.md"))
    version = sources_version(spec_path, find_templates_dir(spec_path))
    side = f"<section id='precision-map'><h2>Precision map</h2>{svg}</section>" if svg else ""
    return card_page(spec_path.stem, text, findings, version, side), findings


class PreviewServer:
    """Serves one spec's card on 127.0.0.1; the page polls /version and reloads on change."""

    def __init__(self, spec_path: Path, port: int = 0, checkpoint: Path | None = None):
        from publisher.card.render import find_templates_dir

        self.spec_path = spec_path
        self.checkpoint = CheckpointMap(checkpoint) if checkpoint is not None else None
        self.templates_dir = find_templates_dir(spec_path)
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/version":
                    body = sources_version(server.spec_path, server.templates_dir).encode()
                    content_type = "text/plain"
                elif self.path in ("/", "/index.html"):
                    body = build_page(server.spec_path, server.checkpoint)[0].encode()
                    content_type = "text/html; charset=utf-8"
                elif self.path == "/precision_map.svg" and server.checkpoint is not None:
                    body = server.checkpoint.current()[0].encode()  # the card's relative link
                    content_type = "image/svg+xml"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def start(self) -> None:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
