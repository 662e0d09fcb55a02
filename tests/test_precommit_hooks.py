"""The pre-commit hooks this repository offers, run by the real pre-commit (`try-repo`) on a
sample project that keeps specs, family files, rendered cards and a hand-written README.md.
Each hook passes once and fails once, the way a user meets it at `git commit`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
         *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hooks_repo(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout as it is now (uncommitted edits included), committed in a clean repository,
    so that pre-commit installs one environment for the whole module."""
    if not PRE_COMMIT.is_file():
        pytest.skip("pre-commit is not installed (it is in the dev extras)")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo_root, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    snapshot = tmp_path_factory.mktemp("publisher-src")
    for name in filter(None, listed):
        source = repo_root / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)  # small text files only (no sparse headers)
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(repo_root: Path, hooks_repo: Path, request: pytest.FixtureRequest) -> Path:
    """A model repository of a team: specs, family files, cards rendered from them, a README.
    Every test's project lies at the same depth beside the hooks repository: pre-commit keys
    its environments by the repository path relative to the project, so all share one."""
    root = hooks_repo.parent / "projects" / request.node.name / "models"
    shutil.copytree(repo_root / "model_specs", root / "model_specs")
    for spec in ("Qwen3.5-2B", "Qwen3.5-2B-NVFP4"):
        card = root / "cards" / spec / "README.md"
        card.parent.mkdir(parents=True)
        shutil.copy(repo_root / "tests" / "golden" / f"{spec}.md", card)
    for spec in (root / "model_specs").glob("*.yaml"):
        if spec.stem not in ("Qwen3.5-2B", "Qwen3.5-2B-NVFP4"):
            spec.unlink()
    shutil.copy(repo_root / "tests" / "cards" / "clean.md", root / "README.md")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    return root


def _try(
    hooks_repo: Path, home: Path, project: Path, hook: str, *files: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("PRE_COMMIT_COLOR", None)
    selection = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(hooks_repo), hook, *selection, "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_publisher_lint_hook_checks_specs_and_the_specs_a_family_file_feeds(
    hooks_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    family = "model_specs/families/qwen3_5.yaml"
    passed = _try(hooks_repo, pre_commit_home, project, "publisher-lint", family)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    # A family edit that breaks the specs extending it fails the hook, naming the spec.
    path = project / family
    path.write_text(path.read_text().replace("    head_dim: 256", "    head_dim: 0"), "utf-8")
    failed = _try(hooks_repo, pre_commit_home, project, "publisher-lint", family)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    # Both specs that extend the family file (directly, or through qwen3_5_nvfp4.yaml) are
    # checked, and the error points at the family file's line.
    assert "Failed" in failed.stdout and "2 error(s)" in failed.stdout
    assert "model_specs/families/qwen3_5.yaml:" in failed.stdout


def test_publisher_check_card_hook_passes_a_clean_readme_and_fails_a_broken_one(
    repo_root: Path, hooks_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    passed = _try(hooks_repo, pre_commit_home, project, "publisher-check-card", "README.md")
    assert passed.returncode == 0, passed.stdout + passed.stderr

    shutil.copy(repo_root / "tests" / "cards" / "collapsed_frontmatter.md", project / "README.md")
    failed = _try(hooks_repo, pre_commit_home, project, "publisher-check-card", "README.md")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "CARD0" in failed.stdout


def test_publisher_render_check_hook_fails_with_the_diff_when_a_card_is_stale(
    hooks_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    passed = _try(hooks_repo, pre_commit_home, project, "publisher-render-check")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    spec = project / "model_specs" / "Qwen3.5-2B.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("About 4 GB of weights", "About 4 GB of weights,"), "utf-8")
    failed = _try(hooks_repo, pre_commit_home, project, "publisher-render-check")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "-- About 4 GB of weights in BF16." in failed.stdout
    assert "+- About 4 GB of weights, in BF16." in failed.stdout
    assert "cards/Qwen3.5-2B/README.md" in failed.stdout
