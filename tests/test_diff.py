"""`publisher diff`: what a spec change would change on the published model page.

A card is published to the local Hub with the real huggingface_hub client; then the spec, a
family file or a template changes, and diff must show exactly those changes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from publisher.cli import main

SPEC = "Qwen3.5-2B"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
         *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def project(repo_root: Path, tmp_path: Path, hub_repo_id: str) -> Path:
    """A model repository (specs, family files, templates) in git, whose 2B spec publishes to a
    repository of its own on the local Hub."""
    root = tmp_path / "models"
    shutil.copytree(repo_root / "model_specs", root / "model_specs")
    shutil.copytree(repo_root / "templates", root / "templates")
    spec = root / "model_specs" / f"{SPEC}.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace(f"repo_id: publisher-demo/{SPEC}\n", f"repo_id: {hub_repo_id}\n"), "utf-8"
    )
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "specs")
    return root


@pytest.fixture
def published(project: Path, hub_api, hub_repo_id: str) -> Path:  # type: ignore[no-untyped-def]
    """The 2B card as rendered from the committed spec, published on the local Hub."""
    from publisher.card.pipeline import render_spec

    spec = project / "model_specs" / f"{SPEC}.yaml"
    card = render_spec(spec).text
    assert card is not None
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(
        path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=hub_repo_id
    )
    return spec


def _diff(
    capsys: pytest.CaptureFixture[str], *args: str, fmt: str = "json"
) -> tuple[int, dict | str]:
    code = main(["diff", *args, "--format", fmt])
    out = capsys.readouterr().out
    return code, json.loads(out) if fmt == "json" else out


def _changes(report: dict) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (c["where"], c["kind"], c["old"], c["new"])
        for spec in report["specs"]
        for c in spec["changes"]
    ]


def test_nothing_changed_exits_0_with_only_the_summary_line(
    published: Path, hub, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    hub.requests.clear()
    code, out = _diff(capsys, str(published), fmt="text")
    assert code == 0
    assert out == "1 card(s) compared with the Hub: no change\n"
    assert [r.method for r in hub.requests] == ["GET"]  # one request per repository


def test_a_benchmark_score_change_is_shown_exactly(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = published.read_text(encoding="utf-8")
    published.write_text(text.replace("[MMLU-Pro, 66.5,", "[MMLU-Pro, 67.0,"), "utf-8")
    code, report = _diff(capsys, str(published))
    assert code == 1
    assert _changes(report) == [
        ("Benchmarks › Language › MMLU-Pro › Thinking", "changed", "66.5", "67.0")
    ]
    diff = report["specs"][0]["diff"]
    assert "-| MMLU-Pro | 66.5 | 55.3 |\n+| MMLU-Pro | 67.0 | 55.3 |\n" in diff


def test_a_tag_change_is_a_frontmatter_change(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = published.read_text(encoding="utf-8")
    assert "  tags: [qwen3_5]\n" in text
    published.write_text(text.replace("  tags: [qwen3_5]\n", "  tags: [qwen3_5, hybrid]\n"))
    code, report = _diff(capsys, str(published))
    assert code == 1
    assert _changes(report) == [("frontmatter › tags", "added", None, "hybrid")]


def test_a_family_file_change_shows_in_every_spec_that_extends_it(
    published: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family = project / "model_specs" / "families" / "qwen3_5.yaml"
    text = family.read_text(encoding="utf-8")
    family.write_text(text.replace("  vocab_size: 248320\n", "  vocab_size: 248384\n"))
    code, report = _diff(capsys, str(published))
    assert code == 1
    assert _changes(report) == [
        ("Architecture › Vocabulary", "changed", "248,320 (padded)", "248,384 (padded)")
    ]

    # --changed-since picks exactly the specs that extend the family file, directly or not.
    specs = str(project / "model_specs")
    code, report = _diff(capsys, specs, "--changed-since", "HEAD", "--against", "HEAD")
    names = sorted(Path(s["spec"]).stem for s in report["specs"])
    assert names == [
        "Qwen3.5-0.8B", "Qwen3.5-27B-NVFP4", "Qwen3.5-2B", "Qwen3.5-2B-NVFP4",
        "Qwen3.5-35B-A3B-NVFP4",
    ]  # fmt: skip
    assert code == 1 and all(s["changed"] for s in report["specs"])


def test_changed_since_follows_template_and_spec_edits_only(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    code, report = _diff(capsys, "--changed-since", "HEAD", "--against", "HEAD")
    assert (code, report["specs"]) == (0, [])

    spec = project / "model_specs" / "Qwen3.5-0.8B.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("  - Output head tied", "  - Small.\n  - Output head tied"))
    code, report = _diff(capsys, "--changed-since", "HEAD", "--against", "HEAD")
    assert [Path(s["spec"]).name for s in report["specs"]] == ["Qwen3.5-0.8B.yaml"]
    assert code == 1

    _git(project, "commit", "-qam", "highlight")
    partial = project / "templates" / "default" / "partials" / "license.md.j2"
    partial.write_text(partial.read_text(encoding="utf-8") + "\nReviewed.\n", "utf-8")
    code, report = _diff(capsys, "--changed-since", "HEAD", "--against", "HEAD")
    every_spec = sorted((project / "model_specs").glob("*.yaml"))
    assert len(report["specs"]) == len(every_spec) and code == 1
    assert all([c["where"] for c in s["changes"]] == ["License › text"] for s in report["specs"])


def test_against_a_revision_renders_the_spec_as_it_stood(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "model_specs" / f"{SPEC}.yaml"
    assert _diff(capsys, str(spec), "--against", "HEAD")[0] == 0
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("[IFEval, 78.6,", "[IFEval, 79.0,"), "utf-8")
    code, report = _diff(capsys, str(spec), "--against", "HEAD")
    assert code == 1
    assert _changes(report) == [
        ("Benchmarks › Language › IFEval › Thinking", "changed", "78.6", "79.0")
    ]


def test_a_repository_not_on_the_hub_yet_is_a_new_card(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _diff(capsys, str(project / "model_specs" / f"{SPEC}.yaml"), fmt="text")
    assert code == 1
    assert "card: added a new card" in out and "--- /dev/null" in out


def test_markdown_for_ci_has_a_table_and_a_fenced_diff_and_escapes_the_hubs_text(
    published: Path, hub_api, hub_repo_id: str, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    hostile = "---\nlicense: mit\n---\n# Evil\x1b[31m red ``````\n| a | b |\n|---|---|\n| x | 1 |\n"
    hub_api.upload_file(path_or_fileobj=hostile.encode(), path_in_repo="README.md",
                        repo_id=hub_repo_id)  # fmt: skip
    code, out = _diff(capsys, str(published), fmt="markdown")
    assert code == 1
    assert "| frontmatter › license | mit | apache-2.0 |" in out
    assert "\x1b" not in out and "\\x1b[31m" in out
    assert "```````diff\n" in out  # longer than the six backticks inside


def test_a_spec_that_stops_linting_exits_2(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = published.read_text(encoding="utf-8")
    published.write_text(text.replace("num_layers: 24", "num_layers: 25"), "utf-8")
    code, out = _diff(capsys, str(published), fmt="text")
    assert code == 2
    assert "cannot be rendered" in out and "SPEC" in out


def test_against_something_unknown_is_a_usage_error(project: Path) -> None:
    spec = project / "model_specs" / f"{SPEC}.yaml"
    assert main(["diff", str(spec), "--against", "no-such-rev-or-file"]) == 2


def test_a_private_repository_is_read_with_the_token_and_only_then(
    project: Path,
    hub_api,  # type: ignore[no-untyped-def]
    hub,  # type: ignore[no-untyped-def]
    hub_repo_id: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from publisher.card.pipeline import render_spec
    from publisher.localhub.server import DEMO_TOKEN

    spec = project / "model_specs" / f"{SPEC}.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("  tags: [qwen3_5]\n", "  tags: [qwen3_5]\n  private: true\n"))
    card = render_spec(spec).text
    assert card is not None
    hub_api.create_repo(hub_repo_id, private=True)
    hub_api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md",
                        repo_id=hub_repo_id)  # fmt: skip

    monkeypatch.setenv("HF_TOKEN", DEMO_TOKEN)
    hub.requests.clear()
    code, out = _diff(capsys, str(spec), fmt="text")
    assert (code, out) == (0, "1 card(s) compared with the Hub: no change\n")
    assert len(hub.requests) == 1

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    monkeypatch.setenv("HF_TOKEN_PATH", str(project / "no-token"))
    code = main(["diff", str(spec)])
    err = capsys.readouterr().err
    assert code == 3
    assert "is private" in err and "HF_TOKEN" in err
