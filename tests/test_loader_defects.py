"""Defects that make published quantized checkpoints fail to load, each made by mutating a
genuine ModelOpt 0.47 NVFP4 export of a tiny Qwen3.5 (the headers are written afresh).

The public reports behind each class are listed in ../shared/notes/loader-failures.md.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from publisher.checkpoint.audit import audit_inventory
from publisher.checkpoint.formats import TensorSpec, expected_tensors
from publisher.checkpoint.integrity import check_checkpoint
from publisher.checkpoint.mtp import read_side_files
from publisher.checkpoint.reader import read_checkpoint
from publisher.checkpoint.validate import ValidationReport, validate_checkpoint
from publisher.cli import main
from publisher.spec.loader import load_spec
from publisher.testkit.sparse import write_sparse_shard
from tests.checkpoint_variants import ConfigEdit, Edit, write_variant

pytestmark = pytest.mark.slow

TEXT = "model.language_model"
GATE_PROJ = f"{TEXT}.layers.0.mlp.gate_proj"  # logical [128, 64]: stored U8 [128, 32]
FULL_ATTENTION_LAYER = 63  # the dense tiny model's last layer is full attention (63 + 1) % 4 == 0


@pytest.fixture(scope="module")
def moe_spec(modelopt_moe_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("moe-spec") / "Tiny-MoE-NVFP4.yaml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(modelopt_moe_dir), "--name", "Tiny-MoE", "-o", str(path)]) == 0
    return path


def _report(spec: Path, checkpoint: Path) -> ValidationReport:
    return validate_checkpoint(load_spec(spec), checkpoint)


def _codes(spec: Path, checkpoint: Path) -> set[tuple[str, str | None]]:
    return {(f.code, f.location.pointer) for f in _report(spec, checkpoint).findings}


def _nvfp4(tensors: dict[str, TensorSpec], module: str, logical: tuple[int, int]) -> None:
    """Store one BF16 module as ModelOpt NVFP4 (weight, weight_scale, _scale_2, input_scale)."""
    del tensors[f"{module}.weight"]
    for spec in expected_tensors(module, "linear", logical, False, "modelopt_nvfp4"):
        tensors[spec.name] = spec


def _both_exclude_lists(configs: dict[str, dict[str, Any]], change: Any) -> None:
    hfq = configs["hf_quant_config.json"]["quantization"]
    hfq["exclude_modules"] = change(hfq["exclude_modules"])
    qc = configs["config.json"]["quantization_config"]
    qc["ignore"] = change(qc["ignore"])


# --- an NVFP4 weight stored transposed ------------------------------------------------------


def test_transposed_nvfp4_weight_is_named(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def transpose(tensors: dict[str, TensorSpec]) -> None:
        name = f"{GATE_PROJ}.weight"
        out, half_in = tensors[name].shape
        tensors[name] = TensorSpec(name, "U8", (half_in, out))

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", transpose)
    (finding,) = _report(modelopt_dense_spec, variant).findings
    assert (finding.code, finding.location.pointer) == ("VAL251", f"{GATE_PROJ}.weight")
    assert "transposed: [32, 128]" in finding.message and "[128, 32]" in finding.message


def test_a_wrong_packing_that_is_not_a_transpose_stays_val005(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def unpacked(tensors: dict[str, TensorSpec]) -> None:
        name = f"{GATE_PROJ}.weight"
        tensors[name] = TensorSpec(name, "U8", (128, 64))

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", unpacked)
    assert _codes(modelopt_dense_spec, variant) == {("VAL005", f"{GATE_PROJ}.weight")}


# --- lm_head and the exclude list -----------------------------------------------------------


def test_lm_head_quantized_while_the_config_excludes_it(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """nvidia/Qwen3.6-35B-A3B-NVFP4 (vLLM issue 45102): scales on an excluded head."""
    variant = write_variant(
        modelopt_dense_dir, tmp_path / "v", lambda t: _nvfp4(t, "lm_head", (512, 64))
    )
    report = _report(modelopt_dense_spec, variant)
    assert {(f.code, f.location.pointer) for f in report.findings} == {
        ("VAL001", "lm_head"),  # the spec says BF16
        ("VAL011", "lm_head"),  # the config excludes it: loaders build an unquantized head
    }
    assert not report.ok


def test_lm_head_bf16_while_the_config_does_not_exclude_it(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def forget_lm_head(configs: dict[str, dict[str, Any]]) -> None:
        _both_exclude_lists(configs, lambda names: [n for n in names if n != "lm_head"])

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", edit_configs=forget_lm_head)
    assert _codes(modelopt_dense_spec, variant) == {("VAL010", "lm_head")}


# --- MTP layers -------------------------------------------------------------------------------


def _decoder_layer_copy(
    tensors: dict[str, TensorSpec], source_layer: str, target_prefix: str, dtype: str = "BF16"
) -> None:
    """Add an MTP decoder layer: every module of `source_layer`, unquantized, at `target_prefix`."""
    for name, spec in list(tensors.items()):
        if not name.startswith(source_layer + "."):
            continue
        local = name[len(source_layer) + 1 :]
        module, _, suffix = local.rpartition(".")
        if suffix == "weight" and spec.dtype == "U8":
            shape = (spec.shape[0], spec.shape[1] * 2)
            tensors[f"{target_prefix}.{local}"] = TensorSpec(
                f"{target_prefix}.{local}", dtype, shape
            )
        elif suffix == "weight" or module == "":
            tensors[f"{target_prefix}.{local}"] = TensorSpec(
                f"{target_prefix}.{local}", "BF16", spec.shape
            )


def _qwen_mtp(tensors: dict[str, TensorSpec]) -> None:
    _decoder_layer_copy(tensors, f"{TEXT}.layers.{FULL_ATTENTION_LAYER}", "mtp.layers.0")
    tensors["mtp.fc.weight"] = TensorSpec("mtp.fc.weight", "BF16", (64, 128))
    tensors["mtp.norm.weight"] = TensorSpec("mtp.norm.weight", "BF16", (64,))


def test_qwen_mtp_in_bf16_without_an_exclude_entry_is_an_error(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    variant = write_variant(modelopt_dense_dir, tmp_path / "v", _qwen_mtp)
    report = _report(modelopt_dense_spec, variant)
    codes = {(f.code, f.severity) for f in report.findings}
    assert codes == {("VAL253", "error"), ("VAL031", "warning")}
    (val253,) = [f for f in report.findings if f.code == "VAL253"]
    assert val253.message.startswith("7 MTP modules are stored BF16")  # q/k/v/o + 3 MLP
    assert "'mtp*'" in val253.message and val253.location.pointer == "mtp.layers.0.mlp.down_proj"
    assert not report.ok


def test_qwen_mtp_excluded_by_the_config_is_clean(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def exclude_mtp(configs: dict[str, dict[str, Any]]) -> None:
        _both_exclude_lists(configs, lambda names: [*names, "mtp*"])

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", _qwen_mtp, exclude_mtp)
    assert {f.code for f in _report(modelopt_dense_spec, variant).findings} == {"VAL031"}


def test_quantized_mtp_that_the_config_excludes_is_an_error(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    def quantized_mtp(tensors: dict[str, TensorSpec]) -> None:
        _qwen_mtp(tensors)
        _nvfp4(tensors, "mtp.layers.0.mlp.gate_proj", (128, 64))

    def exclude_mtp(configs: dict[str, dict[str, Any]]) -> None:
        _both_exclude_lists(configs, lambda names: [*names, "mtp*"])

    variant = write_variant(modelopt_dense_dir, tmp_path / "v", quantized_mtp, exclude_mtp)
    assert ("VAL254", "mtp.layers.0.mlp.gate_proj") in _codes(modelopt_dense_spec, variant)


def _nextn_layer(tensors: dict[str, TensorSpec]) -> None:
    """DeepSeek / GLM placement: the MTP layer is decoder layer num_hidden_layers (64 here)."""
    prefix = f"{TEXT}.layers.64"
    _decoder_layer_copy(tensors, f"{TEXT}.layers.{FULL_ATTENTION_LAYER}", prefix)
    tensors[f"{prefix}.eh_proj.weight"] = TensorSpec(f"{prefix}.eh_proj.weight", "BF16", (64, 128))
    for norm in ("enorm", "hnorm"):
        tensors[f"{prefix}.{norm}.weight"] = TensorSpec(f"{prefix}.{norm}.weight", "BF16", (64,))


def _announce_nextn(configs: dict[str, dict[str, Any]]) -> None:
    configs["config.json"]["text_config"]["num_nextn_predict_layers"] = 1


def test_nextn_layer_at_num_hidden_layers_in_bf16_is_an_error(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """amd/GLM-5.1-NVFP4 (vLLM PR 49187): the extra decoder layer BF16, no exclude entry."""
    variant = write_variant(modelopt_dense_dir, tmp_path / "v", _nextn_layer, _announce_nextn)
    report = _report(modelopt_dense_spec, variant)
    codes = {f.code for f in report.findings}
    assert codes == {"VAL253", "VAL031"}  # MTP tensors, not 'belongs to no module' (VAL003)
    (val253,) = [f for f in report.findings if f.code == "VAL253"]
    assert f"'{TEXT}.layers.64*'" in val253.message  # eh_proj and the norms are not judged
    assert report.mtp_tensors == 14  # 11 of the decoder layer, eh_proj, enorm, hnorm
    audit = audit_inventory(read_checkpoint(variant)[0])
    assert "VAL253" in {f.code for f in audit.findings}  # the audit sees it without a spec
    assert audit.mtp_tensors == 14
    spec = tmp_path / "from-init.yaml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(variant), "--name", "With-MTP", "-o", str(spec)]) == 0
    assert "mtp:\n    trained: true\n    shipped: true" in spec.read_text(encoding="utf-8")
    assert {f.code for f in _report(spec, variant).findings} == {"VAL253"}  # shipped: no VAL031


def test_nextn_layer_in_a_side_file_the_index_does_not_list(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, tmp_path: Path
) -> None:
    """Published GLM-5.1 NVFP4 checkpoints ship the MTP layer in mtp.safetensors."""
    genuine = tmp_path / "genuine"
    write_variant(modelopt_dense_dir, genuine, edit_configs=_announce_nextn)
    inventory, _ = read_checkpoint(genuine)
    main_tensors = [TensorSpec(n, t.dtype, tuple(t.shape)) for n, t in inventory.tensors.items()]
    mtp: dict[str, TensorSpec] = {s.name: s for s in main_tensors}
    _nextn_layer(mtp)
    side = [spec for name, spec in mtp.items() if name not in inventory.tensors]
    variant = tmp_path / "sharded"
    variant.mkdir()
    shard = "model-00001-of-00001.safetensors"
    size = write_sparse_shard(variant / shard, main_tensors)
    write_sparse_shard(variant / "mtp.safetensors", side)
    index = {"metadata": {"total_size": size}, "weight_map": {s.name: shard for s in main_tensors}}
    (variant / "model.safetensors.index.json").write_text(json.dumps(index))
    for name in ("config.json", "hf_quant_config.json"):
        (variant / name).write_text((genuine / name).read_text())
    report = _report(modelopt_dense_spec, variant)
    codes = {(f.code, f.severity) for f in report.findings}
    assert ("CKPT251", "warning") in codes and ("VAL253", "error") in codes
    assert "CKPT038" not in {c for c, _ in codes}  # CKPT251 explains the unlisted file
    assert report.mtp_tensors == 14  # 11 of the decoder layer, eh_proj, enorm, hnorm
    # the side file's tensors join the inventory, not the index's weight map
    inventory, _ = check_checkpoint(variant)
    read_side_files(variant, inventory)
    assert len(inventory.tensors) == len(main_tensors) + len(side)
    assert inventory.index is not None
    assert dict(inventory.index.weight_map.items()) == index["weight_map"]
    assert list(inventory.index.weight_map) == list(index["weight_map"])
    assert inventory.index.shard_names() == [shard]


# --- routers and experts (MoE) ----------------------------------------------------------------


def test_quantized_router_is_named(moe_spec: Path, modelopt_moe_dir: Path, tmp_path: Path) -> None:
    router = f"{TEXT}.layers.2.mlp.gate"
    variant = write_variant(modelopt_moe_dir, tmp_path / "v", lambda t: _nvfp4(t, router, (4, 64)))
    report = _report(moe_spec, variant)
    by_code = {f.code: f for f in report.findings}
    assert by_code["VAL255"].location.pointer == router
    assert "1 routers are stored NVFP4" in by_code["VAL255"].message
    assert {"VAL001", "VAL011"} <= set(by_code)  # the spec says BF16; the config excludes it
    audit = audit_inventory(read_checkpoint(variant)[0])
    assert "VAL255" in {f.code for f in audit.findings}


def _drop_expert(layer: int, expert: int) -> Edit:
    def edit(tensors: dict[str, TensorSpec]) -> None:
        prefix = f"{TEXT}.layers.{layer}.mlp.experts.{expert}."
        for name in [n for n in tensors if n.startswith(prefix)]:
            del tensors[name]

    return edit


def test_a_layer_missing_an_expert_is_counted(
    moe_spec: Path, modelopt_moe_dir: Path, tmp_path: Path
) -> None:
    variant = write_variant(modelopt_moe_dir, tmp_path / "v", _drop_expert(7, 3))
    report = _report(moe_spec, variant)
    (val256,) = [f for f in report.findings if f.code == "VAL256"]
    assert val256.message.startswith(f"1 MoE blocks hold 3 experts ({TEXT}.layers.7.mlp)")
    assert "config.json says num_experts: 4" in val256.message
    assert val256.location.pointer == "num_experts"


def test_config_announcing_more_experts_than_the_files_hold(
    moe_spec: Path, modelopt_moe_dir: Path, tmp_path: Path
) -> None:
    def eight_experts(configs: dict[str, dict[str, Any]]) -> None:
        configs["config.json"]["text_config"]["num_experts"] = 8

    edit: ConfigEdit = eight_experts
    variant = write_variant(modelopt_moe_dir, tmp_path / "v", edit_configs=edit)
    (val256,) = [f for f in _report(moe_spec, variant).findings if f.code == "VAL256"]
    assert val256.message.startswith("40 MoE blocks hold 4 experts")
    assert "num_experts: 8" in val256.message


def test_genuine_exports_have_none_of_these_defects(
    modelopt_dense_spec: Path, modelopt_dense_dir: Path, moe_spec: Path, modelopt_moe_dir: Path
) -> None:
    assert _report(modelopt_dense_spec, modelopt_dense_dir).findings == []
    assert _report(moe_spec, modelopt_moe_dir).findings == []
    for export in (modelopt_dense_dir, modelopt_moe_dir):
        assert audit_inventory(read_checkpoint(export)[0]).findings == []
