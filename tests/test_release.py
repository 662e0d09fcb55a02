"""`publisher release`: the tag scheme, the GitHub Actions side, and whole releases against the
local Hub from a temporary git repository, as a tag-push job would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.checkpoint.formats import TensorSpec
from publisher.cli import main
from publisher.errors import UsageError
from publisher.findings import Finding, Location, Severity
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from publisher.release.github import (
    GitHubContext,
    Scrubber,
    annotation,
    escape_data,
    escape_property,
    format_output,
)
from publisher.release.tags import parse_tag, version_key
from tests.checkpoint_variants import write_variant

if TYPE_CHECKING:
    from huggingface_hub import HfApi

REPO_ROOT = Path(__file__).resolve().parent.parent
BROKEN = REPO_ROOT / "tests" / "specs" / "broken" / "count_mismatch.yaml"
MINIMAL = REPO_ROOT / "tests" / "specs" / "minimal.yaml"
GIT = ["git", "-c", "user.name=Release Test", "-c", "user.email=release@example.com"]
GIT += ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]
PUBLISHED = {
    "README.md",
    "config.json",
    "generation_config.json",
    "hf_quant_config.json",
    "model.safetensors",
    "quantization_audit.json",
}


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No GitHub context leaks in from the machine running the tests; the demo token."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "GIT_", "ACTIONS_", "HF_OIDC_")) or name == "CI":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PUBLISHER_CACHE_DIR", str(tmp_path / "hash-cache"))
    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)


# ---- a git repository with specs ---------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    done = subprocess.run([*GIT, "-C", str(root), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _init(root: Path) -> Path:
    root.mkdir(parents=True)
    _git(root, "init", "-q")
    (root / ".gitignore").write_text("checkpoints/\n", encoding="utf-8")
    (root / "model_specs" / "families").mkdir(parents=True)
    return root


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _commit(root: Path, message: str, tag: str | None = None) -> str:
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "--allow-empty", "-m", message)
    if tag:
        _git(root, "tag", tag)
    return _git(root, "rev-parse", "HEAD")


def _actions_env(
    monkeypatch: pytest.MonkeyPatch, root: Path, tag: str, sha: str
) -> tuple[Path, Path]:
    """A tag-push job's environment: GITHUB_* variables, output and summary files."""
    files = root.parent / f"gh-{re.sub(r'[^A-Za-z0-9]+', '-', tag)}"
    files.mkdir(exist_ok=True)
    output, summary = files / "output", files / "summary.md"
    output.touch()
    summary.touch()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF": f"refs/tags/{tag}",
        "GITHUB_REF_NAME": tag,
        "GITHUB_REF_TYPE": "tag",
        "GITHUB_SHA": sha,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(root),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(root)
    return output, summary


def _outputs(path: Path) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file: `name=value` lines and `name<<DELIM` heredocs."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            values[name] = value
            i += 1
    return values


# ---- the GitHub side ----------------------------------------------------------------------


def test_workflow_command_escaping_follows_githubs_rules() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = Finding("SPEC030", "count: 100%\nsee", Location("model_specs/a,b:c.yaml", 3, 5))
    assert annotation(finding, "model_specs/a,b:c.yaml") == (
        "::error file=model_specs/a%2Cb%3Ac.yaml,line=3,col=5,title=SPEC030::count: 100%25%0Asee"
    )
    warning = Finding(
        "VAL003", "stray", Location("model.safetensors", pointer="x.w"), Severity.WARNING
    )
    assert annotation(warning, None) == "::warning title=VAL003::model.safetensors: stray [x.w]"


def test_outputs_use_the_heredoc_form_for_multi_line_values() -> None:
    assert format_output("hub_tag", "v1.2.0") == "hub_tag=v1.2.0\n"
    text = format_output("commit_url", "https://a/1\nhttps://b/2")
    head, *body = text.splitlines()
    name, delimiter = head.split("<<")
    assert name == "commit_url" and delimiter.startswith("ghadelimiter_")
    assert body == ["https://a/1", "https://b/2", delimiter]
    with pytest.raises(UsageError):
        format_output("bad name", "x")


def test_context_and_scrubber() -> None:
    context = GitHubContext.from_env(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REF": "refs/tags/X/v1.0.0",
            "GITHUB_REF_NAME": "X/v1.0.0",
        }
    )
    assert context.actions and context.ref_tag == "X/v1.0.0"
    assert GitHubContext.from_env({"GITHUB_REF": "refs/heads/main"}).ref_tag is None
    scrub = Scrubber.from_env({"HF_TOKEN": "hf_secret_value_123"})
    assert scrub("token hf_secret_value_123 used") == "token *** used"
    assert scrub("hf_quant_config.json") == "hf_quant_config.json"


# ---- the tag scheme -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "name", "version"),
    [
        ("v1.2.0", None, "1.2.0"),
        ("refs/tags/v0.1.0-rc.1", None, "0.1.0-rc.1"),
        ("Qwen3.5-27B-NVFP4/v1.2.0", "Qwen3.5-27B-NVFP4", "1.2.0"),
        ("Tiny_2B/v10.20.30+build.5", "Tiny_2B", "10.20.30+build.5"),
    ],
)
def test_parse_tag(tag: str, name: str | None, version: str) -> None:
    parsed = parse_tag(tag)
    assert (parsed.spec_name, parsed.version, parsed.hub_tag) == (name, version, f"v{version}")


def test_versions_compare_as_semver() -> None:
    assert version_key("1.10.0") > version_key("1.9.0")
    assert version_key("1.0.0-rc.1") < version_key("1.0.0")
    assert version_key("1.0.0-rc.2") < version_key("1.0.0-rc.10")
    assert version_key("1.0.0+a") == version_key("1.0.0+b")


def _scheme_repo(root: Path) -> Path:
    _init(root)
    _write(root, "model_specs/families/fam.yaml", "hub: {license: apache-2.0}\n")
    _write(root, "model_specs/Alpha.yaml", "name: Alpha\nrepo_id: org/Alpha\n")
    _write(
        root, "model_specs/Beta.yaml", "extends: families/fam.yaml\nname: Beta\nrepo_id: org/Beta\n"
    )
    _write(root, "model_specs/Gamma.yaml", "name: Gamma\nrepo_id: org/Gamma\n")
    _commit(root, "Three specs", tag="v1.0.0")
    return root


def _plan(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, list[str], str]:
    code = main(["release", "plan", "--root", str(root), *args])
    out, err = capsys.readouterr()
    names = [entry["name"] for entry in json.loads(out)["include"]] if code == 0 else []
    return code, names, err


def test_the_first_v_tag_releases_every_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    assert main(["release", "plan", "--root", str(root), "--tag", "v1.0.0"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert matrix["include"][0] == {
        "spec": "model_specs/Alpha.yaml", "name": "Alpha", "version": "1.0.0", "repo_id": "org/Alpha",
    }  # fmt: skip
    assert [e["name"] for e in matrix["include"]] == ["Alpha", "Beta", "Gamma"]


def test_a_v_tag_releases_what_changed_since_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    _write(root, "model_specs/Alpha.yaml", "name: Alpha\nrepo_id: org/Alpha-v2\n")
    sha = _commit(root, "Alpha moves", tag="v1.1.0")
    output, summary = _actions_env(monkeypatch, root, "v1.1.0", sha)
    assert main(["release", "plan"]) == 0  # the tag from GITHUB_REF
    assert json.loads(capsys.readouterr().out) == {
        "include": [
            {
                "spec": "model_specs/Alpha.yaml",
                "name": "Alpha",
                "version": "1.1.0",
                "repo_id": "org/Alpha-v2",
            }
        ]
    }
    outputs = _outputs(output)
    assert json.loads(outputs["matrix"])["include"][0]["name"] == "Alpha"
    assert outputs["count"] == "1" and outputs["hub_tag"] == "v1.1.0"
    assert "changed since v1.0.0" in summary.read_text()

    # a family file changes: the spec that extends it is released, the others are not
    _write(root, "model_specs/families/fam.yaml", "hub: {license: mit}\n")
    _commit(root, "Family licence", tag="v1.2.0")
    assert _plan(capsys, root, "--tag", "v1.2.0")[:2] == (0, ["Beta"])
    # the previous v* tag is found by version, not by name (v1.10.0 > v1.9.0)
    _write(root, "model_specs/Gamma.yaml", "name: Gamma\nrepo_id: org/Gamma-2\n")
    _commit(root, "Gamma", tag="v1.9.0")
    _write(root, "model_specs/Alpha.yaml", "name: Alpha\nrepo_id: org/Alpha-3\n")
    _commit(root, "Alpha", tag="v1.10.0")
    _write(
        root, "model_specs/Beta.yaml", "extends: families/fam.yaml\nname: Beta\nrepo_id: org/B\n"
    )
    _commit(root, "Beta", tag="v1.11.0")
    assert _plan(capsys, root, "--tag", "v1.11.0")[:2] == (0, ["Beta"])
    assert _plan(capsys, root, "--tag", "v1.10.0")[:2] == (0, ["Alpha"])


def test_a_one_model_tag_releases_that_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    code, names, _ = _plan(capsys, root, "--tag", "Gamma/v2.0.0-rc.1")
    assert (code, names) == (0, ["Gamma"])


def test_tags_that_match_no_spec_are_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    code, _, err = _plan(capsys, root, "--tag", "Delta/v1.0.0")
    assert code == 2
    assert "tag Delta/v1.0.0 matches no spec: model_specs/Delta.yaml does not exist" in err
    assert "Alpha, Beta, Gamma" in err
    _write(root, "README.md", "docs only\n")
    _commit(root, "Docs", tag="v1.0.1")
    code, _, err = _plan(capsys, root, "--tag", "v1.0.1")
    assert code == 2
    assert "tag v1.0.1 matches no spec: nothing under model_specs/ changed since v1.0.0" in err
    code, _, err = _plan(capsys, _init(tmp_path / "empty"), "--tag", "v1.0.0")
    assert code == 2 and "holds no *.yaml spec" in err


@pytest.mark.parametrize(
    "tag",
    [
        "v1.2",
        "1.2.3",
        "release-1.2.3",
        "Alpha/1.2.3",
        "v1.2.3.4",
        "v01.2.3",
        "a/b/v1.0.0",
        "Alpha/v1.x.0",
    ],
)
def test_malformed_tags_exit_2(
    tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    code, _, err = _plan(capsys, root, "--tag", tag)
    assert code == 2 and "does not follow the release scheme" in err
    _actions_env(monkeypatch, root, tag, _git(root, "rev-parse", "HEAD"))
    assert main(["release", "--dry-run"]) == 2
    assert "does not follow the release scheme" in capsys.readouterr().err


def test_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scheme_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    assert main(["release", "--dry-run"]) == 2  # no tag anywhere
    assert "no release tag" in capsys.readouterr().err
    assert main(["release", "--spec", "model_specs/Alpha.yaml", "--tag", "Beta/v1.0.0"]) == 2
    assert "releases Beta, not Alpha" in capsys.readouterr().err
    assert main(["release", "--tag", "v1.0.0", "--checkpoint", str(root)]) == 2
    assert "--checkpoint goes with one spec; this release has 3" in capsys.readouterr().err


# ---- whole releases against the local Hub -------------------------------------------------


@pytest.fixture(scope="module")
def tiny_spec_text(modelopt_dense_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The spec `publisher init` writes for the genuine tiny ModelOpt export."""
    path = tmp_path_factory.mktemp("init") / "Tiny-NVFP4.yaml"
    assert main(["init", str(modelopt_dense_dir), "--name", "Tiny-NVFP4", "-o", str(path)]) == 0
    return path.read_text(encoding="utf-8")


def _copy_checkpoint(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix in (".json", ".safetensors"):
            shutil.copy2(path, target / path.name)
    return target


def _tiny_repo(root: Path, spec_text: str, repo_id: str, checkpoint: Path | None) -> Path:
    _init(root)
    _write(root, "model_specs/Tiny-NVFP4.yaml", spec_text.replace("your-org/Tiny-NVFP4", repo_id))
    if checkpoint is not None:
        _copy_checkpoint(checkpoint, root / "checkpoints" / "Tiny-NVFP4")
    return root


def _writes(hub: LocalHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in hub.requests if r.method in ("POST", "PUT", "DELETE")]


@pytest.mark.slow
def test_release_publishes_card_configs_and_checkpoint_in_one_tagged_commit(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, tiny_spec_text: str,
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, modelopt_dense_dir)
    sha = _commit(root, "Tiny-NVFP4", tag="v1.0.0")
    output, summary = _actions_env(monkeypatch, root, "v1.0.0", sha)

    code = main(["release"])
    out = capsys.readouterr().out
    assert code == 0, out

    commits = hub_api.list_repo_commits(hub_repo_id)
    head = commits[0].commit_id
    assert commits[0].title.startswith("Release Tiny-NVFP4 v1.0.0")
    assert (
        set(hub_api.list_repo_files(hub_repo_id, revision=head)) - {".gitattributes"} == PUBLISHED
    )
    for earlier in commits[1:]:  # at most the empty repository before it: one commit holds all
        assert set(hub_api.list_repo_files(hub_repo_id, revision=earlier.commit_id)) <= {
            ".gitattributes"
        }
    tags = {t.name: t.target_commit for t in hub_api.list_repo_refs(hub_repo_id).tags}
    assert tags == {"v1.0.0": head}

    outputs = _outputs(output)
    assert outputs["hub_tag"] == "v1.0.0" and outputs["status"] == "released"
    assert outputs["commit_url"].startswith("http") and head in outputs["commit_url"]
    text = summary.read_text(encoding="utf-8")
    assert "## publisher release `v1.0.0`" in text
    assert "| Component | Spec | Spec count | In the files | Agrees |" in text
    assert re.search(r"\| MLP projections \| NVFP4 \| 192 \| 192 NVFP4 \| yes \|", text), text
    assert "local checkpoint `checkpoints/Tiny-NVFP4`" in text
    assert outputs["commit_url"] in text and "tag `v1.0.0` (created)" in text
    assert "::error" not in out
    for written in (out, text, output.read_text(encoding="utf-8")):
        assert DEMO_TOKEN not in written

    # v1.1.0: the card changes, the weights stay; no local checkpoint now, so the weights
    # already on the Hub are validated by their headers
    shutil.rmtree(root / "checkpoints")
    spec = root / "model_specs" / "Tiny-NVFP4.yaml"
    spec.write_text(spec.read_text().replace("describe the model", "Describe the model"))
    sha = _commit(root, "Reword", tag="v1.1.0")
    output, summary = _actions_env(monkeypatch, root, "v1.1.0", sha)
    assert main(["release"]) == 0, capsys.readouterr().out
    text = summary.read_text(encoding="utf-8")
    assert f"weights on the Hub `{hub_repo_id}@main`" in text and "| Component |" in text
    head = hub_api.list_repo_commits(hub_repo_id)[0].commit_id
    tags = {t.name: t.target_commit for t in hub_api.list_repo_refs(hub_repo_id).tags}
    assert tags["v1.1.0"] == head and tags["v1.0.0"] != head
    assert set(hub_api.list_repo_files(hub_repo_id)) - {".gitattributes"} == PUBLISHED


@pytest.mark.slow
def test_a_signed_release_puts_model_sig_in_its_one_commit_and_names_the_signer(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, tiny_spec_text: str,
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Offline, with a key (keyless Sigstore signing needs GitHub's OIDC token and Sigstore's
    services: the release workflow runs `--sign --sigstore`)."""
    from tests.signing_keys import key_pair

    keys = key_pair(tmp_path)
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, modelopt_dense_dir)
    sha = _commit(root, "Tiny-NVFP4", tag="v1.0.0")
    output, summary = _actions_env(monkeypatch, root, "v1.0.0", sha)

    code = main(["release", "--sign", "--key", str(keys.private)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert _outputs(output)["signer"].startswith("public key sha256:")

    commits = hub_api.list_repo_commits(hub_repo_id)
    head = commits[0].commit_id
    files = set(hub_api.list_repo_files(hub_repo_id, revision=head)) - {".gitattributes"}
    assert files == PUBLISHED | {"model.sig"}
    for earlier in commits[1:]:
        assert set(hub_api.list_repo_files(hub_repo_id, revision=earlier.commit_id)) <= {
            ".gitattributes"
        }
    text = summary.read_text(encoding="utf-8")
    assert "| Signed by | public key sha256:" in text and "(`model.sig`, same commit)" in text
    assert main(["verify", f"{hub_repo_id}@v1.0.0", "--key", str(keys.public)]) == 0
    assert "6 file(s) match the signature" in capsys.readouterr().out


def test_a_broken_spec_is_annotated_at_its_line_and_nothing_is_pushed(
    hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _init(tmp_path / "repo")
    broken = BROKEN.read_text(encoding="utf-8")
    _write(root, "model_specs/families/minimal.yaml", MINIMAL.read_text(encoding="utf-8"))
    _write(
        root,
        "model_specs/Broken-2B.yaml",
        broken.replace("../minimal.yaml", "families/minimal.yaml"),
    )
    sha = _commit(root, "Broken", tag="Broken-2B/v0.1.0")
    output, summary = _actions_env(monkeypatch, root, "Broken-2B/v0.1.0", sha)

    assert main(["release"]) == 1
    out = capsys.readouterr().out
    lines = broken.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "count: 25" in text)
    col = lines[line - 1].index("count") + 1
    assert (
        f"::error file=model_specs/Broken-2B.yaml,line={line},col={col},title=SPEC030::"
        "mlp declares 25 but the architecture gives 24 modules (8 layers × 3) "
        "[quantization.components[0].count]"
    ) in out.splitlines()
    assert "::warning file=model_specs/Broken-2B.yaml,line=" in out  # SPEC032
    assert hub.requests == []
    assert _outputs(output)["status"] == "failed"
    assert "checks failed: nothing pushed" in summary.read_text(encoding="utf-8")


def _drop_scale(tensors: dict[str, TensorSpec]) -> None:
    del tensors["model.language_model.layers.0.mlp.down_proj.weight_scale_2"]


@pytest.mark.slow
def test_a_checkpoint_that_disagrees_is_annotated_and_nothing_is_pushed(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, tiny_spec_text: str,
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, None)
    write_variant(modelopt_dense_dir, root / "checkpoints" / "Tiny-NVFP4", _drop_scale)
    sha = _commit(root, "Tiny", tag="Tiny-NVFP4/v1.0.0")
    output, summary = _actions_env(monkeypatch, root, "Tiny-NVFP4/v1.0.0", sha)

    assert main(["release"]) == 1
    out = capsys.readouterr().out
    assert (
        "::error file=checkpoints/Tiny-NVFP4/model.safetensors,title=VAL002::"
        "model.language_model.layers.0.mlp.down_proj.weight_scale_2 (F32 []) is missing"
    ) in out
    assert _writes(hub) == []
    assert not hub_api.repo_exists(hub_repo_id)
    text = summary.read_text(encoding="utf-8")
    assert "\n#### Validation failed: Tiny-NVFP4 vs checkpoints/Tiny-NVFP4: " in text
    assert "| MLP projections | NVFP4 | 192 |" in text
    assert _outputs(output)["commit_url"] == ""


@pytest.mark.slow
def test_a_dry_run_without_weights_anywhere_says_so_and_sends_nothing(
    hub: LocalHub, hub_repo_id: str, tiny_spec_text: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, None)
    sha = _commit(root, "Tiny", tag="Tiny-NVFP4/v1.0.0")
    output, summary = _actions_env(monkeypatch, root, "Tiny-NVFP4/v1.0.0", sha)

    assert main(["release", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing was sent" in out
    assert _writes(hub) == []
    text = summary.read_text(encoding="utf-8")
    assert f"{hub_repo_id}@main does not exist yet: nothing validated" in text
    assert "**dry run**" in text
    outputs = _outputs(output)
    assert outputs["status"] == "dry-run" and outputs["commit_url"] == ""


@pytest.mark.slow
def test_a_hub_failure_exits_3_and_never_shows_the_token(
    hub: LocalHub, hub_repo_id: str, tiny_spec_text: str, modelopt_dense_dir: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    wrong = "hf_wrong_secret_token_4242"
    monkeypatch.setenv("HF_TOKEN", wrong)
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, modelopt_dense_dir)
    sha = _commit(root, "Tiny", tag="Tiny-NVFP4/v1.0.0")
    output, summary = _actions_env(monkeypatch, root, "Tiny-NVFP4/v1.0.0", sha)

    assert main(["release"]) == 3
    captured = capsys.readouterr()
    assert "::error file=model_specs/Tiny-NVFP4.yaml,title=publisher release::the Hub " in (
        captured.out
    )
    text = summary.read_text(encoding="utf-8")
    assert "the Hub failed" in text and _outputs(output)["status"] == "failed"
    for written in (captured.out, captured.err, text, output.read_text(encoding="utf-8")):
        assert wrong not in written
