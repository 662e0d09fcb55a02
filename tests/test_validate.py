"""`publisher validate` on a genuine ModelOpt NVFP4 export of a tiny Qwen3.5, and on mutations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from publisher.checkpoint.formats import TensorSpec
from publisher.checkpoint.validate import validate_checkpoint
from publisher.cli import main
from publisher.spec.loader import load_spec
from tests.checkpoint_variants import Edit, write_variant

pytestmark = pytest.mark.slow


@pytest.fixture
def spec_path(modelopt_dense_spec: Path) -> Path:
    return modelopt_dense_spec


def _codes(spec: Path, checkpoint: Path) -> list[tuple[str, str | None]]:
    loaded = load_spec(spec)
    report = validate_checkpoint(loaded, checkpoint)
    return [(f.code, f.location.pointer) for f in report.findings]


# What the tiny dense Qwen3.5 must hold, worked out from how it is built (publisher/synth/tiny.py:
# 64 layers, 16 × (3 DeltaNet + 1 attention), so 48 DeltaNet and 16 attention layers) and from
# ModelOpt 0.47's default NVFP4 recipe (in_proj_a/in_proj_b, conv1d, A_log, dt_bias, embeddings
# and lm_head stay BF16), never read from the export or from `publisher init`.
DELTANET_LAYERS, ATTENTION_LAYERS = 16 * 3, 16 * 1
EXPECTED_COMPONENTS = [
    ("attention_proj", "nvfp4", ATTENTION_LAYERS * 4, None),  # q, k, v, o
    ("deltanet_proj", "nvfp4", DELTANET_LAYERS * 3, ["in_proj_qkv", "in_proj_z", "out_proj"]),
    ("mlp", "nvfp4", (DELTANET_LAYERS + ATTENTION_LAYERS) * 3, None),  # gate, up, down
    ("deltanet_a_log", "bf16", DELTANET_LAYERS, None),
    ("deltanet_conv1d", "bf16", DELTANET_LAYERS, None),
    ("deltanet_dt_bias", "bf16", DELTANET_LAYERS, None),
    ("deltanet_proj", "bf16", DELTANET_LAYERS * 2, ["in_proj_a", "in_proj_b"]),
    ("embed_tokens", "bf16", 1, None),
    ("lm_head", "bf16", 1, None),
    # two per layer (input, post-attention), the DeltaNet gate norm, q_norm and k_norm, the final
    ("text_norms", "bf16", 64 * 2 + DELTANET_LAYERS + ATTENTION_LAYERS * 2 + 1, None),
]


def test_init_spec_states_what_the_model_was_built_with(spec_path: Path) -> None:
    import yaml

    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    arch, quant = spec["architecture"], spec["quantization"]
    assert (arch["num_layers"], arch["hidden_size"], arch["vocab_size"]) == (64, 64, 512)
    assert arch["layout"] == "16 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))"
    assert (quant["format"], quant["export_format"]) == ("nvfp4", "modelopt")
    written = [
        (c["component"], c["precision"], c["count"], c.get("modules"))
        for c in quant["components"]
        if c["component"] not in ("vision", "vision_linear", "vision_other")
    ]
    assert written == EXPECTED_COMPONENTS


def test_init_spec_lints_clean_and_validates_the_export(
    spec_path: Path, modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", str(spec_path)]) == 0
    assert main(["validate", str(spec_path), str(modelopt_dense_dir)]) == 0
    out = capsys.readouterr().out
    assert "no findings" in out
    assert "DeltaNet projections        NVFP4  144         144 NVFP4" in out


def test_spec_claiming_240_deltanet_names_exactly_in_proj_a_and_b(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """ModelOpt 0.47's default keeps in_proj_a / in_proj_b in BF16: 144 quantized, not 240."""
    text = spec_path.read_text(encoding="utf-8")
    start = text.index("  - component: deltanet_proj\n    precision: nvfp4")
    end = text.index("  - component: mlp")
    text = (
        text[:start]
        + "  - component: deltanet_proj\n    precision: nvfp4\n    count: 240\n"
        + text[end:]
    )
    start = text.index("  - component: deltanet_proj\n    precision: bf16")
    end = text.index("  - component: embed_tokens")
    claims_240 = tmp_path / "claims-240.yaml"
    claims_240.write_text(text[:start] + text[end:], encoding="utf-8")
    findings = _codes(claims_240, modelopt_dense_dir)
    assert {code for code, _ in findings} == {"VAL001"}
    named = {pointer for _, pointer in findings}
    assert len(named) == 96
    assert all(p is not None and p.rsplit(".", 1)[1] in ("in_proj_a", "in_proj_b") for p in named)


def _retype_weight(tensors: dict[str, TensorSpec]) -> None:
    """The real failure: an 'NVFP4' export that wrote F8_E4M3 weights instead of packed U8."""
    name = "model.language_model.layers.0.mlp.gate_proj.weight"
    old = tensors[name]
    tensors[name] = TensorSpec(name, "F8_E4M3", (old.shape[0], old.shape[1] * 2))


def _bad_packing(tensors: dict[str, TensorSpec]) -> None:
    name = "model.language_model.layers.0.mlp.up_proj.weight"
    old = tensors[name]
    tensors[name] = TensorSpec(name, "U8", (old.shape[0], old.shape[1] * 2))


def _drop_scale(tensors: dict[str, TensorSpec]) -> None:
    del tensors["model.language_model.layers.0.mlp.down_proj.weight_scale_2"]


def _extra_tensor(tensors: dict[str, TensorSpec]) -> None:
    tensors["model.language_model.layers.0.mlp.stray"] = TensorSpec(
        "model.language_model.layers.0.mlp.stray", "BF16", (4,)
    )


def _f32_norm(tensors: dict[str, TensorSpec]) -> None:
    name = "model.language_model.norm.weight"
    tensors[name] = TensorSpec(name, "F32", tensors[name].shape)


def _drop_module(tensors: dict[str, TensorSpec]) -> None:
    del tensors["model.language_model.layers.1.linear_attn.A_log"]


@pytest.mark.parametrize(
    ("edit", "code", "pointer"),
    [
        (_retype_weight, "VAL001", "model.language_model.layers.0.mlp.gate_proj"),
        (_bad_packing, "VAL005", "model.language_model.layers.0.mlp.up_proj.weight"),
        (_drop_scale, "VAL002", "model.language_model.layers.0.mlp.down_proj.weight_scale_2"),
        (_extra_tensor, "VAL003", "model.language_model.layers.0.mlp.stray"),
        (_f32_norm, "VAL001", "model.language_model.norm"),
        (_drop_module, "VAL006", "model.language_model.layers.1.linear_attn.A_log"),
    ],
)
def test_each_tensor_defect_is_named(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path, edit: Edit, code: str, pointer: str
) -> None:
    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", edit)
    assert _codes(spec_path, variant) == [(code, pointer)]


def test_weight_written_as_fp8_is_explained(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", _retype_weight)
    report = validate_checkpoint(load_spec(spec_path), variant)
    (finding,) = report.findings
    assert "not packed U8" in finding.message and "spec says NVFP4" in finding.message


def test_quant_config_must_exclude_bf16_modules(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def forget_conv1d(configs: dict[str, dict[str, Any]]) -> None:
        for name in ("hf_quant_config.json",):
            quant = configs[name]["quantization"]
            quant["exclude_modules"] = [m for m in quant["exclude_modules"] if m != "lm_head"]
        qc = configs["config.json"]["quantization_config"]
        key = "ignore" if "ignore" in qc else "exclude_modules"
        qc[key] = [m for m in qc[key] if m != "lm_head"]

    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", edit_configs=forget_conv1d)
    assert _codes(spec_path, variant) == [("VAL010", "lm_head")]


def test_config_json_must_agree_with_the_spec(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def more_heads(configs: dict[str, dict[str, Any]]) -> None:
        configs["config.json"]["text_config"]["num_key_value_heads"] = 4

    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", edit_configs=more_heads)
    assert _codes(spec_path, variant) == [("VAL020", "num_key_value_heads")]


def test_mtp_promised_but_absent(spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "mtp.yaml"
    spec.write_text(
        spec_path.read_text(encoding="utf-8").replace(
            "  lm_output: separate\n",
            "  lm_output: separate\n  mtp: {trained: true, shipped: true}\n",
        ),
        encoding="utf-8",
    )
    assert _codes(spec, modelopt_dense_dir) == [("VAL030", "mtp.*")]


def test_validate_json_and_markdown(
    spec_path: Path, modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(spec_path), str(modelopt_dense_dir), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and payload["detected_format"] == "modelopt_nvfp4"
    rows = {(r["component"], r["spec_precision"]): r for r in payload["components"]}
    assert rows[("deltanet_proj", "bf16")]["file_counts"] == {"bf16": 96}
    assert main(["validate", str(spec_path), str(modelopt_dense_dir), "--format", "markdown"]) == 0
    assert "### Validation passed" in capsys.readouterr().out


def test_validate_exit_codes(
    spec_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(spec_path), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "Traceback" not in err
    assert main(["validate", str(spec_path)]) == 2


def _exclude_a_quantized_module(configs: dict[str, dict[str, Any]]) -> None:
    name = "model.language_model.layers.0.mlp.gate_proj"
    configs["hf_quant_config.json"]["quantization"]["exclude_modules"].append(name)
    configs["config.json"]["quantization_config"]["ignore"].append(name)


def _group_size_32(configs: dict[str, dict[str, Any]]) -> None:
    configs["hf_quant_config.json"]["quantization"]["group_size"] = 32
    for group in configs["config.json"]["quantization_config"]["config_groups"].values():
        group["weights"]["group_size"] = 32
        group["input_activations"]["group_size"] = 32


def _drop_quant_config(configs: dict[str, dict[str, Any]]) -> None:
    del configs["hf_quant_config.json"]
    del configs["config.json"]["quantization_config"]


@pytest.mark.parametrize(
    ("edit_configs", "expected"),
    [
        (_exclude_a_quantized_module, [("VAL011", "model.language_model.layers.0.mlp.gate_proj")]),
        (
            _group_size_32,  # both configs say 32 (a warning each), the scales say 16
            [
                ("QCFG007", "quantization_config.config_groups"),
                ("QCFG007", "quantization.group_size"),
                ("VAL012", "quantization_config"),
            ],
        ),
        (_drop_quant_config, [("VAL013", "quantization_config")]),
    ],
)
def test_quant_config_contradicting_the_tensors(
    spec_path: Path,
    modelopt_dense_dir: Path,
    tmp_path: Path,
    edit_configs: Any,
    expected: list[tuple[str, str]],
) -> None:
    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", edit_configs=edit_configs)
    assert _codes(spec_path, variant) == expected


def test_undeclared_mtp_tensors_are_a_warning(
    spec_path: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def add_mtp(tensors: dict[str, TensorSpec]) -> None:
        tensors["mtp.fc.weight"] = TensorSpec("mtp.fc.weight", "BF16", (64, 128))

    variant = write_variant(modelopt_dense_dir, tmp_path / "variant", add_mtp)
    report = validate_checkpoint(load_spec(spec_path), variant)
    assert [(f.code, f.severity) for f in report.findings] == [("VAL031", "warning")]
    assert report.ok and report.mtp_tensors == 1
