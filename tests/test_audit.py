"""`publisher audit`: what stayed BF16, from the files alone; manifests; comparisons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publisher.checkpoint.formats import TensorSpec
from publisher.cli import main
from tests.checkpoint_variants import write_variant

pytestmark = pytest.mark.slow


def test_audit_groups_the_modelopt_export_by_component(
    modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(modelopt_dense_dir)]) == 0
    out = capsys.readouterr().out
    assert "Format: nvfp4 (quant config: nvfp4, producer modelopt 0.47.0, group size 16)" in out
    assert re.search(r"DeltaNet projections +144 NVFP4, 96 BF16\n", out)
    assert re.search(r"MLP projections +192 NVFP4\n", out)
    assert "Layer matrix" in out
    assert re.search(r"\n3 +Gated Attention +dense +Q4 +· +Q4", out)
    assert re.search(r"\n0 +Gated DeltaNet +dense +Q4 +B/Q4 +·", out)


def test_parameters_counted_two_ways(
    modelopt_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(modelopt_dense_dir), "--format", "json"]) == 0
    audit = json.loads(capsys.readouterr().out)["audit"]
    params = audit["parameters"]
    u8 = audit["tensors_by_dtype"]["U8"]
    assert u8 > 0 and params["logical"] > params["stored_elements"] - 1  # packed bytes count ×2
    assert (
        audit["modules"]["model.language_model.layers.0.linear_attn.in_proj_a"]["precision"]
        == "bf16"
    )
    assert (
        audit["modules"]["model.language_model.layers.0.linear_attn.in_proj_qkv"]["precision"]
        == "nvfp4"
    )


def test_manifest_round_trip_and_verify(
    modelopt_dense_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_variant(modelopt_dense_dir, tmp_path / "ckpt")
    assert main(["audit", str(folder), "--write-manifest"]) == 0
    manifest = folder / "quantization_audit.json"
    assert json.loads(manifest.read_text())["tool"]["name"] == "publisher"
    assert main(["audit", str(folder), "--verify", str(manifest)]) == 0

    def requantize(tensors: dict[str, TensorSpec]) -> None:
        name = "model.language_model.layers.0.linear_attn.in_proj_a.weight"
        tensors[name] = TensorSpec(name, "F32", tensors[name].shape)

    changed = write_variant(modelopt_dense_dir, tmp_path / "changed", requantize)
    capsys.readouterr()
    assert main(["audit", str(changed), "--verify", str(manifest)]) == 1
    assert "AUD002" in capsys.readouterr().out


def test_against_shows_precision_changes(
    modelopt_dense_dir: Path,
    compressed_tensors_dense_dir: Path,
    tiny_dense_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["audit", str(modelopt_dense_dir), "--against", str(compressed_tensors_dense_dir)])
        == 0
    )
    assert "Precision changes against" in (out := capsys.readouterr().out) and ": 0\n\nnone" in out
    assert (
        main(
            ["audit", str(modelopt_dense_dir), "--against", str(tiny_dense_dir), "--format", "json"]
        )
        == 0
    )
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert len(changes) == 400  # every quantized module was BF16 in the base model
    assert {c["after"] for c in changes} == {"bf16"}


def test_compressed_tensors_layout_is_recognised(
    compressed_tensors_dense_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(compressed_tensors_dense_dir)]) == 0
    out = capsys.readouterr().out
    assert "compressed-tensors" in out
    assert re.search(r"DeltaNet projections +144 NVFP4, 96 BF16\n", out)
