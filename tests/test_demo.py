"""`publisher demo` (what `make demo` runs) goes end to end: specs, cards, export, push, audit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(
    repo_root: Path, tmp_path: Path, modelopt_dense_dir: Path, synth_cache_dir: Path
) -> None:
    env = dict(os.environ, PUBLISHER_SYNTH_CACHE=str(synth_cache_dir))
    done = subprocess.run(
        [sys.executable, "-m", "publisher", "demo", "--workdir", str(tmp_path / "demo")],
        cwd=tmp_path,  # any folder: the demo runs on the specs publisher ships
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Qwen3.5-27B-NVFP4.yaml: clean (no findings)" in out
    assert re.search(r"Qwen3\.5-27B-NVFP4\.md: [\d,]+ bytes \([\d,]+ characters\)", out)
    assert "committed: commit " in out and "tag v0.1.0 created" in out
    assert "up-to-date: 0 bytes re-hashed, 0 uploads" in out
    assert "DeltaNet projections: {'nvfp4': 144, 'bf16': 96}" in out
    assert (tmp_path / "demo" / "cards" / "Qwen3.5-35B-A3B-NVFP4.md").is_file()
    assert "Traceback" not in done.stderr
