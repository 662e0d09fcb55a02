"""Integrity checks over a checkpoint inventory: byte ranges, coverage, and the shard index.

Every finding names its shard (`Location.file`) and, where one is involved, the tensor
(`Location.pointer`). `CODES` is the one table of every `CKPT` code this package emits.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from collections.abc import Mapping
from itertools import accumulate, compress, count, repeat
from operator import attrgetter, eq, gt, lt, mul, ne, not_, sub

from publisher.checkpoint.header import (
    DEFAULT_MAX_HEADER_BYTES,
    HEADER_CODES,
    FindingCollector,
    gc_paused,
)
from publisher.checkpoint.inventory import (
    DTYPE_BITS,
    CheckpointInventory,
    ShardInfo,
    ShardOfTensor,
    TensorInfo,
)
from publisher.checkpoint.reader import READER_CODES, read_checkpoint
from publisher.findings import Finding, Severity, sorted_findings

INTEGRITY_CODES: dict[str, str] = {
    "CKPT020": "tensor's byte range length is not element count × dtype size",
    "CKPT021": "tensor's byte range ends past the end of the file",
    "CKPT022": "two tensors' byte ranges overlap",
    "CKPT023": "unused bytes before a tensor: a hole in the data region",
    "CKPT024": "bytes after the last tensor: file size is not 8 + header + data",
    "CKPT033": "index lists a tensor that its shard does not contain",
    "CKPT034": "shard holds a tensor that the index does not map to that shard",
    "CKPT035": "the same tensor name is in more than one shard",
    "CKPT036": "index `metadata.total_size` disagrees with the sum of tensor bytes",
}

_OFFSETS = attrgetter("data_offsets")
_SHAPE = attrgetter("shape")
_DTYPE = attrgetter("dtype")
_NAME = attrgetter("name")
_FIRST = attrgetter("begin")  # of a ByteRange
_SECOND = attrgetter("end")

CODES: dict[str, str] = dict(sorted({**HEADER_CODES, **READER_CODES, **INTEGRITY_CODES}.items()))
"""Every CKPT code → its one-line meaning."""


def _size_problem(t: TensorInfo) -> str | None:
    bits = DTYPE_BITS.get(t.dtype)
    if bits is None:
        return None  # unknown dtype: already CKPT010
    total_bits = math.prod(t.shape) * bits
    got = t.end - t.begin
    if total_bits == got * 8:
        return None
    shape = list(t.shape)
    if total_bits % 8:
        return f"{t.dtype} {shape} is {total_bits} bits, not a whole number of bytes"
    return f"data_offsets span {got} bytes but {t.dtype} {shape} needs {total_bits // 8}"


def _check_tensors(shard: ShardInfo, out: FindingCollector) -> None:
    """Sizes, bounds, overlaps and holes over the tensors sorted by begin (O(n log n)).

    Each rule is evaluated for all tensors at once with C-level maps (a 124,000-tensor
    checkpoint costs milliseconds, not a Python loop per tensor); messages are then built for
    the few tensors a rule flags, in offset order. The cursor before each tensor (the end of
    everything before it) is a running maximum: a tensor starting before it overlaps, one
    starting after it leaves a hole.
    """
    data_size, source = shard.data_size, shard.source
    tensors = shard.tensors
    offsets = list(map(_OFFSETS, tensors))
    begins = list(map(_FIRST, offsets))
    order = sorted(range(len(tensors)), key=begins.__getitem__)
    tensors = list(map(tensors.__getitem__, order))
    begins = list(map(begins.__getitem__, order))
    ends = list(map(_SECOND, map(offsets.__getitem__, order)))
    cursors = list(accumulate(ends, max, initial=0))  # cursors[i]: the cursor before tensor i
    bits = list(map(DTYPE_BITS.get, map(_DTYPE, tensors), repeat(0)))  # 0: unknown dtype
    needed = list(map(mul, map(math.prod, map(_SHAPE, tensors)), bits))
    held = map(mul, map(sub, ends, begins), repeat(8))
    flagged = set(compress(count(), map(ne, needed, held)))
    flagged.difference_update(compress(count(), map(not_, bits)))  # unknown: CKPT010 already
    flagged.update(compress(count(), map(gt, ends, repeat(data_size))))
    flagged.update(compress(count(), map(ne, begins, cursors)))
    for i in sorted(flagged):
        t, begin, end, cursor = tensors[i], begins[i], ends[i], cursors[i]
        if bits[i] and needed[i] != (end - begin) * 8:
            out.add("CKPT020", _size_problem(t) or "size mismatch", source, t.name)
        if end > data_size:
            msg = f"data ends at {end} but the file's data region has only {data_size} bytes"
            out.add("CKPT021", msg, source, t.name)
        if begin < cursor and end > begin:
            owner = tensors[bisect_left(cursors, cursor) - 1].name  # who moved the cursor there
            msg = f"bytes {begin}..{min(end, cursor)} are also part of {owner!r}"
            out.add("CKPT022", msg, source, t.name)
        elif begin > cursor:
            msg = f"{begin - cursor} unused bytes before this tensor (offset {cursor}..{begin})"
            out.add("CKPT023", msg, source, t.name)
    cursor = cursors[-1]
    if data_size > cursor:
        msg = (
            f"{data_size - cursor} bytes after the last tensor: the file is"
            f" {shard.file_size} bytes, 8 + header {shard.header_length} + data {cursor}"
            f" = {shard.data_start + cursor}"
        )
        out.add("CKPT024", msg, source)


def _sound(shard: ShardInfo) -> bool:
    """True when `_check_tensors` would find nothing, decided without sorting: every size is
    element count × dtype size, and the byte ranges tile the data region exactly. They do when
    every range is non-empty, no two begin or end alike, and the begins other than 0 are
    exactly the ends other than the data size (follow the chain from 0: it visits each range
    once and stops at the end of the data; a range off the chain would need an endless run of
    predecessors)."""
    tensors = shard.tensors
    if not tensors:
        return shard.data_size == 0
    offsets = list(map(_OFFSETS, tensors))
    begins = list(map(_FIRST, offsets))
    ends = list(map(_SECOND, offsets))
    bits = list(map(DTYPE_BITS.get, map(_DTYPE, tensors), repeat(0)))
    needed = map(mul, map(math.prod, map(_SHAPE, tensors)), bits)
    held = map(mul, map(sub, ends, begins), repeat(8))
    starts, stops, size = set(begins), set(ends), shard.data_size
    return (
        all(bits)  # an unknown dtype: CKPT010, and no size to check
        and all(map(eq, needed, held))
        and len(starts) == len(stops) == len(tensors)
        and 0 in starts
        and size in stops
        and starts - {0} == stops - {size}
        and all(map(lt, begins, ends))
    )


def check_shard(shard: ShardInfo) -> list[Finding]:
    """Byte-range checks for one shard: sizes, bounds, overlaps, holes, trailing bytes."""
    if not shard.readable or _sound(shard):
        return []
    out = FindingCollector()
    _check_tensors(shard, out)
    return out.result()


def _homes(readable: list[ShardInfo], out: FindingCollector) -> dict[str, str]:
    """Tensor name → first shard declaring it; each later shard declaring it is a CKPT035."""
    home: dict[str, str] = {}
    for shard in readable:
        for name in shard.names():
            first = home.setdefault(name, shard.name)
            if first != shard.name:
                out.add("CKPT035", f"also in {first}", shard.source, name)
    return home


def _index_agrees(inv: CheckpointInventory, readable: list[ShardInfo]) -> bool:
    """Fast test of the common case: every shard readable and sound, no name twice, and the
    index maps exactly these names to exactly these shards (one dict comparison, in C).
    False means: look closer."""
    if len(readable) != len(inv.shards) or any(s.invalid_names for s in readable):
        return False
    declared = sum(len(s.tensors) for s in readable)
    if inv.index is None:
        return declared == len(inv.tensors)
    weight_map = inv.index.weight_map
    if not declared == len(weight_map) == len(inv.tensors):
        return False
    # Names are unique across shards and as many as the index lists: the two maps are equal
    # when the index maps every tensor of every shard to that shard (C-level lookups).
    lookup = weight_map.get
    return all(
        all(map(eq, map(lookup, map(_NAME, shard.tensors)), repeat(shard.name)))
        for shard in readable
    )


def _check_shard_against_index(
    shard: ShardInfo,
    listed: list[str],
    weight_map: Mapping[str, str],
    home: dict[str, str],
    out: FindingCollector,
) -> None:
    present = shard.names()
    for name in listed:
        if name not in present:
            where = home.get(name)
            extra = f"; it is in {where}" if where else "; no shard has it"
            msg = f"index maps this tensor here but the shard lacks it{extra}"
            out.add("CKPT033", msg, shard.source, name)
    for name in present:
        mapped = weight_map.get(name)
        if mapped != shard.name:
            why = "it is not in the index" if mapped is None else f"the index maps it to {mapped}"
            out.add("CKPT034", f"shard holds this tensor but {why}", shard.source, name)


def _check_total_size(inv: CheckpointInventory, out: FindingCollector) -> None:
    index = inv.index
    if index is None or index.total_size is None:
        return
    if not all(s.readable and not s.invalid_names for s in inv.shards.values()):
        return  # cannot sum what could not be read; those shards have their own findings
    actual = inv.total_bytes
    if actual != index.total_size:
        msg = f"says {index.total_size} bytes but the tensors add up to {actual}"
        out.add("CKPT036", msg, index.source, "metadata.total_size", Severity.WARNING)


def check_index(inv: CheckpointInventory) -> list[Finding]:
    """Cross-check shards and index: each tensor in exactly one shard, the one the index
    names, and the index's total size. Without an index only duplicates are checked."""
    out = FindingCollector()
    readable = [s for s in inv.shards.values() if s.readable]
    agrees = _index_agrees(inv, readable)
    if agrees and inv.index is not None:
        # the same map: keep one copy
        inv.index.weight_map = ShardOfTensor(inv.tensors, (s.name for s in readable))
    if not agrees:
        home = _homes(readable, out)
        if inv.index is not None:
            weight_map = inv.index.weight_map
            by_shard: dict[str, list[str]] = {}
            for name, shard_name in weight_map.items():
                by_shard.setdefault(shard_name, []).append(name)
            for shard in readable:
                listed = by_shard.get(shard.name, [])
                _check_shard_against_index(shard, listed, weight_map, home, out)
    _check_total_size(inv, out)
    return out.result()


def check_inventory(inv: CheckpointInventory) -> list[Finding]:
    """Every finding for an inventory already read (locally or remotely): those met while
    reading it, then every integrity check."""
    findings = inv.all_read_findings()
    for shard in inv.shards.values():
        findings += check_shard(shard)
    findings += check_index(inv)
    return findings


def check_checkpoint(
    path: str | os.PathLike[str], *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
) -> tuple[CheckpointInventory, list[Finding]]:
    """Read a checkpoint directory's headers and run every integrity check.

    Returns the inventory and all findings, sorted. Raises `CheckpointError` (exit 2) only
    when there is no checkpoint to read at all.
    """
    with gc_paused():  # no cycles are made; one collection at the end, not hundreds
        inv, _ = read_checkpoint(path, max_header_bytes=max_header_bytes)
        findings = check_inventory(inv)
    return inv, sorted_findings(findings)
