"""ModelOpt MIXED_PRECISION: the per-layer `quantized_layers` table checked against the tensors.

The variant is the genuine tiny NVFP4 export with its 64 full-attention projections re-stored as
FP8 (headers written afresh; equal to a real ModelOpt 0.47 mixed export, FACTS.md section 7).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from publisher.checkpoint.formats import TensorSpec, expected_tensors
from publisher.checkpoint.validate import validate_checkpoint
from publisher.cli import main
from publisher.findings import Finding, Severity
from publisher.spec.loader import load_spec
from tests.checkpoint_variants import Table, write_mixed_variant, write_variant

pytestmark = pytest.mark.slow

GATE = "model.language_model.layers.0.mlp.gate_proj"
Q_PROJ = "model.language_model.layers.3.self_attn.q_proj"
QUANT_CONFIG_CODES = ("QCFG", "VAL010", "VAL011", "VAL012", "VAL013", "VAL014", "VAL015")


@pytest.fixture
def mixed_spec(modelopt_dense_spec: Path, tmp_path: Path) -> Path:
    """The export's own spec, with the full-attention projections declared FP8."""
    text = modelopt_dense_spec.read_text(encoding="utf-8")
    old = "  - component: attention_proj\n    precision: nvfp4\n"
    assert text.count(old) == 1
    path = tmp_path / "Tiny-Mixed.yaml"
    path.write_text(text.replace(old, old.replace("nvfp4", "fp8")), encoding="utf-8")
    return path


def _findings(spec: Path, checkpoint: Path) -> list[Finding]:
    return validate_checkpoint(load_spec(spec), checkpoint).findings


def _named(findings: list[Finding]) -> list[tuple[str, str | None]]:
    return [(f.code, f.location.pointer) for f in findings]


def _quant_config_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code.startswith(QUANT_CONFIG_CODES)]


def test_a_consistent_mixed_checkpoint_validates_clean(
    mixed_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    table = json.loads((variant / "hf_quant_config.json").read_text())["quantization"]
    assert table["quantized_layers"][Q_PROJ] == {"quant_algo": "FP8"}
    assert "exclude_modules" not in table  # as ModelOpt writes it: unlisted = unquantized
    assert _findings(mixed_spec, variant) == []


def test_an_nvfp4_only_spec_is_told_about_the_fp8_layers(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """No VAL010 for the 107 BF16 Linears: a table that does not list them excludes them."""
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    findings = _findings(modelopt_dense_spec, variant)
    (config_finding,) = _quant_config_findings(findings)
    assert config_finding.code == "VAL012"
    assert "MIXED_PRECISION: 336 NVFP4, 64 FP8 layers listed" in config_finding.message
    assert {f.code for f in findings} == {"VAL001", "VAL012"}  # VAL001: the 64 FP8 modules


def _list_gate_as_fp8(table: Table) -> None:
    table[GATE] = {"quant_algo": "FP8"}


def _forget_gate(table: Table) -> None:
    del table[GATE]


def _list_a_typo(table: Table) -> None:
    table[f"{GATE}x"] = {"quant_algo": "NVFP4", "group_size": 16}


@pytest.mark.parametrize(
    ("edit_table", "code", "pointer", "phrase"),
    [
        (
            _list_gate_as_fp8,
            "VAL014",
            GATE,
            f"hf_quant_config.json lists {GATE} as FP8 but its tensors are NVFP4",
        ),
        (_forget_gate, "VAL011", GATE, "hf_quant_config.json does not list it"),
        (_list_a_typo, "VAL015", f"{GATE}x", "the checkpoint has no such module"),
    ],
)
def test_a_table_that_disagrees_with_the_tensors_is_named(
    mixed_spec: Path,
    modelopt_dense_dir: Path,
    tmp_path: Path,
    edit_table: Callable[[Table], None],
    code: str,
    pointer: str,
    phrase: str,
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed", edit_table)
    findings = _findings(mixed_spec, variant)
    assert _named(findings) == [(code, pointer)]
    assert phrase in findings[0].message
    assert findings[0].location.file == str(variant / "hf_quant_config.json")


def test_a_table_entry_for_a_bf16_module_says_to_remove_it(
    mixed_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    lm_head = "lm_head"

    def list_lm_head(table: Table) -> None:
        table[lm_head] = {"quant_algo": "NVFP4", "group_size": 16}

    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed", list_lm_head)
    (finding,) = _findings(mixed_spec, variant)
    assert (finding.code, finding.location.pointer) == ("VAL014", lm_head)
    assert "its tensors are BF16: remove the entry" in finding.message


def test_a_listed_module_outside_the_spec_is_read_from_the_headers(
    mixed_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """A listed mtp.* Linear is no module of the spec, yet it exists: no VAL015 for it."""

    def add_mtp_fc(tensors: dict[str, TensorSpec]) -> None:
        for spec in expected_tensors("mtp.fc", "linear", (64, 128), False, "modelopt_nvfp4"):
            tensors[spec.name] = spec

    def list_mtp_fc(table: Table) -> None:
        table["mtp.fc"] = {"quant_algo": "NVFP4", "group_size": 16}

    variant = write_mixed_variant(
        modelopt_dense_dir, tmp_path / "mixed", list_mtp_fc, edit=add_mtp_fc
    )
    findings = _findings(mixed_spec, variant)
    assert [(f.code, f.severity) for f in findings] == [("VAL031", Severity.WARNING)]


def test_mixed_precision_without_a_table_is_said_once_per_file(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """No table: QCFG002 in each file, and no VAL010 for every BF16 Linear it cannot list."""

    def mixed_without_table(configs: dict[str, dict[str, object]]) -> None:
        for quant in (configs["hf_quant_config.json"]["quantization"],
                      configs["config.json"]["quantization_config"]):  # fmt: skip
            assert isinstance(quant, dict)
            quant["quant_algo"] = "MIXED_PRECISION"
            quant.pop("exclude_modules", None)
            quant["ignore"] = []

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", edit_configs=mixed_without_table)
    findings = _quant_config_findings(_findings(modelopt_dense_spec, variant))
    assert sorted((f.code, f.location.file) for f in findings) == [
        ("QCFG002", "config.json"),
        ("QCFG002", "hf_quant_config.json"),
        ("VAL012", str(variant / "config.json")),
    ]


def test_audit_counts_the_table(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    assert main(["audit", str(variant)]) == 0
    out = capsys.readouterr().out
    assert "quant config: mixed, producer modelopt 0.47.0" in out
    assert (
        "Quantization config: MIXED_PRECISION: 336 NVFP4, 64 FP8 layers listed"
        " (hf_quant_config.json)\n" in out
    )
    assert out.rstrip().endswith("no findings")
    assert main(["audit", str(variant), "--format", "json"]) == 0
    quant = json.loads(capsys.readouterr().out)["audit"]["quant_config"]
    assert (quant["format"], quant["quantized_layers"]) == ("mixed", {"NVFP4": 336, "FP8": 64})


def test_audit_shows_where_the_table_and_the_tensors_disagree(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed", _list_gate_as_fp8)
    assert main(["audit", str(variant)]) == 1
    out = capsys.readouterr().out
    assert "MIXED_PRECISION: 335 NVFP4, 65 FP8 layers listed" in out
    lines = [line for line in out.splitlines() if "VAL0" in line]
    assert len(lines) == 1
    assert "VAL014" in lines[0] and f"lists {GATE} as FP8 but its tensors are NVFP4" in lines[0]


def test_the_command_line_validates_a_mixed_export_against_a_mixed_spec(
    mixed_spec: Path, modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lint accepts FP8 components in a ModelOpt NVFP4 spec, so validate runs and finds nothing."""
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    assert main(["validate", str(mixed_spec), str(variant)]) == 0
    assert "SPEC035" not in capsys.readouterr().out


def test_init_on_a_mixed_export_writes_a_spec_that_lints_and_validates(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = write_mixed_variant(modelopt_dense_dir, tmp_path / "mixed")
    spec = tmp_path / "Tiny-Mixed.yaml"
    assert main(["init", str(variant), "--name", "Tiny-Mixed", "-o", str(spec)]) == 0
    assert "precision: fp8" in spec.read_text(encoding="utf-8")
    assert main(["lint", str(spec)]) == 0
    assert main(["validate", str(spec), str(variant)]) == 0, capsys.readouterr().out


def test_the_card_of_a_mixed_spec_names_both_formats(
    mixed_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    assert main(["render", str(mixed_spec), "-o", str(readme)]) == 0
    card = readme.read_text(encoding="utf-8")
    assert "| Format | NVFP4, with FP8 where the table below says |" in card
    assert "### Quantized to NVFP4 and FP8 (" in card
    fp8_part = card.split("In the layers quantized to FP8 instead:", 1)[1]
    assert "`X.weight` — F8_E4M3, shape [out, in]." in fp8_part  # from the format table
    assert "`X.weight_scale` — F32 scalar" in fp8_part
    fp8_rows = [line for line in card.splitlines() if line.startswith("|") and "| FP8" in line]
    assert fp8_rows, card
    assert main(["check-card", str(readme), "--spec", str(mixed_spec)]) == 0  # no false alarm
