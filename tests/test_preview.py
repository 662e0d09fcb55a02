"""Local preview: terminal rendering, and the served page as a real headless Chromium sees it."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from publisher.card.preview import PreviewServer
from publisher.cli import main
from tests.chromium import FLAGS, chromium_path

# The flags of tests/chromium.py, less the DevTools pipe: this test uses --dump-dom instead.
CHROMIUM_FLAGS = [flag for flag in FLAGS if flag != "--remote-debugging-pipe"]


def test_terminal_preview_shows_the_card(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", str(repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Quantized to NVFP4 (496 modules)" in out
    assert "pipeline_tag: image-text-to-text" in out


def test_served_page_in_headless_chromium(repo_root: Path, tmp_path: Path) -> None:
    chromium = chromium_path()
    server = PreviewServer(repo_root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml", port=0)
    server.start()
    try:
        common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
        dom = subprocess.run(
            [*common, "--virtual-time-budget=3000", "--dump-dom", server.url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        screenshot = tmp_path / "preview.png"
        subprocess.run(
            [*common, "--window-size=1400,2400", f"--screenshot={screenshot}", server.url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        server.stop()
    assert 'data-key="pipeline_tag"' in dom and "image-text-to-text" in dom
    assert 'data-key="tag"><b>tag</b>nvfp4</span>' in dom
    assert "<th>Property</th>" in dom and "<td>Hidden layout</td>" in dom  # architecture table
    assert "<td>MLP projections</td>" in dom and "<td>192</td>" in dom  # quantization table
    assert 'id="no-findings"' in dom
    assert screenshot.stat().st_size > 10_000
    artifacts = repo_root / ".cache" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "preview-27b.png").write_bytes(screenshot.read_bytes())


def test_page_version_changes_when_the_spec_changes(repo_root: Path, tmp_path: Path) -> None:
    spec_text = (repo_root / "model_specs" / "Qwen3.5-2B.yaml").read_text(encoding="utf-8")
    family = repo_root / "model_specs" / "families" / "qwen3_5.yaml"
    (tmp_path / "families").mkdir()  # `extends` stays inside the spec's repository
    (tmp_path / "families" / family.name).write_text(family.read_text(encoding="utf-8"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    server = PreviewServer(spec, port=0)
    server.start()
    try:

        def get(path: str) -> str:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                return response.read().decode()

        before = get("version")
        assert "Qwen3.5-2B" in get("")
        time.sleep(0.01)
        spec.write_text(
            spec.read_text(encoding="utf-8").replace("About 4 GB", "Roughly 4 GB"), encoding="utf-8"
        )
        assert get("version") != before
        assert "Roughly 4 GB" in get("")
    finally:
        server.stop()
