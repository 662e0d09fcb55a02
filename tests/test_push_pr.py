"""`publisher push --create-pr` run again never opens a second pull request for the same spec.

With nothing changed, the re-run finds the open pull request publisher opened for the spec and
sends nothing; after the spec changed, it commits to that pull request's ref (refs/pr/N), so
the same pull request shows the change. A pull request someone else opened, a closed one, or
one against another branch is left alone. All against the local Hub, through the real
huggingface_hub client; the server's request log shows what was written.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.cli import main
from publisher.errors import EXIT_HUB
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from tests import hub_fixtures

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.community import Discussion

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api

REPO_ROOT = Path(__file__).resolve().parent.parent
MINIMAL = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
SUMMARY = "summary: A small test model."
REWORDED = "summary: A small test model, reworded for the second pull request commit."


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def repo_id(hub_api: HfApi, request: pytest.FixtureRequest) -> str:
    """A new repository whose main holds only .gitattributes: every push proposes a card."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50].strip("-")
    repo_id = f"tester/{name}-{uuid.uuid4().hex[:8]}"
    hub_api.create_repo(repo_id)
    return repo_id


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """A copy of the minimal spec that a test may edit (same file name as the original)."""
    path = tmp_path / "specs" / MINIMAL.name
    path.parent.mkdir()
    shutil.copyfile(MINIMAL, path)
    return path


def _reword(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    assert SUMMARY in text
    spec.write_text(text.replace(SUMMARY, REWORDED), encoding="utf-8")


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _propose(capsys: pytest.CaptureFixture[str], spec: Path, repo_id: str, *extra: str) -> str:
    """`push --create-pr`; returns its text output (the push must succeed)."""
    code, out, err = _cli(capsys, "push", spec, "--repo", repo_id, "--create-pr", *extra)
    assert code == 0, out + err
    return out


def _pull_requests(api: HfApi, repo_id: str) -> list[Discussion]:
    """Every pull request of the repository, whatever its status."""
    return list(api.get_repo_discussions(repo_id, discussion_type="pull_request"))


def _commits(api: HfApi, repo_id: str, revision: str = "main") -> list[str]:
    return [c.commit_id for c in api.list_repo_commits(repo_id, revision=revision)]


def _card(api: HfApi, repo_id: str, revision: str) -> str:
    return Path(api.hf_hub_download(repo_id, "README.md", revision=revision)).read_text()


def _writes(hub: LocalHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


# ---- nothing changed: the open pull request is reused ---------------------------------------


def test_a_second_run_with_nothing_changed_opens_no_pull_request_and_commits_nothing(
    hub: LocalHub, hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "opened pull request #1 with 1 change(s)" in _propose(capsys, spec, repo_id)
    pr_commits, main_commits = _commits(hub_api, repo_id, "refs/pr/1"), _commits(hub_api, repo_id)
    hub.requests.clear()

    out = _propose(capsys, spec, repo_id)

    assert "already proposed in pull request #1: 0 files changed" in out
    assert f"{repo_id}/discussions/1" in out
    assert [pr.num for pr in _pull_requests(hub_api, repo_id)] == [1]
    assert _commits(hub_api, repo_id, "refs/pr/1") == pr_commits
    assert _commits(hub_api, repo_id) == main_commits
    assert _writes(hub) == []


def test_json_output_names_the_pull_request_opened_then_reused(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = json.loads(_propose(capsys, spec, repo_id, "--format", "json"))
    second = json.loads(_propose(capsys, spec, repo_id, "--format", "json"))

    url = _pull_requests(hub_api, repo_id)[0].url
    assert first["status"] == "committed" and first["pr_url"] == url
    assert first["pull_request"] == {"action": "open", "num": 1, "ref": "refs/pr/1", "url": url}
    assert second["status"] == "already-proposed" and second["pr_url"] == url
    assert second["pull_request"] == {"action": "reuse", "num": 1, "ref": "refs/pr/1", "url": url}
    assert second["commit"] is None and second["uploaded_bytes"] == 0
    assert second["plan"]["revision"] == "refs/pr/1"
    assert second["plan"]["pull_request"] == {"num": 1, "ref": "refs/pr/1", "url": url}


# ---- the spec changed: the same pull request gets a commit ----------------------------------


def test_after_the_spec_changed_the_push_commits_to_the_open_pull_request(
    hub: LocalHub, hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(capsys, spec, repo_id)
    pr_commits, main_commits = _commits(hub_api, repo_id, "refs/pr/1"), _commits(hub_api, repo_id)
    _reword(spec)

    out = _propose(capsys, spec, repo_id)

    assert re.search(r"updated pull request #1: committed [0-9a-f]{7} to refs/pr/1", out), out
    assert [pr.num for pr in _pull_requests(hub_api, repo_id)] == [1]
    after = _commits(hub_api, repo_id, "refs/pr/1")
    assert after[1:] == pr_commits and len(after) == len(pr_commits) + 1
    assert "reworded for the second pull request commit" in _card(hub_api, repo_id, "refs/pr/1")
    assert _commits(hub_api, repo_id) == main_commits
    hub.requests.clear()

    assert "already proposed in pull request #1" in _propose(capsys, spec, repo_id)
    assert _writes(hub) == []


def test_merging_the_updated_pull_request_publishes_the_latest_card(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(capsys, spec, repo_id)
    _reword(spec)
    _propose(capsys, spec, repo_id)

    hub_api.merge_pull_request(repo_id, 1)

    assert "reworded for the second pull request commit" in _card(hub_api, repo_id, "main")
    code, out, _ = _cli(capsys, "push", spec, "--repo", repo_id, "--create-pr")
    assert code == 0 and "up to date: 0 files changed" in out
    assert len(_pull_requests(hub_api, repo_id)) == 1


# ---- dry runs ---------------------------------------------------------------------------------


def test_a_dry_run_says_the_pull_request_exists_and_sends_nothing(
    hub: LocalHub, hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(capsys, spec, repo_id)
    pr_commits = _commits(hub_api, repo_id, "refs/pr/1")
    hub.requests.clear()

    out = _propose(capsys, spec, repo_id, "--dry-run")

    assert "already proposed in pull request #1" in out and "dry run: nothing was sent" in out
    assert "Plan for" in out and "(refs/pr/1): open pull request #1" in out
    assert _writes(hub) == []
    _reword(spec)
    data = json.loads(_propose(capsys, spec, repo_id, "--dry-run", "--format", "json"))
    assert data["status"] == "dry-run" and data["pull_request"]["action"] == "update"
    assert data["pull_request"]["num"] == 1 and data["plan"]["revision"] == "refs/pr/1"
    assert [f["state"] for f in data["plan"]["files"]] == ["changed"]
    out = _propose(capsys, spec, repo_id, "--dry-run")
    assert "would add a commit to pull request #1" in out and "dry run: nothing was sent" in out
    assert _writes(hub) == []
    assert len(_pull_requests(hub_api, repo_id)) == 1
    assert _commits(hub_api, repo_id, "refs/pr/1") == pr_commits


def test_a_dry_run_with_no_pull_request_yet_says_it_would_open_one(
    hub: LocalHub, hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.requests.clear()

    out = _propose(capsys, spec, repo_id, "--dry-run")

    assert "would open a pull request against main" in out
    assert _writes(hub) == [] and _pull_requests(hub_api, repo_id) == []


# ---- pull requests that are not reused ------------------------------------------------------


def test_a_pull_request_someone_else_opened_with_the_same_card_is_left_alone(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from publisher.card.pipeline import render_spec

    card = render_spec(spec).text
    assert card is not None
    hub_api.upload_file(
        path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id,
        commit_message="Add a model card", commit_description="Written by hand.", create_pr=True,
    )  # fmt: skip
    theirs = _commits(hub_api, repo_id, "refs/pr/1")

    assert "opened pull request #2" in _propose(capsys, spec, repo_id)

    assert [pr.num for pr in _pull_requests(hub_api, repo_id)] == [2, 1]
    assert _commits(hub_api, repo_id, "refs/pr/1") == theirs
    assert "already proposed in pull request #2" in _propose(capsys, spec, repo_id)


def test_a_closed_pull_request_is_not_reused(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(capsys, spec, repo_id)
    hub_api.change_discussion_status(repo_id, 1, "closed")
    closed = _commits(hub_api, repo_id, "refs/pr/1")

    assert "opened pull request #2" in _propose(capsys, spec, repo_id)
    assert _commits(hub_api, repo_id, "refs/pr/1") == closed


def test_a_pull_request_against_another_branch_is_not_reused(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_api.create_branch(repo_id, branch="dev")
    _propose(capsys, spec, repo_id)

    assert "opened pull request #2" in _propose(capsys, spec, repo_id, "--revision", "dev")
    assert hub_api.get_discussion_details(repo_id, 2).target_branch == "refs/heads/dev"
    assert "already proposed in pull request #2" in _propose(
        capsys, spec, repo_id, "--revision", "dev"
    )
    assert "already proposed in pull request #1" in _propose(capsys, spec, repo_id)


def test_a_spec_of_another_name_opens_its_own_pull_request(
    hub_api: HfApi, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _propose(capsys, spec, repo_id)
    other = spec.with_name("minimal-copy.yaml")
    shutil.copyfile(spec, other)

    assert "opened pull request #2" in _propose(capsys, other, repo_id)
    assert len(_pull_requests(hub_api, repo_id)) == 2


def test_a_hub_failure_while_reading_pull_requests_is_one_line_and_sends_nothing(
    hub: LocalHub, repo_id: str, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = hub.faults.add(method="GET", path_regex=r"/discussions$", status=500, times=None)
    hub.requests.clear()

    code, out, err = _cli(capsys, "push", spec, "--repo", repo_id, "--create-pr")

    assert code == EXIT_HUB and fault.fired >= 1
    assert f"HTTP 500 while reading the pull requests of {repo_id}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert DEMO_TOKEN not in out + err
    assert _writes(hub) == []


# ---- release --create-pr ----------------------------------------------------------------------


def _git(root: Path, *args: str) -> None:
    command = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    command += ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-C", str(root), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _release_root(tmp_path: Path, repo_id: str) -> Path:
    root = tmp_path / "release"
    (root / "model_specs").mkdir(parents=True)
    text = MINIMAL.read_text(encoding="utf-8").replace("example-org/Tiny-2B", repo_id)
    (root / "model_specs" / "Tiny-2B.yaml").write_text(text, encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Tiny-2B")
    return root


def test_release_with_create_pr_reuses_its_open_pull_request(
    hub: LocalHub, hub_api: HfApi, repo_id: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_SHA", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    root = _release_root(tmp_path, repo_id)
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    args = ["release", "--spec", str(root / "model_specs" / "Tiny-2B.yaml"), "--tag", "v1.0.0"]
    args += ["--root", str(root), "--sha", "HEAD", "--create-pr"]
    args += ["--github-output", str(output), "--summary", str(summary)]

    code, out, _ = _cli(capsys, *args)
    assert code == 0 and "result: pull request opened" in out, out
    url = _pull_requests(hub_api, repo_id)[0].url
    hub.requests.clear()
    output.write_text("")

    code, out, _ = _cli(capsys, *args)

    assert code == 0 and "result: already proposed in an open pull request" in out, out
    assert f"pr_url={url}" in output.read_text(encoding="utf-8")
    assert f"pull request {url} (already open; nothing sent)" in summary.read_text()
    assert len(_pull_requests(hub_api, repo_id)) == 1 and _writes(hub) == []
