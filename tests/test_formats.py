"""The per-format tensor rules (publisher.checkpoint.formats): pure, no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from publisher.checkpoint import formats as F
from publisher.checkpoint.formats import FormatError, TensorSpec
from publisher.testkit import producer_configs as P

MOD = "model.language_model.layers.0.mlp.down_proj"


def test_bf16_linear_keeps_weight_and_bias() -> None:
    assert F.expected_tensors(MOD, "linear", (64, 128), True, "bf16") == [
        TensorSpec(f"{MOD}.weight", "BF16", (64, 128)),
        TensorSpec(f"{MOD}.bias", "BF16", (64,)),
    ]


def test_modelopt_nvfp4_linear() -> None:
    assert F.expected_tensors(MOD, "linear", (64, 128), False, "modelopt_nvfp4") == [
        TensorSpec(f"{MOD}.weight", "U8", (64, 64)),
        TensorSpec(f"{MOD}.weight_scale", "F8_E4M3", (64, 8)),
        TensorSpec(f"{MOD}.weight_scale_2", "F32", ()),
        TensorSpec(f"{MOD}.input_scale", "F32", ()),
    ]


def test_compressed_tensors_nvfp4_linear_has_no_plain_weight() -> None:
    specs = F.expected_tensors(MOD, "linear", (64, 128), True, "ct_nvfp4")
    assert specs == [
        TensorSpec(f"{MOD}.weight_packed", "U8", (64, 64)),
        TensorSpec(f"{MOD}.weight_scale", "F8_E4M3", (64, 8)),
        TensorSpec(f"{MOD}.weight_global_scale", "F32", (1,)),
        TensorSpec(f"{MOD}.input_global_scale", "F32", (1,)),
        TensorSpec(f"{MOD}.bias", "BF16", (64,)),
    ]
    assert f"{MOD}.weight" not in {s.name for s in specs}


def test_fp8_per_tensor_modelopt_and_compressed_tensors() -> None:
    assert F.expected_tensors(MOD, "linear", (64, 128), False, "fp8") == [
        TensorSpec(f"{MOD}.weight", "F8_E4M3", (64, 128)),
        TensorSpec(f"{MOD}.weight_scale", "F32", ()),
        TensorSpec(f"{MOD}.input_scale", "F32", ()),
    ]
    assert F.expected_tensors(MOD, "linear", (64, 128), False, "ct_fp8")[1:] == [
        TensorSpec(f"{MOD}.weight_scale", "BF16", (1,)),
        TensorSpec(f"{MOD}.input_scale", "BF16", (1,)),
    ]


def test_fp8_block_scales_round_up() -> None:
    assert F.expected_tensors(MOD, "linear", (300, 200), False, "fp8_block") == [
        TensorSpec(f"{MOD}.weight", "F8_E4M3", (300, 200)),
        TensorSpec(f"{MOD}.weight_scale_inv", "F32", (3, 2)),
    ]


@pytest.mark.parametrize("fmt", ["modelopt_nvfp4", "ct_nvfp4"])
def test_nvfp4_needs_in_features_divisible_by_16(fmt: str) -> None:
    with pytest.raises(FormatError, match="multiple of the group size 16"):
        F.expected_tensors(MOD, "linear", (64, 136), False, fmt)
    F.check_quantizable((64, 144), fmt)


@pytest.mark.parametrize("fmt", sorted(F.FORMATS))
@pytest.mark.parametrize(
    ("kind", "shape", "bias"),
    [("embedding", (512, 64), False), ("conv", (128, 1, 4), False), ("norm", (64,), True)],
)
def test_non_linear_kinds_are_never_quantized(
    fmt: str, kind: str, shape: tuple[int, ...], bias: bool
) -> None:
    specs = F.expected_tensors("m", kind, shape, bias, fmt)
    assert specs[0] == TensorSpec("m.weight", "BF16", shape)
    assert all(s.dtype == "BF16" for s in specs)


def test_param_kind_is_the_tensor_itself() -> None:
    name = "model.language_model.layers.0.linear_attn.A_log"
    assert F.expected_tensors(name, "param", (48,), False, "ct_nvfp4") == [
        TensorSpec(name, "BF16", (48,))
    ]


def test_unknown_format_and_kind() -> None:
    with pytest.raises(FormatError, match="unknown format"):
        F.expected_tensors(MOD, "linear", (64, 64), False, "int4")
    with pytest.raises(FormatError, match="unknown module kind"):
        F.expected_tensors(MOD, "lstm", (64, 64), False, "bf16")


@pytest.mark.parametrize("fmt", ["modelopt_nvfp4", "ct_nvfp4", "fp8_block", "bf16"])
def test_detect_format_round_trip(fmt: str) -> None:
    specs = F.expected_tensors(MOD, "linear", (64, 128), True, fmt)
    assert F.detect_format(s.name.removeprefix(f"{MOD}.") for s in specs) == fmt


def test_detect_format_ambiguous_or_unknown() -> None:
    assert F.detect_format(["weight", "weight_scale", "input_scale"]) is None  # fp8 / ct_fp8
    assert F.detect_format(["weight", "qweight"]) is None


def test_logical_weight_shape_undoes_packing() -> None:
    assert F.logical_weight_shape("modelopt_nvfp4", (64, 64)) == (64, 128)
    assert F.logical_weight_shape("ct_nvfp4", (64, 64)) == (64, 128)
    assert F.logical_weight_shape("fp8", (64, 64)) == (64, 64)


def test_tensor_nbytes() -> None:
    assert F.tensor_nbytes("BF16", (3, 4)) == 24
    assert F.tensor_nbytes("F32", ()) == 4
    assert F.tensor_nbytes("F8_E4M3", (64, 8)) == 512


@pytest.mark.parametrize(
    ("module", "disabled"),
    [
        ("model.language_model.layers.0.linear_attn.in_proj_a", True),
        ("model.language_model.layers.0.linear_attn.in_proj_qkv", False),
        ("model.language_model.layers.0.mlp.gate", True),
        ("model.language_model.layers.0.mlp.gate_proj", False),
        ("model.language_model.layers.0.mlp.shared_expert_gate", True),
        ("model.language_model.layers.0.mlp.shared_expert.gate_proj", False),
        ("model.visual.blocks.0.attn.qkv", True),
        ("lm_head", True),
        ("mtp.layers.0.mlp.down_proj", True),
    ],
)
def test_modelopt_default_disabled_patterns(module: str, disabled: bool) -> None:
    assert P.modelopt_disables(module) is disabled


def test_summarize_excluded_folds_only_safe_prefixes() -> None:
    quantized = ["model.language_model.layers.0.mlp.up_proj"]
    unquantized = [
        "lm_head",
        "model.language_model.embed_tokens",
        "model.visual.blocks.0.attn.qkv",
        "model.visual.merger.linear_fc1",
        "model.language_model.layers.0.linear_attn.conv1d",
    ]
    assert P.summarize_excluded(unquantized, quantized) == [
        "lm_head",
        "model.language_model.embed_tokens",
        "model.language_model.layers.0.linear_attn*",
        "model.visual*",
    ]


def test_summarize_excluded_prefers_dot_star_when_a_sibling_shares_the_prefix() -> None:
    # "a.b*" would also cover the quantized "a.bc": ModelOpt emits "a.b.*" instead.
    assert P.summarize_excluded(["a.b.c"], ["a.bc"]) == ["a.b.*"]


def test_modelopt_configs() -> None:
    hfq = P.modelopt_hf_quant_config("modelopt_nvfp4", ["lm_head"])
    assert hfq == {
        "producer": {"name": "modelopt", "version": "0.47.0"},
        "quantization": {
            "quant_algo": "NVFP4",
            "kv_cache_quant_algo": None,
            "group_size": 16,
            "exclude_modules": ["lm_head"],
        },
    }
    cfg = P.modelopt_config_json_quantization(hfq)
    assert cfg["quant_method"] == "modelopt" and cfg["ignore"] == ["lm_head"]
    assert cfg["config_groups"]["group_0"]["weights"]["group_size"] == 16
    fp8 = P.modelopt_hf_quant_config("fp8", [])["quantization"]
    assert fp8["quant_algo"] == "FP8" and "group_size" not in fp8
    with pytest.raises(FormatError):
        P.modelopt_hf_quant_config("ct_nvfp4", [])


def test_compressed_tensors_config_shape() -> None:
    cfg = P.ct_quantization_config("ct_nvfp4", ["lm_head"])
    assert cfg["quant_method"] == "compressed-tensors"
    assert cfg["format"] == "nvfp4-pack-quantized"
    assert cfg["quantization_status"] == "compressed"
    group = cfg["config_groups"]["group_0"]
    assert group["format"] == "nvfp4-pack-quantized" and group["targets"] == ["Linear"]
    assert group["weights"]["strategy"] == "tensor_group"
    assert group["weights"]["group_size"] == 16 and group["weights"]["num_bits"] == 4
    assert group["input_activations"]["dynamic"] == "local"
    assert cfg["ignore"] == ["lm_head"]
    assert P.ct_quantization_config("ct_fp8", [])["format"] == "float-quantized"


def test_fp8_block_config() -> None:
    cfg = P.fp8_block_quantization_config(["lm_head"])
    assert cfg["weight_block_size"] == [128, 128] and cfg["quant_method"] == "fp8"


def test_shard_names() -> None:
    assert F.shard_name(1, 1) == "model.safetensors"
    assert F.shard_name(2, 12) == "model-00002-of-00012.safetensors"
    assert F.is_shard_name("model-00002-of-00012.safetensors")
    assert not F.is_shard_name("model-00013-of-00012.safetensors")
    assert not F.is_shard_name("weights.safetensors")


def test_formats_module_does_not_import_torch() -> None:
    code = "import sys, publisher.checkpoint.formats; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
