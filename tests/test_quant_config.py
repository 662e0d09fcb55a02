"""Quantization config normalisation: ModelOpt, compressed-tensors, FP8, and malformed input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from publisher.checkpoint.quant_config import (
    QCFG_CODES,
    QuantConfig,
    QuantLayer,
    from_config_json,
    from_hf_quant_config,
    load_quant_config,
    quant_config_of,
)
from publisher.checkpoint.reader import read_checkpoint
from publisher.findings import Finding, Severity
from tests.checkpoint_variants import modelopt_converter

EXCLUDE = ["lm_head", "model.visual*", "model.layers.*.mlp.gate", "mtp*"]
MODELOPT_HF = {
    "producer": {"name": "modelopt", "version": "0.47.0"},
    "quantization": {
        "quant_algo": "NVFP4",
        "kv_cache_quant_algo": None,
        "group_size": 16,
        "exclude_modules": EXCLUDE,
    },
}


def modelopt_config_json(hf_quant: dict[str, Any]) -> dict[str, Any]:
    qc = modelopt_converter().convert_hf_quant_config_format(copy.deepcopy(hf_quant))
    return {"model_type": "qwen3_moe", "quantization_config": qc}


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# ---- ModelOpt ---------------------------------------------------------------------------


def test_modelopt_hf_quant_config() -> None:
    cfg, findings = from_hf_quant_config(MODELOPT_HF)
    assert findings == []
    assert (cfg.format, cfg.producer, cfg.producer_version) == ("nvfp4", "modelopt", "0.47.0")
    assert (cfg.algo, cfg.group_size) == ("NVFP4", 16)
    assert cfg.exclude == tuple(EXCLUDE)


@pytest.mark.parametrize(
    ("module", "excluded"),
    [
        ("lm_head", True),
        ("model.visual.blocks.0.attn.qkv", True),
        ("model.visual", True),
        ("model.layers.3.mlp.gate", True),
        ("model.layers.3.mlp.gate_proj", False),
        ("model.layers.3.mlp.experts.7.down_proj", False),
        ("mtp.layers.0.mlp.up_proj", True),
        ("Lm_head", False),
        ("model.lm_head", False),
    ],
)
def test_modelopt_exclude_uses_fnmatch(module: str, excluded: bool) -> None:
    cfg, _ = from_hf_quant_config(MODELOPT_HF)
    assert cfg.is_excluded(module) is excluded


def test_modelopt_config_json_written_by_modelopt_itself() -> None:
    config = modelopt_config_json(MODELOPT_HF)
    cfg, findings = from_config_json(config)
    assert findings == []
    assert cfg is not None
    assert (cfg.format, cfg.producer, cfg.group_size) == ("nvfp4", "modelopt", 16)
    assert cfg.match_style == "fnmatch"
    assert cfg.is_excluded("model.visual.merger") and not cfg.is_excluded("model.layers.0.mlp")


def test_both_modelopt_files_agree() -> None:
    cfg, findings = load_quant_config(modelopt_config_json(MODELOPT_HF), MODELOPT_HF)
    assert findings == []
    assert cfg.source == "config.json"


def test_modelopt_files_that_disagree() -> None:
    config = modelopt_config_json(MODELOPT_HF)
    config["quantization_config"]["ignore"] = ["lm_head"]
    _, findings = load_quant_config(config, MODELOPT_HF)
    assert codes(findings) == ["QCFG006"]
    assert "model.visual*" in findings[0].message
    assert findings[0].location.file == "config.json"


def test_modelopt_fp8_and_block_algos() -> None:
    fp8 = {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "FP8"}}
    assert from_hf_quant_config(fp8)[0].format == "fp8"
    from_json, findings = from_config_json(modelopt_config_json(fp8))
    assert from_json is not None and from_json.format == "fp8"
    assert findings == []
    block = {"quantization": {"quant_algo": "fp8_pb_wo"}}
    assert from_hf_quant_config(block)[0].format == "fp8_block"


MIXED_LAYERS = {
    "model.layers.0.mlp.gate_proj": {"quant_algo": "NVFP4", "group_size": 16},
    "model.layers.0.mlp.up_proj": {"quant_algo": "NVFP4", "group_size": 16},
    "model.layers.0.self_attn.q_proj": {"quant_algo": "FP8"},
}
MIXED_HF = {
    "producer": {"name": "modelopt", "version": "0.47.0"},
    "quantization": {
        "quant_algo": "MIXED_PRECISION",
        "kv_cache_quant_algo": None,
        "quantized_layers": MIXED_LAYERS,
    },
}


def test_modelopt_mixed_precision_table() -> None:
    cfg, findings = from_hf_quant_config(MIXED_HF)
    assert findings == []
    assert (cfg.format, cfg.algo, cfg.layers_source) == ("mixed", "MIXED_PRECISION", cfg.source)
    assert cfg.layer("model.layers.0.self_attn.q_proj") == QuantLayer(
        "model.layers.0.self_attn.q_proj", "FP8", "fp8"
    )
    assert cfg.layer_counts() == {"NVFP4": 2, "FP8": 1}
    assert cfg.layer_summary() == "MIXED_PRECISION: 2 NVFP4, 1 FP8 layers listed"
    # no exclude_modules: what the table does not list is unquantized
    assert cfg.is_excluded("lm_head") and cfg.is_excluded("model.layers.0.mlp.down_proj")
    assert not cfg.is_excluded("model.layers.0.mlp.gate_proj")


def test_mixed_config_json_written_by_modelopt_itself() -> None:
    config = modelopt_config_json(MIXED_HF)
    assert config["quantization_config"]["quantized_layers"] == MIXED_LAYERS
    cfg, findings = load_quant_config(config, MIXED_HF)
    assert findings == []
    assert (cfg.format, cfg.source, cfg.layers_source) == (
        "mixed",
        "config.json",
        "hf_quant_config.json",
    )
    alone, findings = load_quant_config(config)
    assert findings == [] and alone.layers == cfg.layers and alone.layers_source == "config.json"


def test_mixed_tables_that_disagree() -> None:
    config = modelopt_config_json(MIXED_HF)
    layers = config["quantization_config"]["quantized_layers"]
    layers["model.layers.0.self_attn.q_proj"] = {"quant_algo": "NVFP4", "group_size": 16}
    del layers["model.layers.0.mlp.up_proj"]
    cfg, findings = load_quant_config(config, MIXED_HF)
    assert codes(findings) == ["QCFG006"]
    assert "1 only in hf_quant_config.json" in findings[0].message
    assert "1 with another quant_algo" in findings[0].message
    assert cfg.layers_source == "hf_quant_config.json"  # the table ModelOpt wrote first


def _mixed(layers: Any) -> dict[str, Any]:
    return {"quantization": {"quant_algo": "MIXED_PRECISION", "quantized_layers": layers}}


def test_malformed_entries_are_grouped_into_one_finding() -> None:
    layers = {f"model.layers.{i}.mlp.up_proj": {"group_size": 16} for i in range(3)}
    cfg, findings = from_hf_quant_config(_mixed(layers))
    assert codes(findings) == ["QCFG002"]
    assert findings[0].message == (
        "quantized_layers entry 'model.layers.0.mlp.up_proj' has no quant_algo (and 2 more entries)"
    )
    assert cfg.layers is not None and {x.format for x in cfg.layers} == {"other"}


def test_hf_quant_config_without_config_json_quantization() -> None:
    cfg, findings = load_quant_config({"model_type": "llama"}, MODELOPT_HF)
    assert cfg.format == "nvfp4"
    assert codes(findings) == ["QCFG009"]
    assert findings[0].severity is Severity.WARNING


# ---- compressed-tensors -----------------------------------------------------------------

CT_NVFP4 = {
    "quantization_config": {
        "quant_method": "compressed-tensors",
        "format": "nvfp4-pack-quantized",
        "quantization_status": "compressed",
        "version": "0.12.2",
        "config_groups": {
            "group_0": {
                "targets": ["Linear"],
                "weights": {
                    "num_bits": 4,
                    "type": "float",
                    "strategy": "tensor_group",
                    "group_size": 16,
                    "symmetric": True,
                    "dynamic": False,
                },
                "input_activations": {"num_bits": 4, "type": "float", "group_size": 16},
            }
        },
        "ignore": ["lm_head", "re:.*mlp.gate$", "re:model[.]visual.*", "re:visual"],
    }
}


def test_compressed_tensors_nvfp4() -> None:
    cfg, findings = load_quant_config(CT_NVFP4)
    assert findings == []
    assert (cfg.format, cfg.producer, cfg.producer_version) == (
        "nvfp4",
        "compressed-tensors",
        "0.12.2",
    )
    assert (cfg.algo, cfg.group_size, cfg.match_style) == (
        "nvfp4-pack-quantized",
        16,
        "compressed-tensors",
    )


@pytest.mark.parametrize(
    ("module", "excluded"),
    [
        ("lm_head", True),
        ("model.lm_head", False),  # plain names are exact
        ("model.layers.0.mlp.gate", True),
        ("model.layers.0.mlp.gate_proj", False),
        ("model.visual.blocks.0", True),
        ("encoder.visual.proj", False),  # `re:` uses re.match: anchored at the start
    ],
)
def test_compressed_tensors_ignore_semantics(module: str, excluded: bool) -> None:
    cfg, _ = load_quant_config(CT_NVFP4)
    assert cfg.is_excluded(module) is excluded


def _ct(groups: dict[str, Any]) -> dict[str, Any]:
    return {
        "quantization_config": {
            "quant_method": "compressed-tensors",
            "format": "float-quantized",
            "config_groups": groups,
            "ignore": ["lm_head"],
        }
    }


FP8_BLOCK_WEIGHTS = {
    "num_bits": 8,
    "type": "float",
    "strategy": "block",
    "block_structure": [128, 128],
}


def test_compressed_tensors_fp8_block_and_plain() -> None:
    block, findings = load_quant_config(_ct({"g": {"weights": FP8_BLOCK_WEIGHTS}}))
    assert findings == []
    assert (block.format, block.weight_block_size) == ("fp8_block", (128, 128))
    channel, _ = load_quant_config(
        _ct({"g": {"weights": {"num_bits": 8, "type": "float", "strategy": "channel"}}})
    )
    assert channel.format == "fp8_channel"  # per-channel scales are told apart from per-tensor
    plain, _ = load_quant_config(
        _ct({"g": {"weights": {"num_bits": 8, "type": "float", "strategy": "tensor"}}})
    )
    assert plain.format == "fp8"


def test_compressed_tensors_mixed_groups() -> None:
    nvfp4 = CT_NVFP4["quantization_config"]["config_groups"]["group_0"]  # type: ignore[index]
    groups = {"experts": nvfp4, "attn": {"weights": FP8_BLOCK_WEIGHTS}}
    cfg, findings = load_quant_config(_ct(groups))
    assert cfg.format == "mixed"
    assert findings == []


# ---- FP8 (transformers / vLLM) ----------------------------------------------------------


def test_fp8_block_wise() -> None:
    config = {
        "quantization_config": {
            "quant_method": "fp8",
            "activation_scheme": "dynamic",
            "weight_block_size": [128, 128],
            "modules_to_not_convert": ["lm_head", "model.layers.1", "mlp.gate"],
        }
    }
    cfg, findings = load_quant_config(config)
    assert findings == []
    assert (cfg.format, cfg.weight_block_size, cfg.match_style) == (
        "fp8_block",
        (128, 128),
        "transformers",
    )
    assert cfg.is_excluded("lm_head")
    assert cfg.is_excluded("model.layers.1.self_attn.q_proj")
    assert not cfg.is_excluded("model.layers.11.self_attn.q_proj")
    assert cfg.is_excluded("model.layers.4.mlp.gate")
    assert not cfg.is_excluded("model.layers.4.mlp.gate_proj")


def test_fp8_without_block_size_is_ambiguous() -> None:
    cfg, findings = load_quant_config({"quantization_config": {"quant_method": "fp8"}})
    assert cfg.format == "fp8"
    assert codes(findings) == ["QCFG008"]
    assert findings[0].severity is Severity.WARNING


def test_fp8_ignored_layers_alias() -> None:
    config = {
        "quantization_config": {
            "quant_method": "fp8",
            "weight_block_size": None,
            "ignored_layers": ["lm_head"],
        }
    }
    cfg, findings = load_quant_config(config)
    assert (cfg.format, cfg.exclude, findings) == ("fp8", ("lm_head",), [])


# ---- nothing, and malformed input --------------------------------------------------------


def test_no_quantization_at_all() -> None:
    cfg, findings = load_quant_config({"model_type": "llama"})
    assert (cfg.format, findings) == ("none", [])
    assert not cfg.is_excluded("lm_head")
    assert load_quant_config(None)[0] == QuantConfig()


MALFORMED: dict[str, tuple[Any, Any, str, str | None]] = {
    # name: (config.json, hf_quant_config.json, code, pointer)
    "quantization_config a list": (
        {"quantization_config": []},
        None,
        "QCFG001",
        "quantization_config",
    ),
    "no quant_method": (
        {"quantization_config": {"format": "x"}},
        None,
        "QCFG002",
        "quantization_config.quant_method",
    ),
    "ignore not a list": (
        {"quantization_config": {"quant_method": "compressed-tensors", "ignore": "lm_head"}},
        None,
        "QCFG003",
        "quantization_config.ignore",
    ),
    "bad regex": (
        {"quantization_config": {"quant_method": "compressed-tensors", "ignore": ["re:(a"]}},
        None,
        "QCFG004",
        "quantization_config.ignore",
    ),
    "unknown method": (
        {"quantization_config": {"quant_method": "gptq", "bits": 4}},
        None,
        "QCFG005",
        "quantization_config.quant_method",
    ),
    "hf_quant_config a list": (None, [], "QCFG001", None),
    "hf_quant_config without quantization": (
        None,
        {"producer": {"name": "modelopt"}},
        "QCFG002",
        "quantization",
    ),
    "group_size a string": (
        None,
        {"quantization": {"quant_algo": "NVFP4", "group_size": "16"}},
        "QCFG003",
        "quantization.group_size",
    ),
    "exclude_modules not strings": (
        None,
        {"quantization": {"quant_algo": "NVFP4", "exclude_modules": [1]}},
        "QCFG003",
        "quantization.exclude_modules",
    ),
    "unknown modelopt algo": (
        None,
        {"quantization": {"quant_algo": "INT3_MAGIC"}},
        "QCFG005",
        "quantization.quant_algo",
    ),
    "nvfp4 group of 32": (
        None,
        {"quantization": {"quant_algo": "NVFP4", "group_size": 32}},
        "QCFG007",
        "quantization.group_size",
    ),
    "MIXED_PRECISION without quantized_layers": (
        None,
        {"quantization": {"quant_algo": "MIXED_PRECISION"}},
        "QCFG002",
        "quantization.quantized_layers",
    ),
    "quantized_layers a list": (
        None,
        _mixed(["model.layers.0.mlp.up_proj"]),
        "QCFG003",
        "quantization.quantized_layers",
    ),
    "quantized_layers entry without quant_algo": (
        None,
        _mixed({"model.layers.0.mlp.up_proj": {"group_size": 16}}),
        "QCFG002",
        "quantization.quantized_layers.model.layers.0.mlp.up_proj",
    ),
    "quantized_layers entry a string": (
        None,
        _mixed({"model.layers.0.mlp.up_proj": "NVFP4"}),
        "QCFG003",
        "quantization.quantized_layers.model.layers.0.mlp.up_proj",
    ),
    "quantized_layers entry of an unknown algo": (
        None,
        _mixed({"model.layers.0.mlp.up_proj": {"quant_algo": "W4A16_AWQ", "group_size": 128}}),
        "QCFG005",
        "quantization.quantized_layers.model.layers.0.mlp.up_proj",
    ),
    "quantized_layers NVFP4 group of 32": (
        None,
        _mixed({"model.layers.0.mlp.up_proj": {"quant_algo": "NVFP4", "group_size": 32}}),
        "QCFG007",
        "quantization.quantized_layers.model.layers.0.mlp.up_proj",
    ),
    "quantized_layers in config.json a list": (
        {
            "quantization_config": {
                "quant_method": "modelopt",
                "quant_algo": "MIXED_PRECISION",
                "quantized_layers": [],
            }
        },
        None,
        "QCFG003",
        "quantization_config.quantized_layers",
    ),
    "weight_block_size of strings": (
        {"quantization_config": {"quant_method": "fp8", "weight_block_size": ["128"]}},
        None,
        "QCFG003",
        "quantization_config.weight_block_size",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_config_is_a_finding(case: str) -> None:
    config, hf_quant, code, pointer = MALFORMED[case]
    cfg, findings = load_quant_config(config, hf_quant)
    assert isinstance(cfg, QuantConfig)
    assert codes(findings) == [code]
    assert findings[0].location.pointer == pointer
    assert findings[0].location.file == ("config.json" if config else "hf_quant_config.json")


def test_code_table() -> None:
    assert list(QCFG_CODES) == sorted(QCFG_CODES)
    emitted = {code for *_, code, _ in MALFORMED.values()} | {"QCFG006", "QCFG008", "QCFG009"}
    assert emitted == set(QCFG_CODES)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=15,
)
keys = st.sampled_from(
    ["quant_method", "format", "config_groups", "ignore", "weight_block_size", "quant_algo",
     "weights", "group_size", "num_bits", "type", "exclude_modules", "quantization", "producer",
     "modules_to_not_convert", "block_structure", "strategy", "quantized_layers"]
)  # fmt: skip
configish = st.recursive(
    json_values
    | st.sampled_from(
        ["modelopt", "compressed-tensors", "fp8", "NVFP4", "MIXED_PRECISION", "re:(", "re:.*", "*"]
    ),
    lambda inner: st.dictionaries(keys, inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(configish, configish, st.text(max_size=20))
def test_arbitrary_configs_never_raise(config: Any, hf_quant: Any, module: str) -> None:
    cfg, findings = load_quant_config({"quantization_config": config}, hf_quant)
    assert all(isinstance(f, Finding) for f in findings)
    assert isinstance(cfg.is_excluded(module), bool)


@pytest.mark.parametrize("pattern", ["re:" + "(" * 3000 + ")" * 3000, "re:a{99999999999}", "re:("])
def test_patterns_that_break_the_regex_compiler_are_findings(pattern: str) -> None:
    config = {"quantization_config": {"quant_method": "compressed-tensors", "ignore": [pattern]}}
    cfg, findings = load_quant_config(config)
    assert codes(findings) == ["QCFG004"]
    assert cfg.is_excluded("lm_head") is False


def test_quant_config_of_a_checkpoint_names_its_files(tmp_path: Path) -> None:
    save_file({"lm_head.weight": np.zeros((2, 2), np.float16)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "hf_quant_config.json").write_text(json.dumps(MODELOPT_HF))
    inv, _ = read_checkpoint(tmp_path)
    cfg, findings = quant_config_of(inv)
    assert cfg.format == "nvfp4" and cfg.source == str(tmp_path / "hf_quant_config.json")
    assert codes(findings) == ["QCFG009"]
    assert findings[0].location.file == str(tmp_path / "config.json")
