"""An installed publisher (a wheel, not this checkout) carries everything it needs to render."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(built_wheel: Path) -> Path:
    return built_wheel


def test_wheel_carries_templates_profiles_and_hub_lists(wheel: Path, repo_root: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (repo_root / "templates").rglob("*.j2"):
        assert f"publisher/{template.relative_to(repo_root).as_posix()}" in names
    assert "publisher/profiles/qwen3_5_moe.yaml" in names
    assert "publisher/data/hub_metadata.yaml" in names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


def test_installed_wheel_renders_a_card_outside_any_checkout(
    wheel: Path, repo_root: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    project = tmp_path / "project"  # specs and their family files, no templates/
    shutil.copytree(repo_root / "model_specs", project / "model_specs")
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import publisher; print(publisher.__file__)"],
        cwd=project, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site)), where.stdout  # the wheel, not this checkout
    done = subprocess.run(
        [sys.executable, "-m", "publisher", "render", "model_specs/Qwen3.5-2B-NVFP4.yaml",
         "-o", "README.md"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    golden = (repo_root / "tests" / "golden" / "Qwen3.5-2B-NVFP4.md").read_bytes()
    assert (project / "README.md").read_bytes() == golden
