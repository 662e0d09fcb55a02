"""`publisher audit REPO_ID` and `publisher validate SPEC --repo ID` read a pushed checkpoint's
headers from the Hub by range requests, and agree with the local checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publisher.cli import main
from publisher.localhub.server import DEMO_TOKEN, LocalHub

pytestmark = pytest.mark.slow


@pytest.fixture
def pushed(
    hub: LocalHub,
    tmp_path: Path,
    modelopt_dense_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[str, Path]:
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    spec = tmp_path / "Tiny-NVFP4.yaml"
    assert main(["init", str(modelopt_dense_dir), "--name", "Tiny-NVFP4", "-o", str(spec)]) == 0
    repo_id = "remote-cli/Tiny-NVFP4"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("your-org/Tiny-NVFP4", repo_id), encoding="utf-8"
    )
    assert main(["push", str(spec), str(modelopt_dense_dir)]) == 0
    capsys.readouterr()
    return repo_id, spec


def test_audit_of_a_hub_repo_matches_the_local_audit(
    pushed: tuple[str, Path],
    modelopt_dense_dir: Path,
    hub: LocalHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo_id, _ = pushed
    hub.requests.clear()
    assert main(["audit", repo_id, "--format", "json"]) == 0
    remote = json.loads(capsys.readouterr().out)["audit"]
    assert not any(
        r.method == "GET"
        and "/resolve/" in r.path
        and r.range is None
        and r.path.endswith(".safetensors")
        for r in hub.requests
    )
    assert main(["audit", str(modelopt_dense_dir), "--format", "json"]) == 0
    local = json.loads(capsys.readouterr().out)["audit"]
    assert remote["modules"] == local["modules"]
    assert remote["tensors_by_dtype"] == local["tensors_by_dtype"]


def test_validate_against_the_hub_copy(
    pushed: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo_id, spec = pushed
    assert main(["validate", str(spec), "--repo", repo_id]) == 0
    out = capsys.readouterr().out
    assert re.search(r"DeltaNet projections +NVFP4 +144 +144 NVFP4 +yes", out)


def test_audit_of_an_unknown_repo_is_a_hub_error(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    assert main(["audit", "nobody/no-such-model"]) == 3
    err = capsys.readouterr().err
    assert "nobody/no-such-model" in err and "Traceback" not in err
