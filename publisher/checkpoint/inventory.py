"""Plain data describing a checkpoint's tensors, shards, index and configs. No I/O here.

Byte ranges are the safetensors `data_offsets`: relative to the start of the shard's data
region, which begins at `8 + header_length` in the file (`ShardInfo.data_start`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, sub
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from publisher.findings import Finding

# Bits per element of every dtype safetensors 0.8 knows. F4 and F6 are sub-byte: the header
# shape counts logical elements, and a tensor's element count × bits must fill whole bytes.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}


def expected_nbytes(dtype: str, shape: tuple[int, ...]) -> int | None:
    """Bytes a tensor of this dtype and shape occupies; None for an unknown dtype or a
    sub-byte tensor whose bits do not fill whole bytes."""
    bits = DTYPE_BITS.get(dtype)
    if bits is None:
        return None
    total = math.prod(shape) * bits
    return total // 8 if total % 8 == 0 else None


_OFFSETS = attrgetter("data_offsets")
_NAME = attrgetter("name")
_DTYPE = attrgetter("dtype")

_FIRST = attrgetter("begin")  # of a ByteRange
_SECOND = attrgetter("end")


def _span_total(tensors: Iterable[TensorInfo]) -> int:
    """Bytes the tensors' ranges cover, summed (two C-level sums, no loop per tensor)."""
    offsets = list(map(_OFFSETS, tensors))
    return sum(map(_SECOND, offsets)) - sum(map(_FIRST, offsets))


U64_MAX = 2**64 - 1
Dim = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
"""A shape dimension or a byte offset as the header decoder accepts it. safetensors stores a
u64, but msgspec bounds only fit an i64: a value above 2^63 - 1 (no real file has one) makes
the decoder refuse the header, and the reader then checks it entry by entry."""
if TYPE_CHECKING:
    DtypeName = str
else:  # the decoder accepts only safetensors' dtypes, and shares one string per dtype
    DtypeName = Literal[tuple(DTYPE_BITS)]


class ByteRange(msgspec.Struct, array_like=True, gc=False, frozen=True, forbid_unknown_fields=True):
    """A tensor's `data_offsets`, `[begin, end)` in its shard's data region, decoded from the
    header's array of exactly two numbers. A struct, not a tuple: a tuple carries the
    collector's 16-byte header, and a 124,000-tensor checkpoint then holds 4 MB more."""

    begin: Dim
    end: Dim


class TensorInfo(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """One tensor as its shard's header declares it. Treat as read-only.

    It is also the schema a header entry is decoded into (`header.parse_header`): msgspec
    checks in C that `dtype` is a safetensors dtype and `shape` and `data_offsets`
    non-negative integers and builds these
    objects directly, so a 124,000-tensor header makes no intermediate dicts. `name` and
    `shard` are filled in after decoding. An entry with other keys is not decoded here (nothing
    may be skipped unchecked: the header's reader then reads it entry by entry). (gc=False: it holds no containers that could form
    a cycle, so the collector never needs to visit its 100,000+ instances.)
    """

    dtype: DtypeName
    shape: tuple[Dim, ...]
    data_offsets: ByteRange
    name: str = ""
    shard: str = ""

    @property
    def begin(self) -> int:
        return self.data_offsets.begin

    @property
    def end(self) -> int:
        return self.data_offsets.end

    @property
    def nbytes(self) -> int:
        return self.data_offsets.end - self.data_offsets.begin

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def byte_range(self) -> tuple[int, int]:
        return (self.data_offsets.begin, self.data_offsets.end)


@dataclass(slots=True)
class ShardInfo:
    """One safetensors file. `readable` is False when its header could not be parsed at all;
    then `tensors` is empty. `findings` are the problems met while reading it."""

    name: str
    source: str
    file_size: int
    header_length: int = 0
    metadata: dict[str, str] | None = None
    tensors: list[TensorInfo] = field(default_factory=list)
    invalid_names: list[str] = field(default_factory=list)
    readable: bool = True
    findings: list[Finding] = field(default_factory=list)

    @property
    def data_start(self) -> int:
        return 8 + self.header_length

    @property
    def data_size(self) -> int:
        return self.file_size - self.data_start

    @property
    def tensor_bytes(self) -> int:
        return _span_total(self.tensors)

    def names(self) -> set[str]:
        """Every tensor name the header declares, including entries too broken to use."""
        names = {t.name for t in self.tensors}
        names.update(self.invalid_names)
        return names


class ShardOfTensor(Mapping[str, str]):
    """An index's weight map once the integrity check has found it equal to the shards' own
    contents (every tensor in the shard the index names, nothing more or less): read from the
    tensors, so a 124,000-tensor checkpoint does not keep a second 5 MB table of its names.
    Only tensors of the index's own shards are in it, whatever is added to the inventory
    later (an MTP side file's tensors, say)."""

    __slots__ = ("_shards", "_tensors")

    def __init__(self, tensors: Mapping[str, TensorInfo], shards: Iterable[str]) -> None:
        self._tensors = tensors
        self._shards = frozenset(shards)

    def __getitem__(self, name: str) -> str:
        shard = self._tensors[name].shard
        if shard not in self._shards:
            raise KeyError(name)
        return shard

    def __iter__(self) -> Iterator[str]:
        return compress(self._tensors, self._listed())

    def __len__(self) -> int:
        return sum(self._listed())

    def _listed(self) -> Iterator[bool]:
        """For each tensor in turn: is it in one of the index's shards? (in C)"""
        return map(self._shards.__contains__, map(_SHARD, self._tensors.values()))

    def values(self) -> ValuesView[str]:
        return _ShardNames(self)

    def items(self) -> ItemsView[str, str]:
        return _NamesAndShards(self)


_SHARD = attrgetter("shard")


class _ShardNames(ValuesView[str]):
    """The shard of each tensor, read in C (a view's own iteration looks up name by name)."""

    _mapping: ShardOfTensor

    def __iter__(self) -> Iterator[str]:
        view = self._mapping
        return compress(map(_SHARD, view._tensors.values()), view._listed())


class _NamesAndShards(ItemsView[str, str]):
    _mapping: ShardOfTensor

    def __iter__(self) -> Iterator[tuple[str, str]]:
        view = self._mapping
        pairs = zip(view._tensors, map(_SHARD, view._tensors.values()), strict=True)
        return compress(pairs, view._listed())


@dataclass(slots=True)
class IndexInfo:
    """`model.safetensors.index.json`: which shard holds each tensor, and the total size."""

    source: str
    weight_map: Mapping[str, str]
    total_size: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def shard_names(self) -> list[str]:
        """Shard files the index names, in first-mention order."""
        return list(dict.fromkeys(self.weight_map.values()))

    def names(self) -> dict[str, str]:
        """Each tensor name the index lists, mapped to itself: for readers to keep these very
        string objects instead of a second copy of every name."""
        return dict(zip(self.weight_map, self.weight_map, strict=True))


@dataclass(slots=True)
class CheckpointInventory:
    """Everything known about a checkpoint without reading a single weight.

    `tensors` maps each name to its first occurrence; a name in two shards appears in both
    shards' `tensors` lists (and is a finding). `configs` holds parsed JSON objects by file
    name (`config.json`, `hf_quant_config.json`) for the files that exist and parse.
    Problems met while reading travel with the data (`read_findings` here, `findings` on each
    shard), so whoever read the checkpoint, locally or remotely, the checks report them.
    """

    root: str
    shards: dict[str, ShardInfo] = field(default_factory=dict)
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    index: IndexInfo | None = None
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    read_findings: list[Finding] = field(default_factory=list)

    @property
    def tensor_count(self) -> int:
        return len(self.tensors)

    @property
    def total_bytes(self) -> int:
        """Sum of every distinct tensor's bytes (what the index's `total_size` should say)."""
        return _span_total(self.tensors.values())

    def all_read_findings(self) -> list[Finding]:
        """Every finding met while reading: the checkpoint's, then each shard's."""
        findings = list(self.read_findings)
        for shard in self.shards.values():
            findings += shard.findings
        return findings

    def counts_by_dtype(self) -> dict[str, int]:
        return self.dtype_totals()[0]

    def bytes_by_dtype(self) -> dict[str, int]:
        """Bytes by dtype, in order of first appearance."""
        return self.dtype_totals()[1]

    def dtype_totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """(tensors, bytes) by dtype, in order of first appearance. The (dtype, size) pairs are
        counted in C; a checkpoint has a handful of distinct pairs, however many tensors."""
        tensors = list(self.tensors.values())
        offsets = list(map(_OFFSETS, tensors))
        sizes = map(sub, map(_SECOND, offsets), map(_FIRST, offsets))
        pairs = Counter(zip(map(_DTYPE, tensors), sizes, strict=True))
        counts: dict[str, int] = {}
        totals: dict[str, int] = {}
        for (dtype, size), count in pairs.items():
            counts[dtype] = counts.get(dtype, 0) + count
            totals[dtype] = totals.get(dtype, 0) + size * count
        return counts, totals

    def add_shard(self, shard: ShardInfo) -> None:
        """Record a shard and index its tensors (first occurrence of a name wins)."""
        self.shards[shard.name] = shard
        for t in shard.tensors:
            self.tensors.setdefault(t.name, t)

    @classmethod
    def build(
        cls,
        root: str,
        shards: list[ShardInfo],
        index: IndexInfo | None = None,
        configs: dict[str, dict[str, Any]] | None = None,
        read_findings: list[Finding] | None = None,
    ) -> CheckpointInventory:
        """An inventory of these shards, indexing all their tensors in one pass.
        `read_findings`: problems met reading the index and configs (shards carry their own)."""
        inv = cls(root=root, shards={s.name: s for s in shards}, index=index)
        inv.configs = dict(configs or {})
        inv.read_findings = list(read_findings or [])
        for shard in shards:
            inv.tensors.update(zip(map(_NAME, shard.tensors), shard.tensors, strict=True))
        if len(inv.tensors) != sum(len(s.tensors) for s in shards):
            inv.tensors = {}  # a name in two shards: redo it so the first occurrence wins
            for shard in shards:
                for t in shard.tensors:
                    inv.tensors.setdefault(t.name, t)
        return inv
