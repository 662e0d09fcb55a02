"""What a push may publish is decided by what a file is (an allowlist), links are judged by
their target, and token-like strings in text files stop the push (issue 11, point 1)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.hub.allowlist import ALLOWED, allowed_kind, card_images
from publisher.hub.plan import collect_publishable
from publisher.hub.secret_scan import scan_bytes
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from tests import hub_fixtures

if TYPE_CHECKING:
    from huggingface_hub import HfApi

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api
hub_repo_id = hub_fixtures.hub_repo_id

TOKEN = "hf_" + "aB3" * 12
MODEL_FILES = (
    "README.md", "config.json", "generation_config.json", "hf_quant_config.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
    "model.safetensors.index.json", "quantization_audit.json", "precision_map.svg", "model.sig",
    "LICENSE", "NOTICE",
)  # fmt: skip
NOT_MODEL_FILES = (
    ".ENV", ".envrc", ".npmrc", "ID_RSA", "id_rsa.bak", "id_dsa", "api_key.txt", "notes.txt",
    "train.py", "run.sh", "weights.bin", "model.pt", ".ssh/authorized_keys", "sub/config.json",
    "logo.png",
)  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ckpt"
    for name in (*MODEL_FILES, *NOT_MODEL_FILES, ".env", ".git/config"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"content of {name}\n")
    return root


def test_only_what_a_model_repository_holds_is_published(folder: Path) -> None:
    found = collect_publishable(folder)

    assert sorted(rel for rel, _ in found.files) == sorted(MODEL_FILES)
    skipped = {s.path for s in found.skipped}
    folders = {".ssh/", ".git/"}  # never entered
    assert skipped == set(NOT_MODEL_FILES) - {".ssh/authorized_keys"} | {".env"} | folders
    reasons = {s.path: s.reason for s in found.skipped}
    assert "--include PATTERN publishes it" in reasons["notes.txt"]
    assert "SSH private key" in reasons["ID_RSA"] and "SSH private key" in reasons["id_rsa.bak"]
    assert "environment file" in reasons[".ENV"] and "credentials" in reasons[".npmrc"]


def test_include_admits_more_and_the_collection_says_which_pattern(folder: Path) -> None:
    found = collect_publishable(folder, include=("notes.txt", "*.py", ".env", "id_rsa*"))

    published = {rel for rel, _ in found.files}
    assert {"notes.txt", "train.py"} <= published
    assert found.included == {"notes.txt": "notes.txt", "train.py": "*.py"}
    assert ".env" not in published and "id_rsa.bak" not in published  # never, whatever --include


def test_images_the_card_references_are_published(folder: Path) -> None:
    card = '# M\n\n![logo](./logo.png "Logo")\n<img src="assets/x.svg">\n![web](https://x/y.png)\n'
    (folder / "assets").mkdir()
    (folder / "assets" / "x.svg").write_text("<svg/>")
    (folder / "assets" / "unused.png").write_bytes(b"\x89PNG")

    images = card_images(card)
    found = collect_publishable(folder, images=images)

    assert images == frozenset({"logo.png", "assets/x.svg"})
    published = {rel for rel, _ in found.files}
    assert {"logo.png", "assets/x.svg"} <= published and "assets/unused.png" not in published


@pytest.mark.parametrize("target", [".env", ".git/config", "id_rsa.bak", "notes.txt"])
def test_a_link_is_judged_by_its_target(folder: Path, target: str) -> None:
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(folder / target)  # an allowed name, a secret inside
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").symlink_to("tokenizer_config.json")  # an allowed target

    found = collect_publishable(folder)

    published = {rel for rel, _ in found.files}
    assert "config.json" not in published and "tokenizer.json" in published
    reasons = {s.path: s.reason for s in found.skipped}
    assert reasons["config.json"].startswith(f"symbolic link to {target}")


def test_fifos_and_devices_are_never_opened(folder: Path) -> None:
    os.mkfifo(folder / "model-00003-of-00003.safetensors")
    (folder / "tokenizer.model").symlink_to("/dev/zero")

    with pytest.raises(Exception, match="outside the folder"):
        collect_publishable(folder)  # a link out of the folder is refused outright
    (folder / "tokenizer.model").unlink()
    found = collect_publishable(folder)

    reasons = {s.path: s.reason for s in found.skipped}
    assert reasons["model-00003-of-00003.safetensors"] == (
        "a FIFO (named pipe), not a regular file"
    )


def test_the_allowlist_is_one_table_of_kinds() -> None:
    assert allowed_kind("model-00001-of-00009.safetensors") == "safetensors weights"
    assert allowed_kind("precision_map.svg") == "picture of the audit"
    assert allowed_kind("model.sig") == "model-signing signature"
    assert allowed_kind("sub/model.safetensors") is None  # `*` stays in one folder
    assert len({row.pattern for row in ALLOWED}) == len(ALLOWED)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"HF_TOKEN={TOKEN}\n", "a Hugging Face token"),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "an AWS access key id"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "an AWS secret access key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\n", "a private key"),
        ("-----BEGIN RSA PRIVATE KEY-----\n", "a private key"),
        ("key: AIzaSyA1234567890abcdefghijklmnopqrstuv\n", "a Google API key"),
        ("token ghp_" + "a" * 36 + "\n", "a GitHub token"),
    ],
)  # fmt: skip
def test_token_like_strings_are_found_with_their_line(text: str, kind: str) -> None:
    data = ("# config\n\n" + text).encode()

    (hit,) = scan_bytes("config.json", data)

    assert (hit.path, hit.line, hit.kind) == ("config.json", 3, kind)
    assert str(hit) == f"config.json:3: looks like {kind}"


@pytest.mark.parametrize(
    "text",
    [
        '{"model_type": "qwen3_5", "hf_quant_config": "hf_quant_config.json"}',
        '{"added_tokens": [{"content": "<|im_start|>"}], "sk-learn": 1}',
        "Use `hf auth login` or set HF_TOKEN; never paste hf_xxx into files.",
    ],
)
def test_ordinary_model_files_are_not_flagged(text: str) -> None:
    assert scan_bytes("x.json", text.encode()) == []


def test_binary_and_lfs_sized_files_are_not_scanned() -> None:
    assert scan_bytes("model.safetensors", b"\0\0" + TOKEN.encode()) == []


# ---- through a real push to the local Hub ---------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
SECRET_FILES = (
    ".env", ".ENV", ".envrc", ".npmrc", "ID_RSA", "id_rsa.bak", "id_dsa", "api_key.txt",
    ".ssh/authorized_keys", ".git/config",
)  # fmt: skip


def _writes(hub: LocalHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


def _grep(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """Weights, a config, and every secret the issue found published, each holding a token."""
    import numpy as np
    from safetensors.numpy import save_file

    folder = tmp_path / "export"
    folder.mkdir()
    save_file(
        {"w": np.frombuffer(os.urandom(4096), dtype=np.uint8)}, str(folder / "model.safetensors")
    )
    (folder / "config.json").write_text('{"model_type": "qwen3_5"}\n')
    for name in SECRET_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"HF_TOKEN={TOKEN}\n")
    (folder / "notes.txt").symlink_to(".env")  # a harmless name for a secret
    (folder / "notes.md").write_text("release notes\n")
    return folder


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)


def test_a_push_publishes_only_model_files_and_no_secret_reaches_the_hub(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, export: Path, isolated: None
) -> None:
    from publisher.api import push

    result = push(SPEC, extra_files=export, repo_id=hub_repo_id)

    assert result.status == "committed", result.findings
    files = set(hub_api.list_repo_files(hub_repo_id))
    assert files == {".gitattributes", "README.md", "config.json", "model.safetensors"}
    assert _grep(hub.data_dir, TOKEN.encode()) == []
    assert result.plan is not None
    skipped = {s.path for s in result.plan.skipped}
    assert {"notes.txt", "notes.md", ".ENV", "ID_RSA", "api_key.txt", ".ssh/", ".git/"} <= skipped


def test_include_publishes_more_and_the_plan_says_so(
    hub: LocalHub, hub_repo_id: str, export: Path, isolated: None
) -> None:
    from publisher.api import push
    from publisher.hub.plan import render_plan_text

    result = push(SPEC, extra_files=export, repo_id=hub_repo_id, dry_run=True, include=("notes.*",))

    assert result.status == "dry-run" and result.plan is not None
    planned = {f.path: f.local.origin for f in result.plan.files}
    assert planned["notes.md"] == "--include notes.*"
    assert "notes.txt" not in planned  # a link to .env stays out, whatever --include says
    assert re.search(r"new\s+regular\s+\d+ B\s+notes\.md  \(admitted by --include notes\.\*\)",
                     render_plan_text(result.plan))  # fmt: skip
    assert _writes(hub) == []


def test_a_token_in_a_file_to_publish_stops_the_push_naming_file_and_line(
    hub: LocalHub, hub_repo_id: str, export: Path, isolated: None
) -> None:
    from publisher.api import push

    (export / "config.json").write_text(
        f'{{\n  "model_type": "qwen3_5",\n  "token": "{TOKEN}"\n}}\n'
    )

    for dry_run in (True, False):
        hub.requests.clear()
        result = push(SPEC, extra_files=export, repo_id=hub_repo_id, dry_run=dry_run)

        assert result.status == "blocked"
        (finding,) = result.findings
        assert finding.code == "PUSH101"
        assert (finding.location.file, finding.location.line) == (str(export / "config.json"), 3)
        assert "Hugging Face token" in finding.message and TOKEN not in finding.message
        assert _writes(hub) == []


def test_the_cli_reports_a_blocked_push_with_exit_1(
    hub: LocalHub, hub_repo_id: str, tmp_path: Path, isolated: None,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from publisher.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace(
        "summary: ", f"summary: Use token {TOKEN} to try it. ", 1))  # fmt: skip

    code = main(["push", str(spec), "--repo", hub_repo_id])

    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"^README\.md:(\d+) \[README\.md\]: PUSH101 error: README\.md: line \1 "
                     r"holds what looks like a Hugging Face token", out, re.M), out  # fmt: skip
    assert TOKEN not in out and "push stopped: nothing was sent" in out
    assert _writes(hub) == []


def test_a_token_in_the_generated_card_stops_the_push(
    hub: LocalHub, hub_repo_id: str, tmp_path: Path, isolated: None
) -> None:
    from publisher.api import push

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace(
        "summary: ", f"summary: Use token {TOKEN} to try it. ", 1))  # fmt: skip

    result = push(spec, repo_id=hub_repo_id, dry_run=True)

    assert result.status == "blocked"
    assert [(f.code, f.location.file) for f in result.findings] == [("PUSH101", "README.md")]
