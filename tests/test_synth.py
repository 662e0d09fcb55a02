"""Real test checkpoints: tiny transformers saves, ModelOpt exports, compressed-tensors layout
and full-size sparse checkpoints, each checked against what the real tools write."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from publisher.checkpoint import formats as F
from publisher.testkit import producer_configs as P
from publisher.testkit import sparse, tiny
from publisher.testkit.sparse import read_safetensors, read_safetensors_header

EXPORT_FILES = {
    "config.json",
    "generation_config.json",
    "hf_quant_config.json",
    "model.safetensors",
}
LM = "model.language_model.layers"


def shapes(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    header = read_safetensors_header(path)
    header.pop("__metadata__", None)
    return {k: (v["dtype"], tuple(v["shape"])) for k, v in header.items()}


def files(path: Path) -> set[str]:
    return {p.name for p in path.iterdir() if not p.name.startswith(".")}


# --- tiny transformers checkpoints ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "moe"])
def test_tiny_saved_names_are_predicted(
    kind: str, tiny_dense_dir: Path, tiny_moe_dir: Path
) -> None:
    saved = shapes((tiny_dense_dir if kind == "dense" else tiny_moe_dir) / "model.safetensors")
    predicted = tiny.saved_tensor_shapes(tiny.tiny_config(kind))  # type: ignore[arg-type]
    assert {k: s for k, (_, s) in saved.items()} == predicted
    assert {dtype for dtype, _ in saved.values()} == {"BF16"}


def test_tiny_moe_experts_fused_in_memory_split_on_disk(tiny_moe_dir: Path) -> None:
    in_memory = tiny.meta_state_dict(tiny.tiny_config("moe"))
    saved = shapes(tiny_moe_dir / "model.safetensors")
    assert in_memory[f"{LM}.0.mlp.experts.gate_up_proj"] == (4, 64, 64)
    assert in_memory[f"{LM}.0.mlp.experts.down_proj"] == (4, 64, 32)
    assert f"{LM}.0.mlp.experts.gate_up_proj" not in saved
    assert saved[f"{LM}.0.mlp.experts.3.gate_proj.weight"] == ("BF16", (32, 64))
    assert saved[f"{LM}.0.mlp.experts.3.down_proj.weight"] == ("BF16", (64, 32))


def test_tiny_layout_is_real(tiny_dense_dir: Path) -> None:
    config = json.loads((tiny_dense_dir / "config.json").read_text())
    layer_types = config["text_config"]["layer_types"]
    assert len(layer_types) == 64
    full = [i for i, t in enumerate(layer_types) if t == "full_attention"]
    assert full == list(range(3, 64, 4))
    assert config["architectures"] == ["Qwen3_5ForConditionalGeneration"]


def test_tied_embeddings_drop_lm_head(tmp_path: Path) -> None:
    tiny.save_tiny_checkpoint(tmp_path, kind="dense", num_layers=4, tie_embeddings=True)
    saved = shapes(tmp_path / "model.safetensors")
    config = tiny.tiny_config("dense", num_layers=4, tie_embeddings=True)
    assert "lm_head.weight" not in saved
    assert {k: s for k, (_, s) in saved.items()} == tiny.saved_tensor_shapes(config)


def _tsv(path: Path) -> dict[str, tuple[int, ...]]:
    rows = (line.rstrip("\n").split("\t") for line in path.read_text().splitlines())
    return {row[0]: tuple(json.loads(row[-1])) for row in rows}


def test_meta_27b_matches_reference_inventory(shared_dir: Path) -> None:
    ref = _tsv(shared_dir / "reference-checkpoints" / "qwen3.5-27b-like-state-dict.tsv")
    assert tiny.meta_state_dict(tiny.qwen35_27b_config()) == ref


def test_tiny_moe_matches_reference_saved_inventory(shared_dir: Path) -> None:
    ref = _tsv(shared_dir / "reference-checkpoints" / "qwen3.5-moe-tiny-saved-tensors.tsv")
    config = tiny.tiny_config("moe", num_layers=40, vision_depth=27)
    assert tiny.saved_tensor_shapes(config) == ref


def test_full_size_configs() -> None:
    dense = tiny.saved_tensor_shapes(tiny.qwen35_27b_config())
    assert len(dense) == 1184
    assert dense["lm_head.weight"] == (248320, 5120)
    assert dense[f"{LM}.0.linear_attn.in_proj_qkv.weight"] == (10240, 5120)
    assert dense[f"{LM}.63.self_attn.q_proj.weight"] == (12288, 5120)
    assert sum(k.startswith("model.visual.") for k in dense) == 333
    moe = tiny.saved_tensor_shapes(tiny.qwen35_35b_a3b_config())
    experts = [k for k in moe if ".mlp.experts." in k]
    assert len(experts) == 40 * 256 * 3
    assert moe[f"{LM}.39.mlp.experts.255.down_proj.weight"] == (2048, 512)
    small = tiny.saved_tensor_shapes(tiny.qwen35_0_8b_config())
    assert "lm_head.weight" not in small  # tied
    with pytest.raises(ValueError, match="unknown full-size config"):
        tiny.full_config("9b")


# --- genuine ModelOpt exports --------------------------------------------------------------


def _expected_exclude(num_layers: int, moe: bool) -> list[str]:
    names = ["lm_head", "model.language_model.embed_tokens"]
    for i in range(num_layers):
        if i % 4 != 3:
            names += [f"{LM}.{i}.linear_attn.{m}" for m in ("conv1d", "in_proj_a", "in_proj_b")]
        if moe:
            names += [f"{LM}.{i}.mlp.gate", f"{LM}.{i}.mlp.shared_expert_gate"]
    return sorted([*names, "model.visual*"])


@pytest.mark.slow
def test_modelopt_dense_export_facts(modelopt_dense_dir: Path) -> None:
    assert files(modelopt_dense_dir) == EXPORT_FILES
    hfq = json.loads((modelopt_dense_dir / "hf_quant_config.json").read_text())
    assert hfq["producer"] == {"name": "modelopt", "version": "0.47.0"}
    quant = hfq["quantization"]
    assert (quant["quant_algo"], quant["group_size"], quant["kv_cache_quant_algo"]) == (
        "NVFP4",
        16,
        None,
    )
    assert quant["exclude_modules"] == _expected_exclude(64, moe=False)
    config = json.loads((modelopt_dense_dir / "config.json").read_text())
    assert config["quantization_config"] == P.modelopt_config_json_quantization(hfq)

    saved = shapes(modelopt_dense_dir / "model.safetensors")
    layer = f"{LM}.0.mlp.down_proj"
    assert {k: v for k, v in saved.items() if k.startswith(layer + ".")} == {
        s.name: (s.dtype, s.shape)
        for s in F.expected_tensors(layer, "linear", (64, 128), False, "modelopt_nvfp4")
    }
    for name in ("in_proj_a", "in_proj_b"):
        assert saved[f"{LM}.0.linear_attn.{name}.weight"] == ("BF16", (4, 64))
    assert all(v[0] == "BF16" for k, v in saved.items() if k.startswith("model.visual."))
    assert not any(k.startswith("mtp.") for k in saved)
    quantized = {k.removesuffix(".weight_scale_2") for k in saved if k.endswith("weight_scale_2")}
    assert len(quantized) == 64 * 3 + 48 * 3 + 16 * 4  # MLP, DeltaNet qkv/z/out, attention


@pytest.mark.slow
def test_modelopt_export_scales_are_positive_and_shared(modelopt_dense_dir: Path) -> None:
    import torch
    from safetensors.torch import load_file

    state = load_file(modelopt_dense_dir / "model.safetensors")
    mlp = f"{LM}.0.mlp"
    for proj in ("gate_proj", "up_proj", "down_proj"):
        assert state[f"{mlp}.{proj}.weight_scale_2"].item() > 0
        assert state[f"{mlp}.{proj}.input_scale"].item() > 0
    # gate/up share an input, and ModelOpt's export gives them one global scale
    assert torch.equal(
        state[f"{mlp}.gate_proj.weight_scale_2"], state[f"{mlp}.up_proj.weight_scale_2"]
    )


@pytest.mark.slow
def test_modelopt_moe_export_facts(modelopt_moe_dir: Path) -> None:
    assert files(modelopt_moe_dir) == EXPORT_FILES
    hfq = json.loads((modelopt_moe_dir / "hf_quant_config.json").read_text())
    assert hfq["quantization"]["exclude_modules"] == _expected_exclude(40, moe=True)
    saved = shapes(modelopt_moe_dir / "model.safetensors")
    expert = f"{LM}.7.mlp.experts.3.down_proj"
    assert saved[f"{expert}.weight"] == ("U8", (64, 16))
    assert saved[f"{expert}.weight_scale"] == ("F8_E4M3", (64, 2))
    assert saved[f"{LM}.7.mlp.gate.weight"] == ("BF16", (4, 64))
    assert saved[f"{LM}.7.mlp.shared_expert_gate.weight"] == ("BF16", (1, 64))
    assert saved[f"{LM}.7.mlp.shared_expert.up_proj.weight"] == ("U8", (32, 32))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["dense", "moe"])
def test_sparse_writer_reproduces_a_real_export(
    kind: str, modelopt_dense_dir: Path, modelopt_moe_dir: Path, tmp_path: Path
) -> None:
    real = modelopt_dense_dir if kind == "dense" else modelopt_moe_dir
    sparse.write_sparse_checkpoint(tmp_path, tiny.tiny_config(kind))  # type: ignore[arg-type]
    real_bytes = (real / "model.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", real_bytes[:8])
    fake = tmp_path / "model.safetensors"
    assert fake.read_bytes()[: 8 + length] == real_bytes[: 8 + length]  # byte-identical header
    assert fake.stat().st_size == len(real_bytes)
    for name in ("hf_quant_config.json", "config.json"):
        assert json.loads((tmp_path / name).read_text()) == json.loads((real / name).read_text())


# --- compressed-tensors layout -------------------------------------------------------------


@pytest.mark.slow
def test_compressed_tensors_layout(
    compressed_tensors_dense_dir: Path, modelopt_dense_dir: Path
) -> None:
    ct = compressed_tensors_dense_dir
    assert files(ct) == {"config.json", "generation_config.json", "model.safetensors"}
    saved = shapes(ct / "model.safetensors")
    layer = f"{LM}.4.linear_attn.out_proj"
    assert {k: v for k, v in saved.items() if k.startswith(layer + ".")} == {
        f"{layer}.weight_packed": ("U8", (64, 32)),
        f"{layer}.weight_scale": ("F8_E4M3", (64, 4)),
        f"{layer}.weight_global_scale": ("F32", (1,)),
        f"{layer}.input_global_scale": ("F32", (1,)),
    }
    packed = {k.removesuffix(".weight_packed") for k in saved if k.endswith(".weight_packed")}
    assert packed and not any(f"{m}.weight" in saved for m in packed)

    qcfg = json.loads((ct / "config.json").read_text())["quantization_config"]
    assert (qcfg["quant_method"], qcfg["format"]) == ("compressed-tensors", "nvfp4-pack-quantized")
    group = qcfg["config_groups"]["group_0"]
    assert group["format"] == "nvfp4-pack-quantized" and group["targets"] == ["Linear"]
    ignore = qcfg["ignore"]
    assert not any("*" in name or name.startswith("re:") for name in ignore)
    assert {"lm_head", f"{LM}.0.linear_attn.in_proj_a", "model.visual.blocks.1.attn.qkv"} <= set(
        ignore
    )
    assert "model.language_model.embed_tokens" not in ignore  # Embedding: not a Linear target
    assert f"{LM}.0.linear_attn.conv1d" not in ignore  # Conv1d: not a Linear target
    assert set(ignore).isdisjoint(packed)


@pytest.mark.slow
def test_compressed_tensors_values_match_modelopt(
    compressed_tensors_dense_dir: Path, modelopt_dense_dir: Path
) -> None:
    ct_path = compressed_tensors_dense_dir / "model.safetensors"
    ct_by_name = {spec.name: raw for spec, raw in read_safetensors(ct_path)}
    mo_path = modelopt_dense_dir / "model.safetensors"
    mo_by_name = {spec.name: raw for spec, raw in read_safetensors(mo_path)}
    layer = f"{LM}.3.self_attn.q_proj"
    assert ct_by_name[f"{layer}.weight_packed"] == mo_by_name[f"{layer}.weight"]
    assert ct_by_name[f"{layer}.weight_scale"] == mo_by_name[f"{layer}.weight_scale"]
    for ct_name, mo_name in (
        ("weight_global_scale", "weight_scale_2"),
        ("input_global_scale", "input_scale"),
    ):
        (g,) = struct.unpack("<f", ct_by_name[f"{layer}.{ct_name}"])
        (s,) = struct.unpack("<f", mo_by_name[f"{layer}.{mo_name}"])
        assert g * s == pytest.approx(1.0, rel=1e-6)


@pytest.mark.slow
def test_compressed_tensors_dequantizes_to_the_bf16_weights(
    compressed_tensors_dense_dir: Path, tiny_dense_dir: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    ct = load_file(compressed_tensors_dense_dir / "model.safetensors")
    original = load_file(tiny_dense_dir / "model.safetensors")  # same seed, same weights
    layer = f"{LM}.0.mlp.up_proj"
    packed = ct[f"{layer}.weight_packed"]
    codes = torch.stack((packed & 0x0F, packed >> 4), dim=-1).reshape(packed.shape[0], -1)
    e2m1 = torch.tensor([0, 0.5, 1, 1.5, 2, 3, 4, 6, 0, -0.5, -1, -1.5, -2, -3, -4, -6])
    values = e2m1[codes.long()]
    scale = ct[f"{layer}.weight_scale"].float() / ct[f"{layer}.weight_global_scale"]
    weight = (values.view(values.shape[0], -1, 16) * scale.unsqueeze(-1)).view_as(values)
    reference = original[f"{layer}.weight"].float()
    error = (weight - reference).abs().max() / reference.abs().max()
    assert error < 0.2  # FP4 (E2M1) rounding of a max-calibrated block


# --- full-size sparse checkpoints ----------------------------------------------------------


def _disk_bytes(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.iterdir())


def _check_sparse(out: Path, result: sparse.SparseCheckpoint) -> dict[str, tuple[str, tuple]]:
    index = json.loads((out / "model.safetensors.index.json").read_text())
    seen: dict[str, tuple[str, tuple]] = {}
    for shard in result.shards:
        header = read_safetensors_header(out / shard)
        header.pop("__metadata__")
        end = max(entry["data_offsets"][1] for entry in header.values())
        (length,) = struct.unpack("<Q", (out / shard).open("rb").read(8))
        assert (out / shard).stat().st_size == 8 + length + end
        for name, entry in header.items():
            assert index["weight_map"][name] == shard
            seen[name] = (entry["dtype"], tuple(entry["shape"]))
    assert set(seen) == set(index["weight_map"])
    assert index["metadata"]["total_size"] == sum(F.tensor_nbytes(*v) for v in seen.values())
    return seen


def test_sparse_27b_uses_no_disk_yet_has_real_names(tmp_path: Path) -> None:
    config = tiny.qwen35_27b_config()
    result = sparse.write_sparse_checkpoint(tmp_path, config, "modelopt-default", "modelopt_nvfp4")
    apparent = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert apparent > 19e9 and _disk_bytes(tmp_path) < 5e6
    seen = _check_sparse(tmp_path, result)
    bf16 = {k for k in tiny.saved_tensor_shapes(config)}
    for name in bf16:
        module = name.removesuffix(".weight")
        assert name in seen or f"{module}.weight_scale" in seen  # every real tensor is there
    assert seen[f"{LM}.5.mlp.down_proj.weight"] == ("U8", (5120, 8704))
    assert seen[f"{LM}.5.linear_attn.in_proj_a.weight"] == ("BF16", (48, 5120))
    assert result.quantized_modules == 64 * 3 + 48 * 3 + 16 * 4

    stored = json.loads((tmp_path / "config.json").read_text())
    from transformers import Qwen3_5Config

    reread: Any = Qwen3_5Config.from_dict(
        {k: v for k, v in stored.items() if k != "quantization_config"}
    )
    assert reread.text_config.num_hidden_layers == 64 and reread.vision_config.depth == 27
    assert stored["quantization_config"]["quant_method"] == "modelopt"
    hfq = json.loads((tmp_path / "hf_quant_config.json").read_text())
    assert "model.visual*" in hfq["quantization"]["exclude_modules"]


def test_sparse_plans_change_what_is_quantized(tmp_path: Path) -> None:
    config = tiny.qwen35_27b_config()
    card = sparse.write_sparse_checkpoint(tmp_path / "card", config, "all-deltanet-and-vision")
    assert card.quantized_modules == 606  # the 27B card's table: 192 + 240 + 64 + 110
    ct = sparse.write_sparse_checkpoint(tmp_path / "ct", config, "all-deltanet", "ct_nvfp4")
    seen = _check_sparse(tmp_path / "ct", ct)
    assert seen[f"{LM}.0.linear_attn.in_proj_b.weight_packed"] == ("U8", (48, 2560))
    qcfg = json.loads((tmp_path / "ct" / "config.json").read_text())["quantization_config"]
    assert "lm_head" in qcfg["ignore"] and not (tmp_path / "ct" / "hf_quant_config.json").exists()
    bf16 = sparse.write_sparse_checkpoint(tmp_path / "ct", config, "none", "bf16")  # rewrite
    assert bf16.total_size == 2 * sum(
        math.prod(s) for s in tiny.saved_tensor_shapes(config).values()
    )
    assert "quantization_config" not in json.loads((tmp_path / "ct" / "config.json").read_text())
    assert sorted(p.name for p in (tmp_path / "ct").glob("*.safetensors")) == bf16.shards


def test_sparse_35b_a3b_is_fast_and_holey(tmp_path: Path) -> None:
    config = tiny.qwen35_35b_a3b_config()
    tiny.module_inventory(config)  # the meta model: not part of the write budget
    start = time.perf_counter()
    result = sparse.write_sparse_checkpoint(tmp_path, config)
    elapsed = time.perf_counter() - start
    assert 120_000 < result.tensor_count < 130_000
    assert elapsed < 20  # a few seconds on 2 cores; generous for loaded CI machines
    assert _disk_bytes(tmp_path) < 64e6
    seen = _check_sparse(tmp_path, result)
    assert seen[f"{LM}.2.mlp.experts.200.gate_proj.weight"] == ("U8", (512, 1024))


def test_sparse_writing_does_not_import_torch(tmp_path: Path) -> None:
    code = f"""
import sys
from publisher.testkit import sparse
from publisher.testkit.tiny import ModuleInfo
mods = [ModuleInfo("lm_head", "linear", (512, 64), False),
        ModuleInfo("model.layers.0.mlp.up_proj", "linear", (128, 64), False)]
sparse.write_sparse_files({str(tmp_path)!r}, mods, {{"model_type": "x"}},
                          sparse.plan_by_name("modelopt-default"), "modelopt_nvfp4")
assert "torch" not in sys.modules, "torch was imported"
"""
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    assert shapes(tmp_path / "model.safetensors")["model.layers.0.mlp.up_proj.weight"] == (
        "U8",
        (128, 32),
    )
