"""The MIXED_PRECISION table against written precisions, without a checkpoint (pure)."""

from __future__ import annotations

from typing import Any

from publisher.checkpoint.layer_table import check_layer_table
from publisher.checkpoint.quant_config import QuantConfig, from_hf_quant_config

GATE, UP, Q = "m.layers.0.mlp.gate_proj", "m.layers.0.mlp.up_proj", "m.layers.0.self_attn.q_proj"
WRITTEN = {GATE: "nvfp4", UP: "nvfp4", Q: "fp8", "m.layers.0.mlp.gate": "bf16", "lm_head": "bf16"}


def _config(extra: dict[str, Any] | None = None, **layers: dict[str, Any]) -> QuantConfig:
    table = {GATE: {"quant_algo": "NVFP4", "group_size": 16}, UP: {"quant_algo": "NVFP4"}}
    table[Q] = {"quant_algo": "FP8"}
    quant = {"quant_algo": "MIXED_PRECISION", "quantized_layers": table | layers, **(extra or {})}
    cfg, _ = from_hf_quant_config({"quantization": quant})
    return cfg


def _named(cfg: QuantConfig, written: dict[str, str] = WRITTEN) -> list[tuple[str, str | None]]:
    return [(f.code, f.location.pointer) for f in check_layer_table(cfg, written, "/ckpt")]


def test_a_table_that_matches_the_tensors() -> None:
    cfg = _config()
    assert _named(cfg) == []
    (finding,) = check_layer_table(cfg, WRITTEN | {Q: "nvfp4"}, "/ckpt")
    assert finding.location.file == "/ckpt/hf_quant_config.json"
    assert finding.message.startswith(f"hf_quant_config.json lists {Q} as FP8 but its tensors")


def test_no_table_no_findings() -> None:
    assert check_layer_table(QuantConfig(format="nvfp4"), {GATE: "fp8"}, "/ckpt") == []


def test_an_exclude_pattern_over_a_listed_quantized_module() -> None:
    cfg = _config({"exclude_modules": ["m.layers.0.mlp.*"]})
    assert _named(cfg) == [("VAL011", GATE), ("VAL011", UP)]


def test_algorithms_publisher_does_not_know_are_not_checked_but_count_as_listed() -> None:
    cfg = _config(**{GATE: {"quant_algo": "W4A16_AWQ", "group_size": 128}})
    assert _named(cfg) == []
    assert _named(cfg, WRITTEN | {GATE: "missing"}) == [("VAL015", GATE)]


def test_fp8_block_entries_want_fp8_tensors() -> None:
    cfg = _config(**{Q: {"quant_algo": "FP8_PB_WO"}})
    assert _named(cfg) == []
    assert _named(cfg, WRITTEN | {Q: "bf16"}) == [("VAL014", Q)]
