"""`hf publisher …`: the real `hf` CLI runs publisher as an installed extension.

The extension is installed the way `hf extensions install` lays it out (a virtual environment
under ~/.local/share/hf/extensions/hf-publisher with a manifest), from the wheel built from this
checkout, with no network: its dependencies come from the test environment through a .pth file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HF = Path(sys.executable).with_name("hf")
PUBLISHER = Path(sys.executable).with_name("publisher")


@pytest.fixture(scope="module")
def hf_home(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME whose hf extensions folder holds publisher, installed from the built wheel."""
    if not HF.is_file():
        pytest.skip("huggingface_hub's `hf` CLI is not installed beside this Python")
    home = tmp_path_factory.mktemp("home")
    extension = home / ".local" / "share" / "hf" / "extensions" / "hf-publisher"
    venv = extension / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-index", str(built_wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    executable = venv / "bin" / "hf-publisher"
    assert executable.is_file(), "the wheel exposes no hf-publisher console script"
    manifest = {
        "owner": "publisher-tool",
        "repo": "hf-publisher",
        "repo_id": "publisher-tool/hf-publisher",
        "short_name": "publisher",
        "executable_path": str(executable),
        "type": "python",
        "installed_at": "2026-11-30T00:00:00+00:00",
    }
    (extension / "manifest.json").write_text(json.dumps(manifest))
    return home


def _run(command: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_hf_extensions_exec_publisher_help_is_publishers_help(
    hf_home: Path, repo_root: Path
) -> None:
    via_hf = _run([str(HF), "extensions", "exec", "publisher", "--", "--help"], hf_home, repo_root)
    direct = _run([str(PUBLISHER), "--help"], hf_home, repo_root)
    assert (via_hf.returncode, via_hf.stdout) == (direct.returncode, direct.stdout)
    assert via_hf.returncode == 0 and "validate" in via_hf.stdout


def test_hf_publisher_lint_gives_publishers_output_and_exit_code(
    hf_home: Path, repo_root: Path, tmp_path: Path
) -> None:
    via_hf = _run([str(HF), "publisher", "lint", "model_specs/"], hf_home, repo_root)
    direct = _run([str(PUBLISHER), "lint", "model_specs/"], hf_home, repo_root)
    assert (
        (via_hf.returncode, via_hf.stdout)
        == (direct.returncode, direct.stdout)
        == (
            0,
            direct.stdout,
        )
    )
    assert "0 error(s)" in via_hf.stdout

    broken = tmp_path / "specs"
    shutil.copytree(repo_root / "model_specs", broken)
    spec = broken / "Qwen3.5-2B.yaml"
    spec.write_text(spec.read_text().replace("num_layers: 24", "num_layers: 25"))
    via_hf = _run([str(HF), "publisher", "lint", str(broken)], hf_home, tmp_path)
    direct = _run([str(PUBLISHER), "lint", str(broken)], hf_home, tmp_path)
    assert via_hf.returncode == direct.returncode == 1
    assert via_hf.stdout == direct.stdout and "SPEC" in via_hf.stdout
