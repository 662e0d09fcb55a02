"""Security (issue 7): templates and spec text cannot run code, paths cannot leave their
folders, tokens leak nowhere, and a push never uploads secrets.

- Templates: known Jinja server-side template injection payloads (through a template override
  and through spec fields) are refused by the sandbox or printed as text; nothing is evaluated.
- Paths: extra_files, card.overrides and template includes stay inside the repository; a link
  out of a template folder, a checkpoint folder or a push folder is refused; `extends` may name
  any family file but never shows another file's content; writes cannot be redirected.
- Tokens: every command runs with a known fake token in HF_TOKEN; it appears in no output, no
  written file, not in the local Hub's data and not in the hash cache.
- Secrets in a checkpoint folder (.env, *.pem, .git/, caches, credentials) are never uploaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.cli import main
from publisher.localhub.server import DEFAULT_USER, DEMO_TOKEN
from tests.checkpoint_variants import copy_export, project_with_templates, with_tester_repo

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from publisher.localhub.server import LocalHub

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_SPEC = (REPO_ROOT / "tests" / "specs" / "minimal.yaml").read_text(encoding="utf-8")
FAKE_TOKEN = "hf_SECRETleaktest1234567890"
# what an evaluated payload would print: a class, a module, a function, a file's content
EVALUATED = ("<class", "<module", "<function", "<built-in", "<bound", "__builtins__",
             "root:x:0", "uid=", "subprocess", "_io.")  # fmt: skip


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLISHER_TEMPLATES", raising=False)
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.delenv("CI", raising=False)


# ---- templates and spec text cannot run code ---------------------------------------------

SSTI_PAYLOADS = [
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__['__builtins__'] }}",
    "{{ request }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ url_for.__globals__ }}",
    "{{ card|attr('__class__') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ card['__class__'] }}",
    "{{ card.__dict__ }}",
    "{{ spec.__class__.__init__.__globals__ }}",
    "{{ tool.items.__self__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{% set s = ''.__class__.__mro__[1].__subclasses__() %}{{ s }}",
    "{{ ''.__class__.__mro__[1].__subclasses__()[40]('/etc/passwd').read() }}",
    '{{ "{0.__class__}".format(card) }}',
    '{{ "{0.__class__.__mro__}".format(card.license) }}',
    "{{ '%s'|format(card.__class__) }}",
    "{{ '{x.__class__.__mro__}'.format_map({'x': card}) }}",
    "{{ partial.__globals__['os'] }}",
    "{{ partial.__code__ }}",
    "{% import 'os' as os %}{{ os }}",
    "{% include '/etc/passwd' %}",
    "{% extends '../../../../etc/passwd' %}",
]


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_template_injection_payloads_are_refused(
    tmp_path: Path,
    payload: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = project_with_templates(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cards" / "license.md.j2").write_text(payload + "\n", encoding="utf-8")
    spec.write_text(BASE_SPEC + "card:\n  overrides: {license: cards/license.md.j2}\n")
    code, out, err = run_cli(["render", str(spec)], capsys)
    assert code in (0, 2), err  # refused (2) or printed harmlessly (0); never a crash (4)
    assert "Traceback" not in out + err and "internal error" not in err
    for sign in EVALUATED:
        assert sign not in out, (payload, sign, out[-500:])
    assert not (tmp_path / "MARKER").exists()
    if code == 2:
        assert err.startswith("publisher: error: ") and len(err.strip().splitlines()) == 1


SPEC_FIELD_PAYLOADS = {
    "summary": "{{ ''.__class__.__mro__ }} {% for x in range(3) %}x{% endfor %} {{ 7*7 }}",
    "license_note": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "name": "Tiny-2B{{7*7}}",
}


def test_spec_text_is_never_evaluated_as_a_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    text = BASE_SPEC.replace(
        "summary: A small test model.", f"summary: {json.dumps(SPEC_FIELD_PAYLOADS['summary'])}"
    )
    text += f"license_note: {json.dumps(SPEC_FIELD_PAYLOADS['license_note'])}\n"
    text += "highlights: ['{{ config }}', '{% raw %}x{% endraw %}']\n"
    spec.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["render", str(spec)], capsys)
    assert code == 0, out + err
    assert SPEC_FIELD_PAYLOADS["summary"] in out  # the text itself, as written
    assert "{{ cycler.__init__.__globals__.os.popen('id').read() }}" in out
    assert "{{ config }}" in out and "{% raw %}x{% endraw %}" in out
    assert "uid=" not in out and "49" not in out.replace("2049", "")


def test_format_strings_in_serving_commands_are_not_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Placeholders are a closed list filled by a regex, never str.format: `{0.__class__}` and
    `{repo_id.__class__}` stay text, `{repo_id}` is filled in."""
    spec = tmp_path / "spec.yaml"
    command = "vllm serve {repo_id} --x {0.__class__} --y {repo_id.__class__} --z {name!r:>9}"
    spec.write_text(
        BASE_SPEC
        + "serving:\n  engines:\n  - engine: vLLM\n    commands:\n"
        + f"    - {{title: Serve, command: {json.dumps(command)}}}\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(["render", str(spec)], capsys)
    assert code == 0, out + err
    assert (
        "vllm serve example-org/Tiny-2B --x {0.__class__} --y {repo_id.__class__} --z {name!r:>9}"
        in out
    )
    assert "<class" not in out


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch MARKER']",
        "!!python/object/new:subprocess.Popen [['touch', 'MARKER']]",
        "!!python/name:os.system",
        "!!python/module:os",
        '!!python/object/apply:builtins.exec [\'open("MARKER", "w")\']',
    ],
)
def test_yaml_tags_in_a_spec_cannot_run_code(
    tmp_path: Path,
    tagged: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_SPEC + f"license_note: {tagged}\n", encoding="utf-8")
    code, out, err = run_cli(["lint", str(spec)], capsys)
    assert code in (1, 2) and ("SPEC001" in out or "SPEC011" in out), out + err
    assert not (tmp_path / "MARKER").exists()
    assert "Traceback" not in out + err


# ---- paths stay inside their folders ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("extra_files", "[../outside.txt]"),
        ("extra_files", "[/etc/passwd]"),
        ("extra_files", "['a\\\\..\\\\b']"),
        ("extra_files", "['C:/x']"),
        ("card", "{overrides: {license: ../../x.md.j2}}"),
        ("card", "{overrides: {license: /etc/passwd}}"),
        ("card", "{overrides: {license: 'cards/../../x.md.j2'}}"),
    ],
)
def test_spec_paths_that_leave_the_repository_are_findings(
    tmp_path: Path, key: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_SPEC + f"{key}: {value}\n", encoding="utf-8")
    code, out, _ = run_cli(["render", str(spec), "-o", str(tmp_path / "README.md")], capsys)
    assert code == 1 and "SPEC070" in out and "leaves the repository" in out
    assert not (tmp_path / "README.md").exists()


@pytest.mark.parametrize("where", ["override", "partial", "folder"])
def test_a_template_that_links_out_of_the_repository_is_refused(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link to /etc/passwd (or to a folder outside) where a template is expected."""
    spec = project_with_templates(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "partial.md.j2").write_text("OUTSIDE {{ card.license }}\n")
    extra = ""
    if where == "override":
        (tmp_path / "cards" / "license.md.j2").symlink_to("/etc/passwd")
        extra = "card:\n  overrides: {license: cards/license.md.j2}\n"
    elif where == "partial":
        partial = tmp_path / "templates" / "default" / "partials" / "license.md.j2"
        partial.unlink()
        partial.symlink_to(outside / "partial.md.j2")
    else:
        (tmp_path / "cards").rmdir()
        (tmp_path / "cards").symlink_to(outside)
        extra = "card:\n  overrides: {license: cards/partial.md.j2}\n"
    spec.write_text(BASE_SPEC + extra, encoding="utf-8")
    code, out, err = run_cli(["render", str(spec), "-o", str(tmp_path / "README.md")], capsys)
    assert code == 2 and "resolves outside the template folders" in err
    assert "root:x" not in out + err and "OUTSIDE" not in out
    assert not (tmp_path / "README.md").exists()


def test_extends_never_shows_the_content_of_another_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`extends` may name a family file anywhere (tests use absolute paths), but only a YAML
    file: /etc/shadow, a private key, a .netrc or a link to one is never parsed, so never quoted
    (/etc/shadow parsed as YAML gave 'unknown key' findings naming every account and hash)."""
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n")
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine: huggingface.co\nhf_SECRETnetrc: password\n")  # YAML-shaped!
    (tmp_path / "family.yaml").symlink_to(secret)
    (tmp_path / "netrc.yaml").symlink_to(netrc)
    targets = ["/etc/passwd", "/etc/shadow", "../" * 20 + "etc/shadow", str(secret),
               "family.yaml", str(netrc), "netrc.yaml", "/proc/self/environ"]  # fmt: skip
    for target in targets:
        spec = tmp_path / "spec.yaml"
        spec.write_text(f"extends: {target}\n" + BASE_SPEC, encoding="utf-8")
        code, out, err = run_cli(["lint", str(spec)], capsys)
        assert code == 2 and "SPEC004" in out, (target, out, err)
        assert any(
            reason in out
            for reason in ("not a family file (.yaml)", "does not exist", "leaves the repository")
        ), (target, out)
        for secret_text in ("root:", "daemon", "BEGIN OPENSSH", "b3BlbnNzaC1rZXkt", "SECRETnetrc"):
            assert secret_text not in out + err, (target, out)


def _tiny_ckpt(folder: Path) -> Path:
    import struct

    folder.mkdir(parents=True)
    raw = json.dumps({"w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0\0")
    return folder


@pytest.mark.parametrize(
    "name", ["model.safetensors", "config.json", "model.safetensors.index.json"]
)
def test_a_checkpoint_file_linking_out_of_its_folder_is_not_read(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard linked to an SSH key would have its first 8 bytes printed as a header length;
    a config.json linked to ~/.docker/config.json would have its values quoted."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"SSHKEY!!" + b'{"auths": {"x": {"auth": "c2VjcmV0"}}}')
    folder = _tiny_ckpt(tmp_path / "ckpt")
    if name == "model.safetensors":
        (folder / name).unlink()
    elif (
        name == "model.safetensors.index.json"
    ):  # an index is read when there is no model.safetensors
        (folder / "model.safetensors").rename(folder / "model-00001-of-00001.safetensors")
    (folder / name).symlink_to(secret)
    code, out, err = run_cli(["audit", str(folder), "--format", "json"], capsys)
    assert code in (1, 2), out + err
    text = out + err
    leaked = str(int.from_bytes(b"SSHKEY!!", "little"))
    assert leaked not in text and "c2VjcmV0" not in text and "auths" not in text
    if code == 1:
        payload = json.loads(out)
        assert any("outside the checkpoint; not read" in f["message"] for f in payload["findings"])


def test_a_link_inside_the_checkpoint_folder_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _tiny_ckpt(tmp_path / "ckpt")
    (folder / "real.bin").write_bytes((folder / "model.safetensors").read_bytes())
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").symlink_to("real.bin")
    code, out, _ = run_cli(["audit", str(folder)], capsys)
    assert code == 0, out


@pytest.mark.parametrize("command", ["render", "write-manifest"])
def test_a_planted_temporary_file_cannot_redirect_a_write(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`.README.md.tmp` or `.quantization_audit.json.tmp` planted as a link to another file
    (say ~/.bashrc) must not make publisher overwrite that file."""
    victim = tmp_path / "bashrc"
    victim.write_text("precious\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_SPEC, encoding="utf-8")
    folder = _tiny_ckpt(tmp_path / "ckpt")
    if command == "render":
        (tmp_path / ".README.md.tmp").symlink_to(victim)
        argv = ["render", str(spec), "-o", str(tmp_path / "README.md")]
        written = tmp_path / "README.md"
    else:
        (folder / ".quantization_audit.json.tmp").symlink_to(victim)
        argv = ["audit", str(folder), "--write-manifest"]
        written = folder / "quantization_audit.json"
    code, out, err = run_cli(argv, capsys)
    assert code == 0, out + err
    assert victim.read_text() == "precious\n"
    assert written.is_file() and not written.is_symlink()
    assert written.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---- tokens ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export_spec(modelopt_dense_spec: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export's spec with a repo id under `tester/`."""
    return with_tester_repo(
        modelopt_dense_spec, tmp_path_factory.mktemp("spec") / "Tiny-NVFP4.yaml"
    )


def _grep(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            hits.append(path)
    return hits


@pytest.mark.slow
def test_the_token_appears_nowhere(
    tmp_path: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    export_spec: Path,
    modelopt_dense_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every command, with a known fake token in HF_TOKEN (accepted by the local Hub for this
    test), then a grep for it in every output, every written file, the Hub's data and the
    hash cache."""
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setitem(hub.app.tokens, FAKE_TOKEN, DEFAULT_USER)
    repo_id = hub_repo_id.rstrip("-")
    work = tmp_path / "work"
    work.mkdir()
    ckpt = copy_export(modelopt_dense_dir, work / "ckpt")
    spec = work / "spec.yaml"
    spec.write_text(export_spec.read_text())
    card = work / "README.md"
    outputs: list[str] = []

    def run(*argv: str, expect: tuple[int, ...] = (0,)) -> None:
        code, out, err = run_cli(list(argv), capsys)
        outputs.append(out + err)
        assert code in expect, (argv, out[-1500:], err[-1500:])

    run("codes")
    run("lint", str(spec))
    run("render", str(spec), "-o", str(card), "--checkpoint", str(ckpt))
    run("preview", str(spec))
    run("check-card", str(card), "--spec", str(spec))
    run("validate", str(spec), str(ckpt))
    run("audit", str(ckpt), "--write-manifest")
    run("audit", str(ckpt), "--verify", str(ckpt / "quantization_audit.json"))
    (ckpt / "quantization_audit.json").unlink()
    run("init", str(ckpt), "-o", str(work / "init.yaml"))
    run("push", str(spec), str(ckpt), "--repo", repo_id, "--dry-run", "--format", "json")
    run("push", str(spec), str(ckpt), "--repo", repo_id, "--tag", "v1.0.0")
    run("push", str(spec), str(ckpt), "--repo", repo_id)  # up to date
    run("audit", repo_id)
    run("validate", str(spec), "--repo", repo_id)
    run("push", str(spec), "--repo", repo_id, "--tag", "v2.0.0", "--create-pr", expect=(2,))
    run("push", str(spec), "--repo", repo_id, "--tag", "v1.0.0", expect=(3,))  # tag elsewhere
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN + "x")  # refused: the error must not quote it
    run("push", str(spec), "--repo", repo_id, expect=(3,))
    run("audit", repo_id, expect=(3,))

    assert hub_api.file_exists(repo_id, "model.safetensors")
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for text in [*outputs, logs]:
        assert FAKE_TOKEN not in text
    needle = FAKE_TOKEN.encode()
    assert _grep(work, needle) == []  # card, manifest, init spec, the checkpoint
    assert _grep(hub.data_dir, needle) == []
    assert _grep(tmp_path / "hash-cache", needle) == []
    assert (tmp_path / "hash-cache").is_dir()  # the cache was written, and checked


def test_hub_serve_startup_output_shows_no_token(tmp_path: Path) -> None:
    env = {**os.environ, "HF_TOKEN": FAKE_TOKEN, "PUBLISHER_HUB_TOKEN": FAKE_TOKEN + "srv"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "publisher", "hub", "serve", "--port", "0", "--data",
         str(tmp_path / "hub")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    text = "".join(lines) + out + err
    assert "Local Hub serving at http://127.0.0.1:" in text
    assert "export HF_TOKEN=<the token you gave>" in text
    assert FAKE_TOKEN not in text
    assert _grep(tmp_path / "hub", FAKE_TOKEN.encode()) == []


# ---- what a push never uploads --------------------------------------------------------------

SECRETS = {
    ".env": "HF_TOKEN=hf_x",
    ".env.production": "KEY=1",
    "deploy.pem": "-----BEGIN PRIVATE KEY-----",
    "server.key": "key",
    "store.p12": "p12",
    "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "id_ed25519": "k",
    ".netrc": "machine huggingface.co password hf_x",
    ".git-credentials": "https://u:hf_x@huggingface.co",
    ".pypirc": "[pypi]",
    "hf_token": "hf_x",
    "token.txt": "hf_x",
    "credentials.json": "{}",
    "client_secrets.json": "{}",
    ".DS_Store": "x",
    ".git/config": "[core]",
    ".git/objects/ab/cdef": "x",
    "__pycache__/x.cpython-311.pyc": "x",
    "helper.pyc": "x",
    ".cache/huggingface/x.lock": "x",
    ".ipynb_checkpoints/a.ipynb": "{}",
    ".huggingface/upload.json": "{}",
}
SKIPPED = {
    ".env", ".env.production", "deploy.pem", "server.key", "store.p12", "id_rsa", "id_ed25519",
    ".netrc", ".git-credentials", ".pypirc", "hf_token", "token.txt", "credentials.json",
    "client_secrets.json", ".DS_Store", ".git/", "__pycache__/", "helper.pyc", ".cache/",
    ".ipynb_checkpoints/", ".huggingface/",
}  # fmt: skip


@pytest.mark.slow
def test_secrets_in_the_checkpoint_folder_are_never_uploaded(
    tmp_path: Path,
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    export_spec: Path,
    modelopt_dense_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    repo_id = hub_repo_id.rstrip("-")
    ckpt = copy_export(modelopt_dense_dir, tmp_path / "ckpt")
    for name, text in SECRETS.items():
        (ckpt / name).parent.mkdir(parents=True, exist_ok=True)
        (ckpt / name).write_text(text)
    code, out, err = run_cli(
        ["push", str(export_spec), str(ckpt), "--repo", repo_id, "--dry-run", "--format", "json"],
        capsys,
    )
    assert code == 0, out + err
    plan = json.loads(out)["plan"]
    planned = {f["path"] for f in plan["files"]}
    assert planned == {
        "README.md", "quantization_audit.json", "model.safetensors", "config.json",
        "generation_config.json", "hf_quant_config.json",
    }  # fmt: skip
    assert {s["path"] for s in plan["skipped"]} == SKIPPED
    assert [r for r in hub.requests if r.method in ("POST", "PUT", "DELETE")] == []

    code, out, err = run_cli(["push", str(export_spec), str(ckpt), "--repo", repo_id], capsys)
    assert code == 0, out + err
    assert set(hub_api.list_repo_files(repo_id)) - {".gitattributes"} == planned
    assert "Never uploaded:" in out  # the plan says what it left out
    assert _grep(hub.data_dir, b"OPENSSH PRIVATE KEY") == []
    assert _grep(hub.data_dir, b"password hf_x") == []


@pytest.mark.slow
def test_a_shard_linking_out_of_the_checkpoint_is_never_uploaded(
    tmp_path: Path,
    hub: LocalHub,
    hub_repo_id: str,
    export_spec: Path,
    modelopt_dense_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    outside = copy_export(modelopt_dense_dir, tmp_path / "outside")
    ckpt = copy_export(modelopt_dense_dir, tmp_path / "ckpt")
    (ckpt / "model.safetensors").unlink()
    (ckpt / "model.safetensors").symlink_to(outside / "model.safetensors")
    started = time.perf_counter()
    for extra in (["--dry-run"], []):
        code, out, err = run_cli(
            ["push", str(export_spec), str(ckpt), "--repo", hub_repo_id.rstrip("-"), *extra],
            capsys,
        )
        assert code == 1, out + err  # the gate: the shard is not read, so it cannot validate
        assert "CKPT032" in out and "outside the checkpoint; not read" in out
        assert "nothing was sent" in out
    assert hub.requests == []  # not even a read: the gate stops before the Hub is asked
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_any_file_linking_out_of_the_checkpoint_stops_the_push(
    tmp_path: Path,
    hub: LocalHub,
    hub_repo_id: str,
    export_spec: Path,
    modelopt_dense_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A file validation never reads (notes, tokenizer) linked to /etc/passwd: the push refuses
    the folder before uploading anything."""
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    ckpt = copy_export(modelopt_dense_dir, tmp_path / "ckpt")
    (ckpt / "tokenizer.json").symlink_to("/etc/passwd")
    code, out, err = run_cli(
        ["push", str(export_spec), str(ckpt), "--repo", hub_repo_id.rstrip("-")], capsys
    )
    assert code == 2 and "tokenizer.json is a symbolic link to /etc/passwd" in err, out + err
    assert "outside the folder" in err and len(err.strip().splitlines()) == 1
    assert not [r for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]
    assert _grep(hub.data_dir, b"root:x:0:0") == []


def test_the_preview_page_does_not_run_html_from_a_spec(tmp_path: Path) -> None:
    """Spec text reaches the local preview page as text: no raw HTML, no javascript: links."""
    from publisher.card.preview import build_page

    spec = tmp_path / "spec.yaml"
    summary = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    spec.write_text(
        BASE_SPEC.replace("summary: A small test model.", f"summary: {json.dumps(summary)}")
        + 'highlights: ["<iframe src=//evil>", "[y](JaVaScRiPt:alert(4))"]\n',
        encoding="utf-8",
    )
    page, _ = build_page(spec)
    assert "<script>alert" not in page and "<img src=x" not in page and "<iframe" not in page
    assert 'href="javascript' not in page.lower() and "href='javascript" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
