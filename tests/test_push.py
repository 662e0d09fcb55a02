"""`publisher push` against the local Hub, driven through the real huggingface_hub client.

Checkpoints here are random bytes (fresh per test: the local Hub shares LFS objects across
repositories, so only new bytes show real uploads) published with `push(extra_files=...)`,
which skips validation; the full gate (validation against a spec) has its own tests.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from safetensors.numpy import save_file

from publisher import __version__
from publisher.cli import main
from publisher.commands.push import PlainProgress, RichProgress, make_progress
from publisher.errors import EXIT_HUB, HubError, InputError, UsageError
from publisher.hub.client import to_hub_error
from publisher.hub.hashcache import CACHE_FILE, HashCache, hash_files
from publisher.hub.plan import State, never_upload_reason
from publisher.hub.push import Pusher, push
from publisher.hub.push_types import PushOptions
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from tests import hub_fixtures

if TYPE_CHECKING:
    from huggingface_hub import HfApi

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api


@pytest.fixture
def hub_repo_id(request: pytest.FixtureRequest) -> str:
    """A repository id unique to the test (hub_fixtures' can end its name in "--")."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50].strip("-")
    return f"tester/{name}-{uuid.uuid4().hex[:8]}"


REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
SECRETS = (".env", "deploy.pem", "server.key", "hf_token", ".git/config", "__pycache__/x.pyc")
PUBLISHED = {
    "README.md",
    "config.json",
    "tokenizer.json",
    "special_tokens_map.json",
    "model.safetensors.index.json",
    *SHARDS,
}
WRONG_TOKEN = "hf_wrong_secret_token_4242"

TINY_SPEC = """\
name: Tiny-Dense
repo_id: example-org/Tiny-Dense
summary: A tiny test model.
hub: {license: apache-2.0, pipeline_tag: image-text-to-text, library_name: transformers}
architecture:
  profile: qwen3_5
  parameters: {total: 2M}
  hidden_size: 64
  vocab_size: 512
  num_layers: 64
  layout: 16 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))
  deltanet: {v_heads: 4, qk_heads: 2, head_dim: 16}
  attention: {q_heads: 4, kv_heads: 2, head_dim: 16, rotary_dim: 4}
  ffn: {intermediate_size: INTERMEDIATE}
  lm_output: separate
  context: {native: 256}
  vision: {depth: 2, hidden_size: 32, intermediate_size: 64}
  dims: {vision_positions: 64}
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    monkeypatch.delenv("CI", raising=False)


def _shard(path: Path, nbytes: int = 600_000) -> None:
    data = np.frombuffer(os.urandom(nbytes), dtype=np.uint8)
    save_file({f"{path.stem}.weight": data}, str(path))


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    """Two random shards, an index, configs, tokenizer files, and secrets that must stay."""
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for name in SHARDS:
        _shard(folder / name)
    weight_map = {f"{Path(name).stem}.weight": name for name in SHARDS}
    index = {"metadata": {"total_size": 1_200_000}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text('{"model_type": "qwen3_5"}\n')
    (folder / "tokenizer.json").write_text('{"version": "1.0"}\n')
    (folder / "special_tokens_map.json").write_text("{}\n")
    for name in SECRETS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("SECRET=do-not-publish\n")
    return folder


def _commits(api: HfApi, repo_id: str, revision: str | None = None) -> list[str]:
    return [c.commit_id for c in api.list_repo_commits(repo_id, revision=revision)]


def _files(api: HfApi, repo_id: str, revision: str | None = None) -> set[str]:
    return set(api.list_repo_files(repo_id, revision=revision)) - {".gitattributes"}


def _puts(hub: LocalHub) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in hub.requests if r.method == "PUT"]


def _writes(hub: LocalHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["push", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- the first push, re-push, one changed file ----------------------------------------------


def test_first_push_creates_the_repo_with_one_commit(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert result.status == "committed" and result.created_repo
    assert _files(hub_api, hub_repo_id) == PUBLISHED
    history = hub_api.list_repo_commits(hub_repo_id)
    assert [c.title for c in history][1:] == ["initial commit"]  # exactly one commit of ours
    assert history[0].commit_id == result.commit
    assert history[0].title == f"Publish minimal.yaml (publisher {__version__})"
    assert sorted(_puts(hub)) == sorted(_sha256(ckpt / name) for name in SHARDS)
    assert result.uploaded_bytes == sum((ckpt / name).stat().st_size for name in SHARDS)
    card = hub_api.hf_hub_download(hub_repo_id, "README.md")
    assert "# Tiny-2B" in Path(card).read_text()


def test_secret_files_are_never_uploaded_and_the_plan_says_so(
    hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    remote = _files(hub_api, hub_repo_id)
    assert not {".env", "deploy.pem", "server.key", "hf_token"} & remote
    assert not any(p.startswith((".git/", "__pycache__/")) for p in remote)
    assert result.plan is not None
    skipped = {s.path: s.reason for s in result.plan.skipped}
    assert set(skipped) == {".env", "deploy.pem", "server.key", "hf_token", ".git/", "__pycache__/"}
    assert "secrets" in skipped[".env"] and "credentials" in skipped["hf_token"]


@pytest.mark.parametrize(
    ("name", "never"),
    [
        ("tokenizer.json", False),
        ("tokenizer_config.json", False),
        ("special_tokens_map.json", False),
        ("added_tokens.json", False),
        ("hf_token", True),
        ("token.txt", True),
        (".env.local", True),
        ("cert.pem", True),
        ("client_secrets.json", True),
    ],
)
def test_which_names_are_never_uploaded(name: str, never: bool) -> None:
    assert (never_upload_reason(name) is not None) is never


def test_a_link_out_of_the_folder_is_refused_before_anything_is_sent(
    hub: LocalHub, hub_repo_id: str, ckpt: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("private notes")
    (ckpt / "notes.txt").symlink_to(outside)

    with pytest.raises(InputError, match="outside the folder") as raised:
        push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert raised.value.exit_code == 2
    assert _writes(hub) == []


def test_a_re_push_hashes_nothing_sends_nothing_and_makes_no_commit(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)
    before = _commits(hub_api, hub_repo_id)
    hub.requests.clear()

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert result.status == "up-to-date" and result.commit is None
    assert result.hash_stats.hashed_bytes == 0 and result.hash_stats.cached_files == 6
    assert _commits(hub_api, hub_repo_id) == before
    assert _writes(hub) == []  # no PUT, no preupload, no commit


def test_a_changed_shard_makes_one_commit_with_only_that_file(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)
    before = _commits(hub_api, hub_repo_id)
    _shard(ckpt / SHARDS[1])  # new random bytes, new mtime
    hub.requests.clear()

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert result.plan is not None
    assert [f.path for f in result.plan.changes] == [SHARDS[1]]
    assert result.plan.changes[0].state is State.CHANGED
    assert result.hash_stats.hashed_bytes == (ckpt / SHARDS[1]).stat().st_size
    assert _commits(hub_api, hub_repo_id) == [result.commit, *before]
    assert _puts(hub) == [_sha256(ckpt / SHARDS[1])]
    lfs = {f.path: f.lfs for f in hub_api.list_repo_tree(hub_repo_id) if hasattr(f, "lfs")}
    assert lfs[SHARDS[1]] is not None and lfs[SHARDS[1]].sha256 == _sha256(ckpt / SHARDS[1])


def test_the_hash_cache_rereads_only_files_that_changed(tmp_path: Path) -> None:
    files = [tmp_path / "a.bin", tmp_path / "b.bin"]
    for path in files:
        path.write_bytes(os.urandom(1000))
    hash_files(files, HashCache(tmp_path / "cache"))
    files[1].write_bytes(os.urandom(1000))

    digests, stats = hash_files(files, HashCache(tmp_path / "cache"))

    assert (stats.hashed_files, stats.cached_files, stats.hashed_bytes) == (1, 1, 1000)
    assert digests[files[1]].sha256 == _sha256(files[1])
    assert (tmp_path / "cache" / CACHE_FILE).is_file()


# ---- the CLI: dry run, card-only pushes, tags ---------------------------------------------


def test_dry_run_prints_the_plan_and_sends_nothing(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(capsys, SPEC, "--repo", hub_repo_id, "--dry-run")

    assert code == 0
    assert "new repository, created by the push" in out
    assert re.search(r"new\s+regular\s+[\d.]+ (?:B|KiB)\s+README.md", out)
    assert "dry run: nothing was sent" in out
    assert _writes(hub) == []
    assert not hub_api.repo_exists(hub_repo_id)


def test_dry_run_json_lists_states_and_skipped_files(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)
    (ckpt / "config.json").write_text('{"model_type": "qwen3_5", "changed": true}\n')
    hub.requests.clear()

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id, dry_run=True)

    assert result.status == "dry-run" and result.plan is not None
    states = {f["path"]: f["state"] for f in result.to_json()["plan"]["files"]}
    assert states["config.json"] == "changed" and states[SHARDS[0]] == "unchanged"
    modes = {f["path"]: f["mode"] for f in result.to_json()["plan"]["files"]}
    assert modes[SHARDS[0]] == "lfs" and modes["config.json"] == "regular"
    assert _writes(hub) == []


def test_cli_push_then_re_push_says_up_to_date(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(capsys, SPEC, "--repo", hub_repo_id)
    assert code == 0 and f"to {hub_repo_id}@main (new repository)" in out
    assert f"publisher: creating public repository {hub_repo_id}" in err  # plain lines: no TTY
    commits = _commits(hub_api, hub_repo_id)

    code, out, _ = _cli(capsys, SPEC, "--repo", hub_repo_id)

    assert code == 0
    assert "up to date: 0 files changed" in out
    assert _commits(hub_api, hub_repo_id) == commits


def test_tag_names_the_pushed_commit_and_a_re_run_applies_a_missing_tag(
    hub_api: HfApi, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.0")
    head = _commits(hub_api, hub_repo_id)[0]
    assert code == 0 and "tagged v1.0.0" in out

    code, out, _ = _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.0")
    assert code == 0 and "tag v1.0.0 already on this commit" in out

    code, out, _ = _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.1")
    assert code == 0 and "up to date" in out and "tagged v1.0.1" in out
    tags = {t.name: t.target_commit for t in hub_api.list_repo_refs(hub_repo_id).tags}
    assert tags == {"v1.0.0": head, "v1.0.1": head}


def test_a_tag_already_on_another_commit_is_a_clear_error(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.0")
    hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="other.txt", repo_id=hub_repo_id)
    commits = _commits(hub_api, hub_repo_id)
    hub.requests.clear()

    code, _, err = _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.0")

    assert code == EXIT_HUB
    assert "tag v1.0.0 already exists" in err and "choose a new version tag" in err
    assert len(err.strip().splitlines()) == 1
    assert _writes(hub) == [] and _commits(hub_api, hub_repo_id) == commits


# ---- where the commit goes: PR, branch; what is deleted -----------------------------------


def test_create_pr_opens_a_pull_request_and_leaves_main_alone(
    hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    push(SPEC, repo_id=hub_repo_id)
    main_before = _commits(hub_api, hub_repo_id)

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id, create_pr=True)

    assert result.pr_url is not None and result.pr_url.endswith("/discussions/1")
    assert _commits(hub_api, hub_repo_id) == main_before
    assert _files(hub_api, hub_repo_id, "refs/pr/1") == PUBLISHED
    [pr] = list(hub_api.get_repo_discussions(hub_repo_id))
    assert pr.is_pull_request and pr.status == "open"


def test_revision_pushes_to_a_new_branch(hub_api: HfApi, hub_repo_id: str, ckpt: Path) -> None:
    push(SPEC, repo_id=hub_repo_id)
    main_before = _commits(hub_api, hub_repo_id)

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id, revision="dev")

    assert result.status == "committed"
    assert _commits(hub_api, hub_repo_id) == main_before
    assert _commits(hub_api, hub_repo_id, "dev") == [result.commit, *main_before]
    assert _files(hub_api, hub_repo_id, "dev") == PUBLISHED
    assert _files(hub_api, hub_repo_id) == {"README.md"}


def test_remote_files_the_push_does_not_manage_are_kept_unless_delete_matches(
    hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    hub_api.create_repo(hub_repo_id)
    for name in ("notes.txt", "old/weights.bin"):
        hub_api.upload_file(path_or_fileobj=b"keep?", path_in_repo=name, repo_id=hub_repo_id)

    first = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)
    assert first.plan is not None and first.plan.kept == ["notes.txt", "old/weights.bin"]
    assert {"notes.txt", "old/weights.bin"} <= _files(hub_api, hub_repo_id)
    commits = _commits(hub_api, hub_repo_id)

    second = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id, delete=("*.bin",))

    assert second.plan is not None and second.plan.deletions == ["old/weights.bin"]
    assert _commits(hub_api, hub_repo_id) == [second.commit, *commits]
    assert _files(hub_api, hub_repo_id) == PUBLISHED | {"notes.txt"}


def test_private_applies_when_the_repo_is_created(hub_api: HfApi, hub_repo_id: str) -> None:
    push(SPEC, repo_id=hub_repo_id, private=True)
    assert hub_api.model_info(hub_repo_id).private is True


def test_a_pull_request_needs_an_existing_branch(hub: LocalHub, hub_repo_id: str) -> None:
    push(SPEC, repo_id=hub_repo_id)
    hub.requests.clear()

    with pytest.raises(UsageError, match="branch dev does not exist"):
        push(SPEC, repo_id=hub_repo_id, revision="dev", create_pr=True, message="x")

    assert _writes(hub) == []


def test_a_terminal_gets_bars_and_ci_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert isinstance(make_progress(), RichProgress)
    monkeypatch.setenv("CI", "true")
    assert isinstance(make_progress(), PlainProgress)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe or a log file
    assert isinstance(make_progress(), PlainProgress)


def test_rich_progress_draws_a_bar_that_fills_and_then_clears() -> None:
    from rich.console import Console

    screen = io.StringIO()
    progress = RichProgress()
    progress.console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    with progress.task("hashing", 2048) as advance:
        advance(1024)
        advance(1024)
    progress.note("done [not markup]")

    frames = screen.getvalue().split("\r")
    assert any(f.startswith("\x1b[2Khashing") and "0.0/2.0 KiB" in f for f in frames)
    last_bar = [f for f in frames if "hashing" in f][-1]
    assert "━" * 40 in last_bar and "2.0/2.0 KiB" in last_bar  # full when the work is done
    assert screen.getvalue().endswith("\x1b[1A\x1b[2Kdone [not markup]\n")  # bar erased


def test_plain_progress_says_what_it_did(capsys: pytest.CaptureFixture[str]) -> None:
    progress = PlainProgress(sys.stderr)
    with progress.task("hashing", 3 * 1024 * 1024) as advance:
        advance(3 * 1024 * 1024)
    with progress.task("uploading", 0):  # nothing to do: nothing said
        pass

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"publisher: hashing: 3\.0 MiB in \d+\.\d s", lines[0])


def test_an_xet_failure_says_how_to_reach_a_hub_without_xet() -> None:
    error = ConnectionError("HTTP status server error (501), domain: http://h/xet-write-token/main")

    mapped = to_hub_error(error, action="uploading files", repo_id="me/model")

    assert mapped is not None and mapped.exit_code == EXIT_HUB
    assert "HF_HUB_DISABLE_XET=1" in str(mapped)


# ---- tokens -------------------------------------------------------------------------------


def _grep_tree(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_the_token_never_appears_in_output_logs_or_files(
    hub: LocalHub,
    hub_repo_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    code, out, err = _cli(capsys, SPEC, "--repo", hub_repo_id, "--tag", "v1.0.0")
    assert code == 0
    monkeypatch.setenv("HF_TOKEN", WRONG_TOKEN)
    wrong = _cli(capsys, SPEC, "--repo", hub_repo_id)

    assert wrong[0] == EXIT_HUB
    assert "HTTP 401" in wrong[2] and "set HF_TOKEN to a token with write access to" in wrong[2]
    assert "huggingface.co/settings/tokens" in wrong[2]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for token in (DEMO_TOKEN, WRONG_TOKEN):
        assert token not in out + err + wrong[1] + wrong[2] + logs
        assert _grep_tree(hub.data_dir, token.encode()) == []
        assert _grep_tree(tmp_path / "hash-cache", token.encode()) == []


def test_no_token_at_all_says_what_to_do(
    hub: LocalHub, hub_repo_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")

    with pytest.raises(HubError, match="no Hugging Face token found") as raised:
        push(SPEC, repo_id=hub_repo_id)

    assert raised.value.exit_code == EXIT_HUB and "HF_TOKEN" in str(raised.value)
    assert _writes(hub) == []


# ---- faults: each leaves the remote unchanged, and a re-run completes -----------------------


def _rerun_sends_only(hub: LocalHub, repo_id: str, ckpt: Path, expected_puts: set[str]) -> None:
    hub.faults.clear()
    hub.requests.clear()
    result = push(SPEC, extra_files=ckpt, repo_id=repo_id)
    assert result.status == "committed"
    assert set(_puts(hub)) == expected_puts


def test_a_connection_dropped_in_an_lfs_upload_fails_cleanly_and_resumes(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    hub_api.create_repo(hub_repo_id)
    commits = _commits(hub_api, hub_repo_id)
    lost = _sha256(ckpt / SHARDS[1])
    hub.faults.add(method="PUT", path_regex=lost, action="drop", after_bytes=100_000, times=None)

    with pytest.raises(HubError) as raised:  # the client retries 5 times (23 s), then gives up
        push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert "network error while uploading files" in str(raised.value)
    assert raised.value.exit_code == EXIT_HUB
    assert _commits(hub_api, hub_repo_id) == commits and _files(hub_api, hub_repo_id) == set()
    assert hub.storage.has_object(_sha256(ckpt / SHARDS[0])) and not hub.storage.has_object(lost)
    _rerun_sends_only(hub, hub_repo_id, ckpt, {lost})


def test_a_500_on_the_commit_commits_nothing_and_a_re_run_resends_nothing(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    hub_api.create_repo(hub_repo_id)
    commits = _commits(hub_api, hub_repo_id)
    hub.faults.add(method="POST", path_regex=r"/commit/main$", status=500)

    with pytest.raises(HubError, match="HTTP 500 while committing") as raised:
        push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert "nothing was committed" in str(raised.value)
    assert _commits(hub_api, hub_repo_id) == commits
    _rerun_sends_only(hub, hub_repo_id, ckpt, set())


def test_a_429_on_the_commit_says_when_to_retry(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_api.create_repo(hub_repo_id)
    commits = _commits(hub_api, hub_repo_id)
    hub.faults.add(method="POST", path_regex=r"/commit/main$", status=429, retry_after=30)

    code, _, err = _cli(capsys, SPEC, "--repo", hub_repo_id)

    assert code == EXIT_HUB
    assert "rate-limiting requests (HTTP 429)" in err and "wait 30 s" in err
    assert _commits(hub_api, hub_repo_id) == commits


def test_a_429_with_retry_after_on_preupload_is_waited_out(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    hub_api.create_repo(hub_repo_id)
    fault = hub.faults.add(method="POST", path_regex=r"/preupload/", status=429, retry_after=0)

    result = push(SPEC, extra_files=ckpt, repo_id=hub_repo_id)

    assert fault.fired == 1 and result.status == "committed"
    assert _files(hub_api, hub_repo_id) == PUBLISHED


def test_a_stale_parent_commit_fails_without_overwriting_the_other_writer(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, ckpt: Path
) -> None:
    hub_api.create_repo(hub_repo_id)
    pusher = Pusher(SPEC, extra_files=ckpt, options=PushOptions(repo_id=hub_repo_id))
    plan = pusher.plan(pusher.gate())
    other = hub_api.upload_file(
        path_or_fileobj=b"theirs", path_in_repo="README.md", repo_id=hub_repo_id
    )  # another writer commits between our plan and our commit

    with pytest.raises(HubError, match="another commit landed after the plan") as raised:
        pusher.publish(plan)

    assert raised.value.exit_code == EXIT_HUB and "run the push again" in str(raised.value)
    assert _commits(hub_api, hub_repo_id)[0] == other.oid
    readme = hub_api.hf_hub_download(hub_repo_id, "README.md", revision=other.oid)
    assert Path(readme).read_bytes() == b"theirs"
    _rerun_sends_only(hub, hub_repo_id, ckpt, set())  # both shards were stored already
    assert _files(hub_api, hub_repo_id) == PUBLISHED


# ---- the full gate: lint, render, validate ------------------------------------------------


def test_a_spec_with_lint_errors_stops_the_push(
    hub: LocalHub, hub_repo_id: str, ckpt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = REPO_ROOT / "tests" / "specs" / "broken"

    code, out, _ = _cli(capsys, broken / "unknown_key.yaml", "--repo", hub_repo_id)
    assert code == 1 and "SPEC010" in out and "nothing was sent" in out
    code, _, _ = _cli(capsys, broken / "yaml_syntax.yaml", "--repo", hub_repo_id)
    assert code == 2
    result = push(broken / "unknown_key.yaml", extra_files=ckpt, repo_id=hub_repo_id)
    assert result.status == "blocked"
    assert hub.requests == []


@pytest.fixture
def tiny_ckpt(tmp_path: Path) -> Iterator[Path]:
    from publisher.testkit.tiny import cached_tiny_checkpoint

    cache = Path(os.environ.get("PUBLISHER_SYNTH_CACHE", REPO_ROOT / ".cache" / "synth"))
    folder = tmp_path / "tiny"
    shutil.copytree(cached_tiny_checkpoint("dense", cache), folder)
    (folder / ".complete").unlink(missing_ok=True)  # the synth cache's marker, not an export's
    (folder / ".env").write_text("HF_TOKEN=hf_nope\n")
    yield folder


def _tiny_spec(tmp_path: Path, intermediate: int) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPEC.replace("INTERMEDIATE", str(intermediate)), encoding="utf-8")
    return path


def test_full_gate_publishes_card_checkpoint_and_audit_manifest(
    hub_api: HfApi, hub_repo_id: str, tiny_ckpt: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, out, _ = _cli(capsys, _tiny_spec(tmp_path, 128), tiny_ckpt, "--repo", hub_repo_id)

    assert code == 0, out
    assert _files(hub_api, hub_repo_id) == {
        "README.md", "config.json", "generation_config.json", "model.safetensors",
        "quantization_audit.json",
    }  # fmt: skip
    audit = json.loads(
        Path(hub_api.hf_hub_download(hub_repo_id, "quantization_audit.json")).read_text()
    )
    assert audit["spec"]["file"] == "tiny.yaml"
    code, out, _ = _cli(capsys, _tiny_spec(tmp_path, 128), tiny_ckpt, "--repo", hub_repo_id)
    assert code == 0 and "up to date" in out


def test_a_checkpoint_that_fails_validation_is_not_pushed(
    hub: LocalHub, hub_repo_id: str, tiny_ckpt: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, out, _ = _cli(capsys, _tiny_spec(tmp_path, 256), tiny_ckpt, "--repo", hub_repo_id)

    assert code == 1
    assert "VAL" in out and "nothing was sent" in out
    assert hub.requests == []
