"""A checkpoint whose config.json publisher cannot read as an architecture is still audited
(grouped by module name) and still gets a starting spec, and both say what was not
recognised and why instead of falling back silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from publisher.checkpoint.formats import expected_tensors
from publisher.cli import main
from publisher.testkit.producer_configs import (
    modelopt_config_json_quantization,
    modelopt_hf_quant_config,
)
from publisher.testkit.sparse import write_sparse_shard

MODULE = "model.layers.{}.mlp.down_proj"


def _checkpoint(folder: Path, model_type: str) -> Path:
    folder.mkdir()
    tensors = [
        t
        for layer in range(2)
        for t in expected_tensors(
            MODULE.format(layer), "linear", (64, 128), False, "modelopt_nvfp4"
        )
    ]
    write_sparse_shard(folder / "model.safetensors", tensors)
    hf_quant = modelopt_hf_quant_config("modelopt_nvfp4", [])
    config = {
        "model_type": model_type,
        "hidden_size": 128,
        "quantization_config": modelopt_config_json_quantization(hf_quant),
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "hf_quant_config.json").write_text(json.dumps(hf_quant), encoding="utf-8")
    return folder


def test_audit_says_why_it_grouped_by_module_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _checkpoint(tmp_path / "falcon", "falcon")
    assert main(["audit", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        "Architecture profile: unknown (grouped by module name: config.json model_type 'falcon': "
        "unknown architecture profile 'falcon' (known: deepseek_v3, gemma3, "
    ) in out
    assert "publisher profile check FILE" in out
    assert main(["audit", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["profile"] is None
    assert "unknown architecture profile 'falcon'" in report["unrecognised"]


def test_init_says_what_it_left_out_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _checkpoint(tmp_path / "falcon", "falcon")
    assert main(["init", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "# Not recognised: config.json model_type 'falcon': unknown architecture profile" in text
    assert (
        "# Left out of quantization.components: 1 module group(s) no profile component "
        "explains (model.layers.*.mlp.down_proj); describe them by hand." in text
    )


def test_a_hostile_model_type_stays_inside_its_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _checkpoint(tmp_path / "evil", "falcon\nrepo_id: attacker/model\x1b[2J")
    assert main(["init", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text
    assert yaml.safe_load(text)["repo_id"] == "your-org/evil"
