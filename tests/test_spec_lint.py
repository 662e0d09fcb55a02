"""Spec lint: the shipped specs are clean, and every broken spec gets its code, place and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.cli import main
from publisher.spec.lint import lint_path

SPECS = Path(__file__).parent / "specs"
BROKEN = SPECS / "broken"

# file, code, line, column (None: not asserted), exit code, a phrase the message must contain
CASES = [
    ("yaml_syntax.yaml", "SPEC001", 4, 1, 2, "YAML syntax error"),
    ("unknown_key.yaml", "SPEC010", 3, 3, 1, "did you mean 'hidden_size'"),
    ("wrong_type.yaml", "SPEC011", 3, 15, 1, "architecture.num_layers"),
    ("layout_parse.yaml", "SPEC020", 3, 72, 1, "expected ')'"),
    ("layout_layers.yaml", "SPEC021", 3, 3, 1, "layout describes 8 layers but num_layers is 12"),
    (
        "count_mismatch.yaml",
        "SPEC030",
        11,
        7,
        1,
        "declares 25 but the architecture gives 24 modules (8 layers × 3)",
    ),
    ("name_params.yaml", "SPEC040", 3, 16, 1, "says 2B but architecture.parameters.total is 9B"),
    ("unknown_license.yaml", "SPEC050", 3, 3, 1, "did you mean 'apache-2.0'"),
    ("extends_cycle.yaml", "SPEC003", None, None, 2, "'extends' cycle"),
    ("extends_missing.yaml", "SPEC004", 1, 1, 2, "does not exist"),
    ("duplicate_key.yaml", "SPEC002", 3, 1, 2, "duplicate key 'name' (first at line 1)"),
    ("missing_key.yaml", "SPEC012", 2, 1, 1, "missing required key 'lm_output'"),
    ("double_count.yaml", "SPEC031", 14, 7, 1, "a double count"),
    ("layout_unknown_block.yaml", "SPEC020", 3, 50, 1, "unknown block 'Sliding Window'"),
    ("ffn_kind.yaml", "SPEC022", 3, 3, 1, "feed-forward blocks"),
    ("bad_repo_id.yaml", "SPEC054", 2, 1, 1, "not a valid Hub repository id"),
    ("unknown_pipeline_tag.yaml", "SPEC051", 3, 3, 1, "did you mean 'image-text-to-text'"),
    ("unknown_component.yaml", "SPEC033", 9, 7, 1, "unknown component 'mlps'"),
    (
        "quantized_total.yaml",
        "SPEC034",
        8,
        3,
        1,
        "quantized_total is 30 but the quantized entries add up to 24",
    ),
    ("relation_without_quant.yaml", "SPEC053", 4, 3, 1, "no quantization section"),
    ("quant_without_relation.yaml", "SPEC053", 2, 1, 1, "names a base model"),
    (
        "benchmark_width.yaml",
        "SPEC060",
        8,
        13,
        1,
        "'IFEval' has 1 scores but table 'Language' has 2 columns",
    ),
    ("path_escape.yaml", "SPEC070", 2, 15, 1, "leaves the repository"),
    ("not_mapping.yaml", "SPEC007", 1, 1, 2, "YAML mapping"),
    ("precision_format.yaml", "SPEC035", 10, 7, 1, "declare format: nvfp4"),
    ("quantized_conv.yaml", "SPEC037", 10, 7, 1, "does not quantize"),
]


def test_minimal_spec_is_clean() -> None:
    loaded = lint_path(SPECS / "minimal.yaml")
    assert loaded.findings == []


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path("model_specs")).glob("*.yaml")) or ["none"]
)
def test_shipped_specs_have_no_errors(repo_root: Path, name: str) -> None:
    loaded = lint_path(repo_root / "model_specs" / name)
    assert loaded.spec is not None
    assert [f for f in loaded.findings if f.severity == "error"] == []


@pytest.mark.parametrize(("file", "code", "line", "column", "exit_code", "phrase"), CASES)
def test_broken_spec(
    file: str,
    code: str,
    line: int | None,
    column: int | None,
    exit_code: int,
    phrase: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = BROKEN / file
    loaded = lint_path(path)
    matching = [f for f in loaded.findings if f.code == code]
    assert matching, f"expected {code}, got {[(f.code, f.message) for f in loaded.findings]}"
    finding = matching[0]
    assert phrase in finding.message
    assert finding.location.file is not None and Path(finding.location.file).name in {
        file,
        "extends_cycle_parent.yaml",
    }
    if line is not None:
        assert (finding.location.line, finding.location.column) == (line, column)
    assert main(["lint", str(path)]) == exit_code
    captured = capsys.readouterr()
    assert code in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_lint_json_names_code_and_location(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["lint", "--format", "json", str(BROKEN / "unknown_key.yaml")]) == 1
    payload = json.loads(capsys.readouterr().out)
    (finding,) = payload["findings"]
    assert finding["code"] == "SPEC010"
    assert finding["location"]["line"] == 3
    assert finding["location"]["pointer"] == "architecture.hiden_size"


def test_lint_missing_path_is_unusable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", str(tmp_path / "nope.yaml")]) == 2
    assert "SPEC005" in capsys.readouterr().out


def test_family_files_are_not_linted_as_specs(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", str(repo_root / "model_specs")]) == 0
    out = capsys.readouterr().out
    assert "families" not in out


def _quantized_spec(tmp_path: Path, export_format: str) -> Path:
    """NVFP4 MLP with the attention projections in FP8 (ModelOpt MIXED_PRECISION's shape)."""
    path = tmp_path / "Tiny-2B-NVFP4.yaml"
    (tmp_path / "minimal.yaml").write_text((SPECS / "minimal.yaml").read_text(encoding="utf-8"))
    path.write_text(
        "extends: minimal.yaml\n"
        "hub:\n  base_model: [example-org/Tiny-2B-base]\n  base_model_relation: quantized\n"
        "quantization:\n  format: nvfp4\n"
        f"  export_format: {export_format}\n"
        "  producer: {tool: nvidia-modelopt, version: 0.47.0}\n"
        "  components:\n"
        "    - {component: mlp, precision: nvfp4}\n"
        "    - {component: attention_proj, precision: fp8}\n",
        encoding="utf-8",
    )
    return path


def test_a_modelopt_nvfp4_spec_may_keep_components_in_fp8(tmp_path: Path) -> None:
    codes = {f.code for f in lint_path(_quantized_spec(tmp_path, "modelopt")).findings}
    assert "SPEC035" not in codes


def test_compressed_tensors_holds_one_format(tmp_path: Path) -> None:
    findings = lint_path(_quantized_spec(tmp_path, "compressed-tensors")).findings
    (finding,) = [f for f in findings if f.code == "SPEC035"]
    assert "'attention_proj' is fp8 but the format is nvfp4" in finding.message
