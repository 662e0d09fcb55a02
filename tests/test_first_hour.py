"""A new user's first hour and an attacker's inputs, round 2 (issue 11): every command answers
with the right exit code and one clear line, names what a file really is, and checks names
read from files before they reach the file system."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.cli import main
from publisher.codes import all_codes

REPO_ROOT = Path(__file__).resolve().parent.parent
MINIMAL = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
BASE_SPEC = MINIMAL.read_text(encoding="utf-8")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse refuses the command line
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _shard(path: Path, tensors: dict[str, tuple[str, list[int], list[int]]]) -> None:
    header = {
        name: {"dtype": dtype, "shape": shape, "data_offsets": offsets}
        for name, (dtype, shape, offsets) in tensors.items()
    }
    raw = json.dumps(header).encode()
    size = max((o[1] for _, _, o in tensors.values() if o[1] < 1 << 20), default=0)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * size)


@pytest.fixture(autouse=True)
def _quiet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PUBLISHER_DEBUG", raising=False)


# ---- 6. names read from files ---------------------------------------------------------------


def test_an_index_naming_a_shard_with_a_nul_byte_is_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    _shard(ckpt / "model-00001-of-00002.safetensors", {"a": ("U8", [2], [0, 2])})
    weight_map = {"a": "model-00001-of-00002.safetensors", "b": "x\0.safetensors"}
    (ckpt / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))

    code, out, err = _run(capsys, "audit", ckpt)

    assert code == 1, out + err
    assert "internal error" not in err and "embedded null byte" not in out + err
    (line,) = [line for line in out.splitlines() if "CKPT032" in line]
    assert "'x\\x00.safetensors' is not a plain relative path" in line


# ---- 7. a missing folder that looks like owner/name -----------------------------------------


def test_a_missing_folder_beside_its_parent_is_never_sent_to_the_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exports").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing may be asked

    code, out, err = _run(capsys, "audit", "exports/ckpt")

    assert code == 2, out + err
    assert "exports/ckpt: checkpoint directory does not exist" in err
    assert "Hub" not in err


def test_a_missing_folder_that_could_be_a_repo_says_both_when_the_hub_fails(
    tmp_path: Path, unused_port: int
) -> None:
    env = dict(os.environ, HF_ENDPOINT=f"http://127.0.0.1:{unused_port}", HF_HUB_OFFLINE="0")
    env.pop("HF_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "publisher", "audit", "exports/ckpt"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 3, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "publisher: error: no folder exports/ckpt here, and the Hub repository exports/ckpt "
        "could not be read: network error while reading exports/ckpt: "
    )
    # 17. the endpoint tried, and what to check
    assert f"cannot connect to the Hub at http://127.0.0.1:{unused_port}" in line
    assert f"HF_ENDPOINT is http://127.0.0.1:{unused_port}" in line and "network" in line
    assert "Traceback" not in done.stderr


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


# ---- 8. FIFOs, devices, directories, dangling links ------------------------------------------


def _good_ckpt(folder: Path) -> Path:
    folder.mkdir()
    _shard(folder / "model.safetensors", {"w": ("BF16", [2, 2], [0, 8])})
    return folder


@pytest.mark.parametrize("config", ["config.json", "hf_quant_config.json"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "dangling"])
def test_a_config_that_is_not_a_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, kind: str
) -> None:
    ckpt = _good_ckpt(tmp_path / "ckpt")
    path = ckpt / config
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(ckpt / "gone.json")

    code, out, err = _run(capsys, "audit", ckpt)

    assert code == 1, out + err
    (line,) = [line for line in out.splitlines() if "CKPT040" in line]
    expected = {
        "fifo": "is a FIFO (named pipe), not a file; not read",
        "dev-zero": "is a link to /dev/zero, outside the checkpoint; not read",
        "folder": "is a directory, not a file; not read",
        "dangling": "is a dangling symbolic link, not a file; not read",
    }[kind]
    assert f"{config}: CKPT040 error: {expected}" in line


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fifo", "shard is a FIFO (named pipe), not a file; not read"),
        ("folder", "shard is a directory, not a file; not read"),
        ("dangling", "shard is a dangling symbolic link, not a file; not read"),
    ],
)
def test_a_model_safetensors_that_is_not_a_file_is_named_not_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, expected: str
) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    path = ckpt / "model.safetensors"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(ckpt / "gone.safetensors")

    code, out, err = _run(capsys, "audit", ckpt)

    assert code == 1, out + err
    assert "does not exist" not in out + err and "no model.safetensors" not in out + err
    (line,) = [line for line in out.splitlines() if "CKPT039" in line]
    assert line.endswith(expected)


# ---- 12. preview -----------------------------------------------------------------------------


def test_preview_on_a_busy_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        code, out, err = _run(capsys, "preview", MINIMAL, "--serve", "--port", str(port))

    assert code == 2, out + err
    assert err == (
        f"publisher: error: port {port} on 127.0.0.1 is already in use "
        "(pass --port N for another port, or --port 0 to pick a free one)\n"
    )


@pytest.mark.parametrize("serve", [False, True])
def test_preview_of_a_missing_spec_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], serve: bool
) -> None:
    argv = ["preview", str(tmp_path / "nope.yaml")] + (["--serve", "--port", "0"] if serve else [])

    code, out, err = _run(capsys, *argv)

    assert code == 2, out + err
    assert "nope.yaml: not found" in err


# ---- 13. a closed pipe keeps the exit code ---------------------------------------------------


def test_a_blocked_push_piped_into_head_still_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: Tiny-2B\nrepo_id: example-org/Tiny-2B\nsummary: x\n")
    env = dict(os.environ, PUBLISHER_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "publisher", "push", str(spec)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written, as `| head -0`
    err = proc.stderr.read().decode()

    assert proc.wait(timeout=120) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err


# ---- 14. --tag syntax ------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["1.0", "v1.0", "release", "v1.0.0.0"])
def test_push_refuses_a_tag_that_is_not_a_version(
    capsys: pytest.CaptureFixture[str], tag: str
) -> None:
    code, _out, err = _run(capsys, "push", MINIMAL, "--tag", tag, "--dry-run")

    assert code == 2
    assert "usage: publisher push" in err
    assert f"{tag!r} is not a version tag: write v<major>.<minor>.<patch>, e.g. v1.0.0" in err


# ---- 15. demo ----------------------------------------------------------------------------------


def test_the_demo_finds_its_specs_from_any_folder(tmp_path: Path) -> None:
    from publisher.demo import specs_root

    root = specs_root(tmp_path)

    assert root != tmp_path
    assert (root / "model_specs" / "Qwen3.5-27B-NVFP4.yaml").is_file()
    assert specs_root(REPO_ROOT) == REPO_ROOT  # a publisher repository's own specs first


# ---- 16. init -o elsewhere ---------------------------------------------------------------------


def test_init_writes_a_schema_reference_that_resolves_from_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt = _good_ckpt(tmp_path / "ckpt")
    (ckpt / "config.json").write_text(json.dumps({"model_type": "qwen3", "hidden_size": 2}))
    project = tmp_path / "project"
    (project / "schema").mkdir(parents=True)
    (project / "schema" / "model-spec.schema.json").write_text("{}")
    deep = project / "other" / "dir" / "x.yaml"
    lonely = tmp_path / "lonely" / "x.yaml"

    for target in (deep, lonely):
        code, out, err = _run(capsys, "init", ckpt, "-o", target)
        assert code == 0, out + err

    ref = deep.read_text().splitlines()[0].split("$schema=", 1)[1]
    assert ref == "../../schema/model-spec.schema.json"
    assert (deep.parent / ref).resolve() == (project / "schema" / "model-spec.schema.json")
    from publisher.spec.schema import SCHEMA_ID

    assert lonely.read_text().splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_ID}"


# ---- 18. a flood of findings is summarised ----------------------------------------------------


def _flood_spec(tmp_path: Path) -> Path:
    rows = "".join(f"          - [task{i}, 1, 2, 3]\n" for i in range(40))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        BASE_SPEC + "benchmarks:\n  - title: Scores\n    columns:\n      - {label: Base}\n"
        "    sections:\n      - rows:\n" + rows
    )
    return spec


def test_a_blocked_push_summarises_many_findings_by_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _flood_spec(tmp_path)

    code, out, _ = _run(capsys, "push", spec, "--dry-run")

    assert code == 1, out
    lines = out.splitlines()
    assert lines[0] == "SPEC060 error: 40 finding(s)"
    assert len([line for line in lines if "SPEC060 error:" in line or "task" in line]) == 4
    assert "  … and 37 more" in lines
    assert lines[-1] == (
        "push stopped: nothing was sent (--verbose lists every finding; so does --format json)"
    )
    assert len(lines) < 12

    code, out, _ = _run(capsys, "push", spec, "--dry-run", "--verbose")
    assert code == 1
    assert len([line for line in out.splitlines() if "SPEC060 error" in line]) == 40


# ---- 19. smaller points ------------------------------------------------------------------------


def test_every_warning_code_is_documented_with_the_exit_it_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CKPT037 alone: a warning, exit 0, and the table says 0."""
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    shards = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    _shard(ckpt / shards[0], {"a": ("U8", [2], [0, 2])})
    _shard(ckpt / shards[1], {"b": ("U8", [2], [0, 2])})
    index = {"metadata": {"total_size": "4"}, "weight_map": {"a": shards[0], "b": shards[1]}}
    (ckpt / "model.safetensors.index.json").write_text(json.dumps(index))
    (ckpt / "config.json").write_text("{}")

    code, out, _ = _run(capsys, "audit", ckpt)

    assert "CKPT037 warning" in out
    documented = {row.code: row.exit_code for row in all_codes()}
    assert documented["CKPT037"] == code == 0


def test_offsets_beyond_any_file_are_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    _shard(ckpt / "model.safetensors", {"w": ("U8", [4], [10**30, 10**30 + 4])})

    code, out, _ = _run(capsys, "audit", ckpt)

    assert code == 1
    (line,) = [line for line in out.splitlines() if "CKPT012" in line]
    assert "lie beyond 2^64 - 1 bytes" in line and "non-negative" not in line


def test_an_unknown_option_shows_the_command_usage_and_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _out, err = _run(capsys, "render", MINIMAL, "--ouput", "x.md")

    assert code == 2
    assert err.startswith("usage: publisher render ")
    assert "unrecognized arguments: --ouput x.md (did you mean --output?)" in err


def test_a_mistyped_component_gets_a_did_you_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "Tiny-2B-NVFP4.yaml"
    spec.write_text(
        BASE_SPEC
        + "quantization:\n  format: nvfp4\n  export_format: modelopt\n"
        + "  producer: {tool: nvidia-modelopt, version: 0.47.0}\n"
        + "  components:\n    - {component: mlps, precision: nvfp4}\n"
    )

    code, out, _ = _run(capsys, "lint", spec)

    assert code == 1
    (line,) = [line for line in out.splitlines() if "SPEC033" in line]
    assert "unknown component 'mlps'" in line and "did you mean 'mlp'?" in line
