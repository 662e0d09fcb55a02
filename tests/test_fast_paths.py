"""The fast paths decide nothing on their own: a header the C decoder accepts reads exactly as
the entry-by-entry reader reads it, a shard the tiling test passes has no byte-range finding,
and a header the decoder refuses still gets every finding it had before."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.checkpoint import header as header_mod
from publisher.checkpoint.header import FindingCollector, ParsedHeader, parse_header
from publisher.checkpoint.integrity import _check_tensors, _sound, check_shard
from publisher.checkpoint.inventory import ByteRange, ShardInfo, TensorInfo

ENTRY = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
SECOND = {"dtype": "BF16", "shape": [4], "data_offsets": [16, 24]}


def _both(raw: bytes) -> tuple[Any, Any]:
    """parse_header as it runs, and the entry-by-entry reader alone, on the same header."""
    data = struct.pack("<Q", len(raw)) + raw + b"\0" * 24
    fast = parse_header(data, len(data), source="s.safetensors")
    slow = header_mod._parse_text(
        raw.decode("utf-8"), len(raw), len(data), "s.safetensors", "s.safetensors"
    )
    return fast, slow


def _summary(result: Any) -> Any:
    if isinstance(result, list):
        return [(f.code, f.message, f.location.pointer) for f in result]
    assert isinstance(result, ParsedHeader)
    return (
        [(t.name, t.dtype, t.shape, t.byte_range, t.shard) for t in result.tensors],
        result.metadata,
        sorted(result.invalid_names),
        [(f.code, f.message, f.location.pointer) for f in result.findings],
    )


HEADERS = {
    "safetensors' own layout": b'{"__metadata__":{"format":"pt"},"a":'
    + json.dumps(ENTRY).encode()
    + b',"b":'
    + json.dumps(SECOND).encode()
    + b"}",
    "no metadata": json.dumps({"a": ENTRY, "b": SECOND}).encode(),
    "metadata last": json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {"k": "v"}}).encode(),
    "metadata only": b'{"__metadata__":{"format":"pt"}}',
    "metadata, comma, nothing": b'{"__metadata__":{"format":"pt"},}',
    "metadata, no comma, a tensor": b'{"__metadata__":{"format":"pt"}"a":'
    + json.dumps(ENTRY).encode()
    + b"}",
    "metadata not strings": b'{"__metadata__":{"n":1},"a":' + json.dumps(ENTRY).encode() + b"}",
    "metadata twice": b'{"__metadata__":{},"a":'
    + json.dumps(ENTRY).encode()
    + b',"__metadata__":'
    + json.dumps(SECOND).encode()
    + b"}",
    "padding spaces": json.dumps({"a": ENTRY}).encode() + b"        ",
    "form feed after": b'{"__metadata__":{}}\x0c',
    "an extra key in an entry": json.dumps({"a": {**ENTRY, "x": 1}}).encode(),
    "a 5,000-digit number in an extra key": json.dumps({"a": ENTRY}).encode()[:-2]
    + b', "x": '
    + b"9" * 5000
    + b"}}",
    "unknown dtype": json.dumps({"a": {**ENTRY, "dtype": "F7"}}).encode(),
    "float in a shape": json.dumps({"a": {**ENTRY, "shape": [2.0, 2]}}).encode(),
    "bool in a shape": json.dumps({"a": {**ENTRY, "shape": [True, 2]}}).encode(),
    "offset past 2^63": json.dumps({"a": {**ENTRY, "data_offsets": [0, 2**63 + 16]}}).encode(),
    "offset past 2^64": json.dumps({"a": {**ENTRY, "data_offsets": [0, 2**64]}}).encode(),
    "end before begin": json.dumps({"a": {**ENTRY, "data_offsets": [16, 0]}}).encode(),
    "three offsets": json.dumps({"a": {**ENTRY, "data_offsets": [0, 8, 16]}}).encode(),
    "a key missing": json.dumps({"a": {"dtype": "F32", "shape": [4]}}).encode(),
    "the same name twice": b'{"a":'
    + json.dumps(ENTRY).encode()
    + b',"a":'
    + json.dumps(SECOND).encode()
    + b"}",
    "dtype twice in an entry": b'{"a":{"dtype":"BF16","dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}',
    "an escaped name": json.dumps({"a\u00e9": ENTRY}).encode(),
    "a lone surrogate": b'{"a\\ud800":' + json.dumps(ENTRY).encode() + b"}",
    "not UTF-8 in a key": b'{"a":{"dtyp\xb6e":"U8","dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}',
    "NaN": json.dumps({"a": {**ENTRY, "x": float("nan")}}).encode(),
    "a list": b"[1, 2]",
    "trailing garbage": json.dumps({"a": ENTRY}).encode() + b" x",
}


@pytest.mark.parametrize("raw", list(HEADERS.values()), ids=list(HEADERS))
def test_a_header_reads_the_same_with_or_without_the_decoder(raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        data = struct.pack("<Q", len(raw)) + raw
        result = parse_header(data, len(data), source="s.safetensors")
        assert isinstance(result, list) and result[0].code == "CKPT004"
        return
    fast, slow = _both(raw)
    assert _summary(fast) == _summary(slow)


def test_the_decoder_takes_the_usual_header_and_refuses_the_odd_one() -> None:
    """The equality above must not hold only because everything fell back."""
    decode = header_mod._decode_sound
    assert decode(bytearray(HEADERS["safetensors' own layout"]), "s") is not None
    assert decode(bytearray(HEADERS["no metadata"]), "s") is not None
    for odd in ("metadata last", "unknown dtype", "the same name twice", "a lone surrogate"):
        assert decode(bytearray(HEADERS[odd]), "s") is None, odd


def _shard(ranges: list[tuple[int, int]], dtypes: list[str], data_size: int) -> ShardInfo:
    tensors = [
        TensorInfo(
            dtype,
            ((end - begin) // (2 if dtype == "BF16" else 1),),
            ByteRange(begin, end),
            f"t{i}",
            "s",
        )
        for i, ((begin, end), dtype) in enumerate(zip(ranges, dtypes, strict=True))
    ]
    return ShardInfo("s", "s", 8 + 2 + data_size, header_length=2, tensors=tensors)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 12), st.sampled_from(["U8", "BF16", "F7"])),
        max_size=8,
    ),
    st.integers(0, 60),
)
def test_the_tiling_test_passes_only_shards_without_a_byte_range_finding(
    raw: list[tuple[int, int, str]], data_size: int
) -> None:
    shard = _shard([(b, b + n) for b, n, _ in raw], [d for _, _, d in raw], data_size)
    out = FindingCollector()
    _check_tensors(shard, out)
    if _sound(shard):
        assert out.result() == []
    assert check_shard(shard) == out.result()


def test_a_contiguous_shard_is_sound_and_a_gap_is_not() -> None:
    assert _sound(_shard([(0, 4), (4, 10)], ["U8", "BF16"], 10))
    assert not _sound(_shard([(0, 4), (6, 12)], ["U8", "BF16"], 12))
    assert not _sound(_shard([(0, 4), (2, 8)], ["U8", "BF16"], 8))
