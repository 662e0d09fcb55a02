"""The library API (publisher.api) gives scripts what the CLI prints: the same findings, the
same card, the same reports, as typed results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import publisher.api as pub
from publisher.cli import main
from publisher.errors import SpecError

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC = REPO_ROOT / "model_specs" / "Qwen3.5-0.8B.yaml"
GOLDEN = REPO_ROOT / "tests" / "golden" / "Qwen3.5-0.8B.md"
BROKEN = REPO_ROOT / "tests" / "specs" / "broken" / "count_mismatch.yaml"


def test_lint_returns_the_findings_the_cli_prints(capsys: pytest.CaptureFixture[str]) -> None:
    loaded = pub.lint(BROKEN)
    assert loaded.spec is not None and pub.has_errors(loaded.findings)
    assert [f.code for f in loaded.findings if f.code == "SPEC030"] == ["SPEC030"]
    assert main(["lint", str(BROKEN)]) == 1
    assert capsys.readouterr().out == pub.format_findings(loaded.findings)


def test_render_card_is_the_golden_card() -> None:
    result = pub.render_card(SPEC)
    assert not pub.has_errors(result.findings)
    assert result.text == GOLDEN.read_text(encoding="utf-8")


def test_check_card_with_the_spec_finds_nothing_in_the_generated_card(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text(GOLDEN.read_text(encoding="utf-8"), encoding="utf-8")
    assert pub.check_card(card, SPEC) == []


def test_validate_refuses_a_spec_with_lint_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="lint errors") as raised:
        pub.validate(BROKEN, tmp_path)
    assert raised.value.exit_code == 2


def test_importing_the_api_imports_nothing_heavy() -> None:
    code = (
        "import sys, publisher.api; "
        "print(sorted(m for m in ('torch', 'transformers', 'huggingface_hub', 'jinja2', "
        "'pydantic', 'safetensors') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_validate_and_audit_give_the_cli_reports(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = pub.validate(modelopt_dense_spec, modelopt_dense_dir)
    assert report.ok and report.findings == []
    assert main(["validate", str(modelopt_dense_spec), str(modelopt_dense_dir)]) == 0
    assert capsys.readouterr().out == pub.format_validation(report)
    audit = pub.audit(modelopt_dense_dir)
    assert audit.profile == "qwen3_5" and audit.detected_format == "nvfp4"
    counts = {s.component: s.counts for s in audit.components}
    assert counts["deltanet_proj"] == {"nvfp4": 144, "bf16": 96}
    manifest = pub.format_audit_manifest(audit)
    assert manifest["format"] == "nvfp4"


def test_result_types_are_importable_from_the_api_for_type_hints() -> None:
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.push_types import PushResult

    assert pub.ValidationReport is ValidationReport and pub.PushResult is PushResult
    with pytest.raises(AttributeError):
        _ = pub.NoSuchThing
