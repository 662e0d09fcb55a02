"""Concurrency and interrupted pushes (issue 7): nothing is lost, nothing is mixed.

- Two pushes to the same repository and branch at once: one wins, the other fails cleanly on
  the stale parent (HubError, exit 3), a re-run succeeds, and the repository is never a mix of
  the two checkpoints.
- `python -m publisher push` killed (SIGKILL) after hashing, in the middle of the LFS upload,
  after the upload but before committing, and while the commit request is in flight (the Hub
  may or may not apply it); then run again: the repository ends
  exactly as an uninterrupted push leaves it, and no LFS object that reached the Hub is
  uploaded a second time (the local Hub's request log counts the PUTs per object).
- Two bugs found on the way and fixed elsewhere stay fixed: every Hub request has a timeout,
  and release planning survives a hostile spec.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from publisher.cli import main
from publisher.errors import EXIT_HUB, HubError
from publisher.hub import push as push_mod
from publisher.hub.client import repo_snapshot
from publisher.localhub.server import DEMO_TOKEN
from tests.checkpoint_variants import copy_export, with_tester_repo

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from publisher.localhub.server import LocalHub

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC = REPO_ROOT / "tests" / "specs" / "minimal.yaml"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("CI", raising=False)


def remote_files(repo_id: str) -> dict[str, tuple[int | None, str | None]]:
    """path → (size, LFS sha256 or git blob id) of the repo's main branch."""
    snapshot = repo_snapshot(repo_id, None, token=DEMO_TOKEN)
    return {
        path: (item.size, item.lfs_sha256 or item.blob_id)
        for path, item in snapshot.files.items()
        if path != ".gitattributes"
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _puts(hub: LocalHub) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in hub.requests if r.method == "PUT"]


# ---- two pushes at once ---------------------------------------------------------------------


def _random_checkpoint(folder: Path, label: str) -> Path:
    folder.mkdir()
    data = np.frombuffer(os.urandom(300_000), dtype=np.uint8)
    save_file({"model.weight": data}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model_type": "x", "label": label}))
    return folder


def test_two_pushes_at_once_one_wins_the_other_fails_cleanly_and_nothing_is_mixed(
    tmp_path: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo_id = hub_repo_id.rstrip("-")
    hub_api.create_repo(repo_id)
    first = _random_checkpoint(tmp_path / "a", "a")
    second = _random_checkpoint(tmp_path / "b", "b")
    expected = {}
    for folder in (first, second):
        expected[folder.name] = {
            "model.safetensors": _sha256(folder / "model.safetensors"),
            "config.json": (folder / "config.json").read_bytes(),
        }

    # both plan against the same head, then publish together (a barrier before publishing)
    barrier = threading.Barrier(2, timeout=30)
    original = push_mod.Pusher.publish

    def publish_together(self: push_mod.Pusher, plan: Any) -> Any:
        barrier.wait()
        return original(self, plan)

    monkeypatch.setattr(push_mod.Pusher, "publish", publish_together)
    outcomes: dict[str, Any] = {}

    def run(folder: Path) -> None:
        try:
            outcomes[folder.name] = push_mod.push(SPEC, extra_files=folder, repo_id=repo_id)
        except Exception as error:
            outcomes[folder.name] = error

    threads = [threading.Thread(target=run, args=(f,)) for f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.setattr(push_mod.Pusher, "publish", original)

    errors = {k: v for k, v in outcomes.items() if isinstance(v, BaseException)}
    wins = {k: v for k, v in outcomes.items() if not isinstance(v, BaseException)}
    assert len(wins) == 1 and len(errors) == 1, outcomes
    [(loser, error)] = errors.items()
    [(winner, result)] = wins.items()
    assert isinstance(error, HubError) and error.exit_code == EXIT_HUB
    assert "another commit landed after the plan" in str(error), error
    assert "nothing was committed" in str(error) and "\n" not in str(error)
    assert result.status == "committed"

    def assert_is(name: str) -> None:
        files = remote_files(repo_id)
        assert set(files) == {"README.md", "model.safetensors", "config.json"}
        assert files["model.safetensors"][1] == expected[name]["model.safetensors"]
        config = hub_api.hf_hub_download(repo_id, "config.json", revision="main")
        assert Path(config).read_bytes() == expected[name]["config.json"]

    assert_is(winner)  # the winner's checkpoint, whole
    commits = hub_api.list_repo_commits(repo_id)
    assert len(commits) == 2  # "initial commit" and the winner's; the loser committed nothing

    rerun = push_mod.push(SPEC, extra_files=tmp_path / loser, repo_id=repo_id)
    assert rerun.status == "committed"
    assert_is(loser)  # the loser's checkpoint, whole: never a mix
    assert len(hub_api.list_repo_commits(repo_id)) == 3


# ---- a push killed at any point ---------------------------------------------------------------


@pytest.fixture(scope="module")
def export_spec(modelopt_dense_spec: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export's spec with a repo id under `tester/`."""
    return with_tester_repo(
        modelopt_dense_spec, tmp_path_factory.mktemp("spec") / "Tiny-NVFP4.yaml"
    )


def _push_env(cache: Path) -> dict[str, str]:
    env = {**os.environ, "HF_TOKEN": DEMO_TOKEN, "PUBLISHER_CACHE_DIR": str(cache)}
    env.pop("CI", None)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def _push_argv(spec: Path, ckpt: Path, repo_id: str) -> list[str]:
    return [sys.executable, "-m", "publisher", "push", str(spec), str(ckpt), "--repo", repo_id]


class Pushing:
    """A `publisher push` subprocess whose stderr lines are collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def kill_when(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        """SIGKILL as soon as `condition()` holds; False if the push ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(10)
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.005)
        self.proc.kill()
        raise AssertionError(f"condition never held; stderr: {''.join(self.lines)}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "moment", ["after hashing", "mid-upload", "after the upload", "during the commit"]
)
def test_a_killed_push_resumes_to_the_same_repository_without_re_uploading(
    moment: str,
    tmp_path: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    export_spec: Path,
    modelopt_dense_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo_id = hub_repo_id.rstrip("-")
    ckpt = copy_export(modelopt_dense_dir, tmp_path / "ckpt")
    # a fresh LFS object (the local Hub shares objects between repositories): new bytes at the
    # end of the data region; the headers, all that validation reads, are unchanged
    shard = ckpt / "model.safetensors"
    with shard.open("r+b") as handle:
        handle.seek(-16, os.SEEK_END)
        handle.write(os.urandom(16))
    sha = _sha256(shard)
    env = _push_env(tmp_path / "hash-cache")
    hub.requests.clear()
    object_known_before = hub.storage.has_object(sha)

    def lfs_put_seen() -> bool:
        return any(r.method == "PUT" for r in list(hub.requests))

    conditions: dict[str, Callable[[], bool]] = {
        "after hashing": lambda: any("hashing:" in line for line in pushing.lines),
        "mid-upload": lfs_put_seen,
        "after the upload": lambda: hub.storage.has_object(sha),
        "during the commit": lambda: any(
            r.method == "POST" and r.path.endswith("/commit/main") for r in list(hub.requests)
        ),
    }
    hub.latency = 1.0 if moment == "mid-upload" else 0.3
    pushing = Pushing(_push_argv(export_spec, ckpt, repo_id), env)
    killed = pushing.kill_when(conditions[moment])
    in_flight_delay = hub.latency
    hub.latency = 0.0
    assert killed, f"the push ended before the kill: {''.join(pushing.lines)}"
    # a request already in the server (sleeping out its latency) may still complete: a small
    # body can sit whole in the socket buffer when the client dies. Let it land before looking.
    time.sleep(in_flight_delay + 0.5)
    first_puts = _puts(hub)
    stored_before_rerun = hub.storage.has_object(sha)
    if moment == "mid-upload" and not object_known_before:
        # killed once the PUT began; whether the body had already left whole (a small file fits
        # in the socket buffers) is the kernel's business: both cases must resume correctly below
        assert first_puts == [sha]

    hub.requests.clear()
    proc = subprocess.run(_push_argv(export_spec, ckpt, repo_id), env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rerun_puts = _puts(hub)

    # as an uninterrupted push of the same checkpoint leaves a repository
    assert main(["push", str(export_spec), str(ckpt), "--repo", f"{repo_id}-ref"]) == 0
    capsys.readouterr()
    assert remote_files(repo_id) == remote_files(f"{repo_id}-ref")
    assert set(remote_files(repo_id)) == {
        "README.md", "quantization_audit.json", "model.safetensors", "config.json",
        "generation_config.json", "hf_quant_config.json",
    }  # fmt: skip
    commits = [c.title for c in hub_api.list_repo_commits(repo_id)]
    assert len(commits) in (1, 2) and commits[-1] in ("initial commit", commits[0])
    if stored_before_rerun:
        assert rerun_puts == [], "an LFS object the Hub already had was uploaded again"
    else:
        assert rerun_puts == [sha]  # once, the object the kill cut short
    assert len(first_puts + rerun_puts) <= 2
    assert rerun_puts.count(sha) <= 1


# ---- found while hardening, fixed in hub/client.py and release/tags.py: keep them fixed --------


def test_every_request_to_the_hub_has_a_timeout(
    tmp_path: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """huggingface_hub 2.x builds its shared client with timeout=None: a Hub or proxy that
    accepts the connection and never answers hung push, audit REPO_ID and validate --repo for
    ever. Every request must carry a read timeout (hub/client.py use_timeouts)."""
    import httpx2

    repo_id = hub_repo_id.rstrip("-")
    seen: list[tuple[str, str, Any]] = []
    send = httpx2.Client.send

    def recording_send(self: httpx2.Client, request: httpx2.Request, *args: Any, **kw: Any) -> Any:
        seen.append((request.method, request.url.path, request.extensions.get("timeout")))
        return send(self, request, *args, **kw)

    monkeypatch.setattr(httpx2.Client, "send", recording_send)
    assert main(["push", str(SPEC), "--repo", repo_id]) == 0
    assert main(["audit", repo_id]) in (0, 1, 2)
    capsys.readouterr()
    assert seen
    untimed = [(method, path) for method, path, timeout in seen
               if not isinstance(timeout, dict) or timeout.get("read") is None]  # fmt: skip
    assert untimed == []


@pytest.mark.parametrize("text", ["summary: 2024-02-30\n", "summary: " + "[" * 5000 + "]" * 5000])
def test_release_planning_survives_a_hostile_spec(tmp_path: Path, text: str) -> None:
    """release/tags.py read specs with yaml.safe_load, catching YAML errors only: a date such
    as 2024-02-30 (ValueError) or 5,000-deep nesting (RecursionError) made `publisher release
    plan` exit 4. It reads them with lint's bounded loader now."""
    from publisher.release.tags import extends_chain

    spec = tmp_path / "Bad.yaml"
    spec.write_text("name: Bad\n" + text, encoding="utf-8")
    assert extends_chain(spec) == [spec.resolve()]
