"""`render --check` and linting family files: what the pre-commit hooks run, from the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publisher.cli import main


@pytest.fixture
def project(repo_root: Path, tmp_path: Path) -> Path:
    shutil.copytree(repo_root / "model_specs", tmp_path / "model_specs")
    for spec in ("Qwen3.5-2B", "Qwen3.5-0.8B"):
        card = tmp_path / "cards" / spec / "README.md"
        card.parent.mkdir(parents=True)
        shutil.copy(repo_root / "tests" / "golden" / f"{spec}.md", card)
    return tmp_path


def test_render_check_passes_when_cards_match_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = project / "model_specs"
    before = {p: p.stat().st_mtime_ns for p in (project / "cards").rglob("README.md")}
    args = [str(specs / "Qwen3.5-2B.yaml"), str(specs / "Qwen3.5-0.8B.yaml")]
    assert main(["render", *args, "--out-dir", str(project / "cards"), "--check"]) == 0
    assert "2 card(s) match their specs" in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in (project / "cards").rglob("README.md")}


def test_render_check_fails_with_a_unified_diff_of_a_stale_card(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "model_specs" / "Qwen3.5-2B.yaml"
    spec.write_text(spec.read_text().replace("About 4 GB of weights", "About 4 GB of weights,"))
    card = project / "cards" / "Qwen3.5-2B" / "README.md"
    stale = card.read_text()
    assert main(["render", str(spec), "-o", str(card), "--check"]) == 1
    out = capsys.readouterr().out
    assert f"--- {card}\n" in out
    assert "-- About 4 GB of weights in BF16.\n+- About 4 GB of weights, in BF16.\n" in out
    assert "1 card(s) differ from their specs" in out
    assert card.read_text() == stale  # --check never writes


def test_render_check_reports_a_card_not_written_yet(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project / "model_specs" / "Qwen3.5-2B-NVFP4.yaml"
    out_dir = project / "cards"
    assert main(["render", str(spec), "--out-dir", str(out_dir), "--check"]) == 1
    assert "no card yet" in capsys.readouterr().out
    assert not (out_dir / "Qwen3.5-2B-NVFP4").exists()


def test_render_check_needs_somewhere_to_compare(project: Path) -> None:
    spec = project / "model_specs" / "Qwen3.5-2B.yaml"
    assert main(["render", str(spec), "--check"]) == 2


def test_lint_of_a_family_file_checks_every_spec_that_extends_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family = project / "model_specs" / "families" / "qwen3_5_nvfp4.yaml"
    assert main(["lint", str(family), "--format", "json"]) == 0
    import json

    checked = json.loads(capsys.readouterr().out)["specs"]
    assert sorted(Path(p).name for p in checked) == [
        "Qwen3.5-27B-NVFP4.yaml",
        "Qwen3.5-2B-NVFP4.yaml",
        "Qwen3.5-35B-A3B-NVFP4.yaml",
    ]


def test_lint_of_a_family_file_no_spec_uses_is_not_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unused = project / "model_specs" / "families" / "unused.yaml"
    unused.write_text("hub: {license: mit}\n")
    assert main(["lint", str(unused)]) == 0
    assert "no spec extends" in capsys.readouterr().out
