"""Checkpoint integrity: byte ranges in each shard, the shard index, configs, bad directories."""

from __future__ import annotations

import json
import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from publisher.checkpoint import integrity as integrity_mod
from publisher.checkpoint.integrity import CODES, check_checkpoint
from publisher.checkpoint.inventory import (
    DTYPE_BITS,
    ByteRange,
    CheckpointInventory,
    IndexInfo,
    ShardInfo,
    TensorInfo,
)
from publisher.checkpoint.reader import fetch_header, shard_from_header
from publisher.errors import EXIT_INPUT, CheckpointError
from publisher.findings import Finding, Severity

INDEX = "model.safetensors.index.json"


def write_shard(path: Path, header: dict[str, Any], data_len: int | None = None) -> Path:
    """Hand-craft a safetensors file: any header, `data_len` zero bytes of data."""
    if data_len is None:
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        data_len = max(ends, default=0)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * data_len)
    return path


def tensor(dtype: str, shape: list[int], begin: int, nbytes: int | None = None) -> dict[str, Any]:
    if nbytes is None:
        nbytes = math.prod(shape) * DTYPE_BITS[dtype] // 8
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, begin + nbytes]}


def run(path: Path) -> tuple[CheckpointInventory, list[Finding]]:
    return check_checkpoint(path)


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def where(findings: list[Finding]) -> set[tuple[str, str, str | None]]:
    """(code, file name, tensor) for each finding: what a user reads in the report."""
    return {(f.code, Path(f.location.file or "").name, f.location.pointer) for f in findings}


def safetensors_rejects(path: Path) -> bool:
    try:
        with safe_open(str(path), "numpy") as f:
            list(f.keys())
    except SafetensorError:
        return True
    return False


# ---- one file ---------------------------------------------------------------------------


def test_clean_checkpoint_has_no_findings_and_a_full_inventory(tmp_path: Path) -> None:
    save_file(
        {
            "model.embed.weight": np.zeros((10, 4), np.float16),
            "model.layers.0.weight": np.zeros((4, 4), np.float32),
            "model.layers.0.bias": np.zeros((4,), np.float32),
        },
        str(tmp_path / "model.safetensors"),
    )
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    inv, findings = run(tmp_path)
    assert findings == []
    assert inv.tensor_count == 3
    assert inv.counts_by_dtype() == {"F16": 1, "F32": 2}
    assert inv.bytes_by_dtype() == {"F16": 80, "F32": 80}
    assert inv.total_bytes == 160
    assert inv.configs == {"config.json": {"model_type": "llama"}}
    assert inv.tensors["model.layers.0.weight"].shape == (4, 4)
    assert inv.tensors["model.layers.0.weight"].shard == "model.safetensors"


DEFECTS: dict[str, tuple[dict[str, Any], int | None, str, str | None]] = {
    # name: (header, data length, expected code, tensor named)
    "size mismatch": (
        {"a": tensor("F32", [2, 2], 0), "b": tensor("F32", [4], 16, nbytes=12)},
        28,
        "CKPT020",
        "b",
    ),
    "F4 not filling whole bytes": (
        {"a": tensor("F32", [1], 0), "f": {"dtype": "F4", "shape": [3], "data_offsets": [4, 6]}},
        6,
        "CKPT020",
        "f",
    ),
    "range past end of file": (
        {"a": tensor("F32", [2], 0), "b": tensor("F32", [4], 8)},
        16,
        "CKPT021",
        "b",
    ),
    "overlap": (
        {"a": tensor("F32", [4], 0), "b": tensor("F32", [4], 8)},
        24,
        "CKPT022",
        "b",
    ),
    "hole between tensors": (
        {"a": tensor("F32", [2], 0), "b": tensor("F32", [2], 12)},
        20,
        "CKPT023",
        "b",
    ),
    "hole at the start": (
        {"a": tensor("F32", [2], 4)},
        12,
        "CKPT023",
        "a",
    ),
    "bytes after the last tensor": (
        {"a": tensor("F32", [2], 0)},
        12,
        "CKPT024",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(DEFECTS))
def test_each_byte_range_defect_names_shard_and_tensor(tmp_path: Path, case: str) -> None:
    header, data_len, code, name = DEFECTS[case]
    path = write_shard(tmp_path / "model.safetensors", header, data_len)
    _, findings = run(tmp_path)
    assert where(findings) == {(code, "model.safetensors", name)}
    assert findings[0].location.file == str(path)
    assert safetensors_rejects(path), "the defect is real: safetensors cannot load it either"


def test_unknown_dtype_is_reported_and_its_range_still_checked(tmp_path: Path) -> None:
    header = {"a": {"dtype": "F7", "shape": [2], "data_offsets": [4, 12]}}
    write_shard(tmp_path / "model.safetensors", header, 12)
    inv, findings = run(tmp_path)
    assert where(findings) == {
        ("CKPT010", "model.safetensors", "a"),
        ("CKPT023", "model.safetensors", "a"),
    }
    assert "a" in inv.tensors


def test_a_systematically_corrupt_shard_gives_a_short_report(tmp_path: Path) -> None:
    header = {f"t{i:03d}": tensor("F32", [1], 8 * i) for i in range(200)}
    write_shard(tmp_path / "model.safetensors", header, 8 * 200)
    _, findings = run(tmp_path)
    holes = only(findings, "CKPT023")
    assert len(holes) == 21
    assert any("179 more" in f.message for f in holes)


# ---- sharded checkpoints ----------------------------------------------------------------


def make_sharded(root: Path, shards: int = 3, per_shard: int = 2) -> dict[str, str]:
    """Real shards written by safetensors, plus a correct index; returns the weight map."""
    weight_map: dict[str, str] = {}
    total = 0
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        tensors = {f"layers.{s}.w{i}": np.zeros((2, 3), np.float32) for i in range(per_shard)}
        save_file(tensors, str(root / name))
        weight_map.update(dict.fromkeys(tensors, name))
        total += 24 * per_shard
    write_index(root, weight_map, total)
    return weight_map


def write_index(root: Path, weight_map: dict[str, str], total: Any = None) -> None:
    index: dict[str, Any] = {"weight_map": weight_map}
    if total is not None:
        index["metadata"] = {"total_size": total}
    (root / INDEX).write_text(json.dumps(index))


SHARD1 = "model-00001-of-00003.safetensors"
SHARD2 = "model-00002-of-00003.safetensors"
SHARD3 = "model-00003-of-00003.safetensors"


def test_clean_sharded_checkpoint(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    inv, findings = run(tmp_path)
    assert findings == []
    assert list(inv.shards) == [SHARD1, SHARD2, SHARD3]
    assert inv.tensor_count == 6
    assert inv.index is not None and inv.index.total_size == 144


def test_index_names_a_missing_shard(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    (tmp_path / SHARD2).unlink()
    inv, findings = run(tmp_path)
    assert where(findings) == {("CKPT032", SHARD2, None)}
    assert not inv.shards[SHARD2].readable
    assert inv.tensor_count == len(weight_map) - 2


def test_index_maps_a_tensor_to_the_wrong_shard(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    weight_map["layers.0.w0"] = SHARD2
    write_index(tmp_path, weight_map, 144)
    _, findings = run(tmp_path)
    assert where(findings) == {
        ("CKPT033", SHARD2, "layers.0.w0"),
        ("CKPT034", SHARD1, "layers.0.w0"),
    }
    assert "it is in " + SHARD1 in only(findings, "CKPT033")[0].message


def test_tensor_missing_from_the_index(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    del weight_map["layers.2.w1"]
    write_index(tmp_path, weight_map, 144)
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT034", SHARD3, "layers.2.w1")}


def test_index_entry_that_no_shard_has(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    weight_map["lm_head.weight"] = SHARD3
    write_index(tmp_path, weight_map, 144)
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT033", SHARD3, "lm_head.weight")}
    assert "no shard has it" in findings[0].message


def test_tensor_in_two_shards(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    both = {
        "layers.1.w0": np.zeros((2, 3), np.float32),
        "layers.1.w1": np.zeros((2, 3), np.float32),
    }
    save_file({**both, "layers.0.w0": np.zeros((2, 3), np.float32)}, str(tmp_path / SHARD2))
    _, findings = run(tmp_path)
    assert ("CKPT035", SHARD2, "layers.0.w0") in where(findings)
    assert ("CKPT034", SHARD2, "layers.0.w0") in where(findings)
    assert only(findings, "CKPT035")[0].message == f"also in {SHARD1}"


def test_total_size_disagrees(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    write_index(tmp_path, weight_map, 1000)
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT036", INDEX, "metadata.total_size")}
    assert findings[0].severity is Severity.WARNING
    assert "1000" in findings[0].message and "144" in findings[0].message


def test_total_size_not_an_integer(tmp_path: Path) -> None:
    weight_map = make_sharded(tmp_path)
    write_index(tmp_path, weight_map, "144")
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT037", INDEX, "metadata.total_size")}


def test_shard_the_index_does_not_name(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    save_file({"x": np.zeros(1, np.float32)}, str(tmp_path / "extra.safetensors"))
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT038", "extra.safetensors", None)}
    assert findings[0].severity is Severity.WARNING


def test_model_safetensors_beside_an_index_wins(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    save_file({"x": np.zeros(1, np.float32)}, str(tmp_path / "model.safetensors"))
    inv, findings = run(tmp_path)
    assert list(inv.shards) == ["model.safetensors"]
    assert {(c, n) for c, n, _ in where(findings)} == {
        ("CKPT038", n) for n in (SHARD1, SHARD2, SHARD3, INDEX)
    }


def test_broken_index_still_checks_every_shard(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / INDEX).write_text('{"weight_map": {')
    write_shard(tmp_path / SHARD3, {"a": tensor("F32", [2], 4)}, 12)  # hole
    inv, findings = run(tmp_path)
    assert where(findings) == {("CKPT030", INDEX, None), ("CKPT023", SHARD3, "a")}
    assert inv.tensor_count == 5


def test_weight_map_of_the_wrong_shape(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / INDEX).write_text(json.dumps({"weight_map": {"a": 1}}))
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT031", INDEX, "weight_map")}


def test_shards_without_an_index(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / INDEX).unlink()
    inv, findings = run(tmp_path)
    assert where(findings) == {("CKPT041", tmp_path.name, None)}
    assert inv.tensor_count == 6


def test_index_naming_a_shard_outside_the_checkpoint(tmp_path: Path) -> None:
    root = tmp_path / "ckpt"
    root.mkdir()
    weight_map = make_sharded(root)
    save_file({"evil": np.zeros(1, np.float32)}, str(tmp_path / "evil.safetensors"))
    weight_map["evil"] = "../evil.safetensors"
    write_index(root, weight_map)
    inv, findings = run(root)
    assert ("CKPT032", "evil.safetensors", None) in where(findings)
    assert "evil" not in inv.tensors


def test_one_corrupt_shard_does_not_hide_the_others(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    raw = (tmp_path / SHARD1).read_bytes()
    (tmp_path / SHARD1).write_bytes(raw[:20])  # truncated download: header cut short
    write_shard(tmp_path / SHARD3, {"layers.2.w0": tensor("F32", [2, 3], 0, nbytes=20),
                                    "layers.2.w1": tensor("F32", [2, 3], 20)})  # fmt: skip
    inv, findings = run(tmp_path)
    assert where(findings) == {
        ("CKPT002", SHARD1, None),
        ("CKPT020", SHARD3, "layers.2.w0"),
    }
    assert len(findings) == 2  # each reported once
    assert not inv.shards[SHARD1].readable
    assert {"layers.1.w0", "layers.1.w1", "layers.2.w0"} <= set(inv.tensors)


def test_inventory_from_fetched_headers_reports_like_a_local_read() -> None:
    """The remote path: bytes come from range requests, the checks are the same."""
    good = {"a": tensor("F32", [2], 0), "b": tensor("F32", [2], 12)}  # hole before b
    raw = json.dumps(good).encode()
    files = {
        "s1.safetensors": struct.pack("<Q", len(raw)) + raw + bytes(20),
        "s2.safetensors": struct.pack("<Q", 10**6) + b"{}",  # truncated
    }
    shards = []
    for name, image in files.items():

        def fetch(offset: int, length: int, image: bytes = image) -> bytes:
            return image[offset : offset + length]

        url = f"https://hub/m/resolve/main/{name}"
        result = fetch_header(fetch, len(image), source=url, shard=name)
        shards.append(shard_from_header(name, url, len(image), result))
    index = IndexInfo("index", {"a": "s1.safetensors", "b": "s1.safetensors"})
    inv = CheckpointInventory.build("hub:m", shards, index)
    findings = integrity_mod.check_inventory(inv)
    assert where(findings) == {
        ("CKPT023", "s1.safetensors", "b"),
        ("CKPT002", "s2.safetensors", None),
    }
    assert len(findings) == 2


def test_shard_that_cannot_be_opened(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / SHARD2).unlink()
    (tmp_path / SHARD2).mkdir()
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT039", SHARD2, None)}


# ---- configs and unusable directories ---------------------------------------------------


def test_malformed_configs_are_findings(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / "config.json").write_text("{'not': json}")
    (tmp_path / "hf_quant_config.json").write_text("[]")
    inv, findings = run(tmp_path)
    assert where(findings) == {
        ("CKPT040", "config.json", None),
        ("CKPT040", "hf_quant_config.json", None),
    }
    assert inv.configs == {}


def test_configs_are_loaded(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    quant = {"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "NVFP4"}}
    (tmp_path / "hf_quant_config.json").write_text(json.dumps(quant))
    inv, _ = run(tmp_path)
    assert inv.configs == {"hf_quant_config.json": quant}


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_unusable_checkpoint_path_is_an_input_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "ckpt"
    if kind == "empty":
        path.mkdir()
        (path / "config.json").write_text("{}")
    elif kind == "file":
        path.write_text("x")
    with pytest.raises(CheckpointError) as err:
        run(path)
    assert err.value.exit_code == EXIT_INPUT
    text = str(err.value)
    assert str(path) in text
    assert err.value.fix


def test_code_table_is_complete_and_well_formed() -> None:
    assert all(re.fullmatch(r"CKPT\d{3}", code) for code in CODES)
    assert list(CODES) == sorted(CODES)
    assert all(meaning and "\n" not in meaning for meaning in CODES.values())
    tested = {code for _, _, code, _ in DEFECTS.values()}
    tested |= {"CKPT002", "CKPT010", "CKPT030", "CKPT031", "CKPT032", "CKPT033", "CKPT034"}
    tested |= {"CKPT035", "CKPT036", "CKPT037", "CKPT038", "CKPT039", "CKPT040", "CKPT041"}
    assert tested <= set(CODES)


def test_shard_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    make_sharded(tmp_path)
    (tmp_path / SHARD2).unlink()
    os.mkfifo(tmp_path / SHARD2)
    _, findings = run(tmp_path)
    assert where(findings) == {("CKPT039", SHARD2, None)}
    assert "is a FIFO (named pipe), not a file" in findings[0].message


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdef"), max_size=4, unique=True), min_size=1, max_size=3),
    st.none() | st.dictionaries(st.sampled_from("abcdefg"), st.sampled_from(["s0", "s1", "s3"])),
    st.booleans(),
)
def test_fast_index_check_agrees_with_the_full_one(
    shards: list[list[str]], weight_map: dict[str, str] | None, consistent: bool
) -> None:
    """The shortcut for consistent checkpoints may only skip what the full check clears."""
    infos = [
        ShardInfo(
            f"s{i}",
            f"s{i}",
            8,
            tensors=[TensorInfo("U8", (), ByteRange(0, 0), n, f"s{i}") for n in ns],
        )
        for i, ns in enumerate(shards)
    ]
    if consistent and weight_map is not None:
        weight_map = {n: f"s{i}" for i, ns in enumerate(shards) for n in ns}
    index = None if weight_map is None else IndexInfo("index", weight_map)
    inv = CheckpointInventory.build("root", infos, index)
    fast = integrity_mod.check_index(inv)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(integrity_mod, "_index_agrees", lambda *_: False)
        assert fast == integrity_mod.check_index(inv)
