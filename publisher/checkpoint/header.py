"""Parse a safetensors header from bytes: pure, bounded, and never raising on bad input.

A safetensors file is an 8-byte little-endian u64 `n`, then `n` bytes of UTF-8 JSON (the
header), then the data region. Getting the bytes (a local read, an HTTP range request) is the
caller's business: `header_span` says how many bytes to fetch after the first 8, and
`parse_header` turns them into a `ParsedHeader` or the findings that explain why it cannot.
"""

from __future__ import annotations

import gc
import json
import re
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter, le
from typing import Any

import msgspec

from publisher.checkpoint.inventory import DTYPE_BITS, ByteRange, TensorInfo
from publisher.findings import Finding, Location, Severity

SAFETENSORS_MAX_HEADER_BYTES = 100_000_000  # safetensors refuses larger headers
# A header safetensors would refuse is not worth reading: the cap is its limit, so a length
# field of 100 MiB (or 2^63) is refused before a byte of it is allocated or fetched.
DEFAULT_MAX_HEADER_BYTES = SAFETENSORS_MAX_HEADER_BYTES
HUB_MAX_HEADER_BYTES = 25_000_000  # huggingface_hub's metadata parser refuses larger ones
MAX_PER_CODE = 20  # detailed findings per code and file before they are summarised
_U64_MAX = 2**64 - 1
_METADATA_KEY = "__metadata__"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

HEADER_CODES: dict[str, str] = {
    "CKPT001": "file is shorter than the 8-byte header length field",
    "CKPT002": "header length field runs past the end of the file",
    "CKPT003": "header length exceeds the configured cap; the header was not read",
    "CKPT004": "header is not valid UTF-8",
    "CKPT005": "header is not valid JSON (syntax, NaN/Infinity, lone surrogate, huge number)",
    "CKPT006": "header JSON is nested too deeply to parse safely",
    "CKPT007": "header JSON is not an object",
    "CKPT008": "`__metadata__` is not an object of string to string",
    "CKPT009": "tensor entry is not an object with dtype, shape and data_offsets",
    "CKPT010": "tensor dtype is not a safetensors dtype",
    "CKPT011": "tensor shape is not a list of non-negative integers",
    "CKPT012": "tensor data_offsets is not two non-negative integers with begin <= end",
    "CKPT013": "the same key appears twice in one JSON object of the header",
    "CKPT014": "header is larger than safetensors accepts (100 MB): the file will not load",
    "CKPT015": "header is larger than the Hub's metadata parser accepts (25 MB)",
}


class FindingCollector:
    """Gathers findings, keeping at most `limit` per (code, file) and summarising the rest,
    so one systematically corrupt shard cannot bury the report in 100,000 lines."""

    def __init__(self, limit: int = MAX_PER_CODE) -> None:
        self.limit = limit
        self.findings: list[Finding] = []
        self._counts: dict[tuple[str, str | None], int] = {}

    def add(
        self,
        code: str,
        message: str,
        file: str | None,
        pointer: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        key = (code, file)
        seen = self._counts.get(key, 0)
        self._counts[key] = seen + 1
        if seen < self.limit:
            self.findings.append(
                Finding(code, message, Location(file=file, pointer=pointer), severity)
            )

    def result(self) -> list[Finding]:
        """The kept findings plus one summary per (code, file) that overflowed."""
        out = list(self.findings)
        for (code, file), count in self._counts.items():
            if count > self.limit:
                severity = next(f.severity for f in self.findings if f.code == code)
                message = f"{count - self.limit} more with the same problem (not listed)"
                out.append(Finding(code, message, Location(file=file), severity))
        return out


@dataclass(slots=True)
class ParsedHeader:
    """A header that parsed as a JSON object. `findings` lists entry-level defects; entries too
    broken to use are left out of `tensors` and their names kept in `invalid_names`."""

    source: str
    shard: str
    header_length: int
    file_size: int
    metadata: dict[str, str] | None
    tensors: list[TensorInfo]
    invalid_names: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def data_start(self) -> int:
        return 8 + self.header_length

    @property
    def data_size(self) -> int:
        return self.file_size - self.data_start


def _fatal(code: str, message: str, source: str) -> Finding:
    return Finding(code, message, Location(file=source))


def header_span(
    first8: bytes,
    file_size: int,
    *,
    source: str,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> int | Finding:
    """Header length from the first 8 bytes, checked against the file size and the cap before
    anyone allocates it; or the finding that says why it cannot be read."""
    if len(first8) < 8 or file_size < 8:
        size = min(len(first8), file_size)
        return _fatal("CKPT001", f"file is {size} bytes, too short to be safetensors", source)
    (n,) = struct.unpack_from("<Q", first8)
    if 8 + n > file_size:
        return _fatal(
            "CKPT002",
            f"header length field says {n} bytes but the file has only {file_size - 8} after it"
            " (truncated download or not a safetensors file)",
            source,
        )
    if n > max_header_bytes:
        why = (
            f"; safetensors refuses headers over {SAFETENSORS_MAX_HEADER_BYTES} bytes, so the"
            " file will not load"
            if n > SAFETENSORS_MAX_HEADER_BYTES
            else ""
        )
        return _fatal(
            "CKPT003",
            f"header is {n} bytes, over the {max_header_bytes}-byte cap; not read{why}",
            source,
        )
    return int(n)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building 100,000+ small containers triggers the cyclic GC again and again for nothing:
    pausing it halves `json.loads` time on large headers."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _loads(text: str, source: str) -> Any | Finding:
    """json.loads with the stricter rules safetensors' own (serde) parser applies."""
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return obj
    except RecursionError:
        return _fatal("CKPT006", "header JSON is nested too deeply to parse", source)
    except UnicodeEncodeError:
        return _fatal("CKPT005", "header JSON has a lone UTF-16 surrogate escape", source)
    except ValueError as exc:
        return _fatal("CKPT005", f"header is not valid JSON: {_short(exc)}", source)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"


def _find_duplicate(text: str) -> str | None:
    """Slow path, taken only when the count of `"data_offsets"` disagrees with the entries
    (a repeated tensor name or offsets key): the first duplicated key. A repeated `dtype` or
    `shape` inside one entry does not trip the count and goes unreported."""
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        return dup.key
    except (ValueError, RecursionError):
        return None
    return None


def _metadata(value: Any, out: FindingCollector, source: str) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, dict) and all(type(k) is str and type(v) is str for k, v in value.items()):
        return value
    out.add("CKPT008", "`__metadata__` must map strings to strings", source, _METADATA_KEY)
    return None


def _entry_problem(entry: Any) -> tuple[str, str] | None:
    """(code, message) for a malformed tensor entry, or None when it is well formed."""
    if type(entry) is not dict:
        return "CKPT009", "tensor entry is not a JSON object"
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in entry]
    if missing:
        return "CKPT009", f"tensor entry lacks {', '.join(missing)}"
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if type(dtype) is not str:
        return "CKPT010", f"dtype must be a string, got {brief_json(dtype, 40)}"
    if dtype not in DTYPE_BITS:
        return "CKPT010", f"unknown dtype {dtype!r}"
    if type(shape) is not list or any(type(d) is not int or d < 0 or d > _U64_MAX for d in shape):
        return "CKPT011", f"shape must be a list of non-negative integers, got {brief_json(shape)}"
    if (
        type(offsets) is not list
        or len(offsets) != 2
        or any(type(o) is not int or o < 0 for o in offsets)
    ):
        return (
            "CKPT012",
            f"data_offsets must be two non-negative integers, got {brief_json(offsets)}",
        )
    if any(o > _U64_MAX for o in offsets):
        return (
            "CKPT012",
            f"data_offsets {brief_json(offsets)} lie beyond 2^64 - 1 bytes, past the end of any file",
        )
    if offsets[1] < offsets[0]:
        return "CKPT012", f"data_offsets end {offsets[1]} is before begin {offsets[0]}"
    return None


def brief_json(value: Any, limit: int = 60) -> str:
    """Short JSON rendering of a bad value for a message; never raises."""
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"


def _tensors(
    obj: dict[str, Any], shard: str, source: str, out: FindingCollector
) -> tuple[list[TensorInfo], list[str]]:
    """One tight loop for well-formed entries; anything unusual goes to `_triage`. (Tried:
    whole-header `map`/`set` passes. In CPython 3.11 they are twice as slow as this loop.)"""
    tensors: list[TensorInfo] = []
    invalid: list[str] = []
    append = tensors.append
    bits = DTYPE_BITS
    for name, entry in obj.items():
        if name == _METADATA_KEY:
            continue
        try:
            dtype = entry["dtype"]
            shape = entry["shape"]
            begin, end = entry["data_offsets"]
            # `entry` is a dict (other JSON values raise on ["dtype"]) and `dtype in bits`
            # implies a str (an unhashable dtype raises), so neither needs its own test.
            ok = (
                dtype in bits
                and type(shape) is list
                and type(begin) is int
                and type(end) is int
                and 0 <= begin <= end <= _U64_MAX
            )
            if ok:
                for d in shape:
                    if type(d) is not int or d < 0 or d > _U64_MAX:
                        ok = False
                        break
        except (KeyError, TypeError, ValueError, IndexError):
            ok = False
        if ok:
            append(TensorInfo(dtype, tuple(shape), ByteRange(begin, end), name, shard))
            continue
        kept = _triage(name, entry, shard, source, out)
        if kept is None:
            invalid.append(name)
        else:
            append(kept)
    return tensors, invalid


def _triage(
    name: str, entry: Any, shard: str, source: str, out: FindingCollector
) -> TensorInfo | None:
    """Report a malformed entry. An unknown dtype with a sound layout is still returned, so
    byte ranges and the index can be checked; anything worse is not."""
    code, message = _entry_problem(entry) or ("CKPT009", "tensor entry is malformed")
    out.add(code, message, source, name)
    if code != "CKPT010" or type(entry["dtype"]) is not str:
        return None
    if _entry_problem({**entry, "dtype": "U8"}) is not None:
        return None
    begin, end = entry["data_offsets"]
    return TensorInfo(entry["dtype"], tuple(entry["shape"]), ByteRange(begin, end), name, shard)


def _size_warnings(n: int, source: str, out: FindingCollector) -> None:
    if n > SAFETENSORS_MAX_HEADER_BYTES:
        out.add(
            "CKPT014",
            f"header is {n} bytes; safetensors refuses headers over"
            f" {SAFETENSORS_MAX_HEADER_BYTES} bytes, so this file will not load",
            source,
        )
    elif n > HUB_MAX_HEADER_BYTES:
        out.add(
            "CKPT015",
            f"header is {n} bytes; the Hub's safetensors metadata parser stops at"
            f" {HUB_MAX_HEADER_BYTES}, so the Hub will not show this file's parameters",
            source,
            severity=Severity.WARNING,
        )


_DECODE_ENTRIES = msgspec.json.Decoder(dict[str, TensorInfo])
_DECODE_METADATA = msgspec.json.Decoder(dict[str, str])
# `{"__metadata__": {...},` at the start, as safetensors' writer puts it: an object without
# nested braces (the decoder then checks it holds only strings).
_FIRST_ENTRY = re.compile(rb'[ \t\n\r]*"')
_CLOSE = re.compile(rb"[ \t\n\r]*\}[ \t\n\r]*\Z")
_METADATA_FIRST = re.compile(
    rb'[ \t\n\r]*\{[ \t\n\r]*"__metadata__"[ \t\n\r]*:[ \t\n\r]*(\{[^{}]*\})[ \t\n\r]*(,?)'
)
_BEGIN = attrgetter("data_offsets.begin")
_END = attrgetter("data_offsets.end")


def _decode_sound(
    buf: bytearray, shard: str, names: Mapping[str, str] | None = None
) -> tuple[list[TensorInfo], dict[str, str] | None] | None:
    """Decode a header whose every entry is well formed straight into `TensorInfo`s, in C
    (the schema is `TensorInfo` itself); None when anything is off, and the caller then
    parses the text entry by entry to say what (`_parse_text`). Nothing is accepted here that
    `_parse_text` would report: each rule below mirrors one there. `buf` (the header's JSON)
    is the caller's own copy: the comma after `__metadata__` becomes the `{` that opens the
    tensors, so the 3 MB of JSON is never copied again."""
    if b"\\u" in buf:
        return None  # escapes: the strict parser checks them for lone surrogates
    metadata = None
    start = 0
    head = _METADATA_FIRST.match(buf)
    if head is not None:
        if not head[2]:  # no comma: the object must end here
            if _CLOSE.match(buf, head.end()) is None:
                return None
            start = -1
        elif _FIRST_ENTRY.match(buf, head.end()) is None:
            return None  # a comma: a tensor entry must follow
        try:
            metadata = _DECODE_METADATA.decode(head[1])
        except msgspec.DecodeError:
            return None  # not string to string: CKPT008
        if start == 0:
            start = head.start(2)
            buf[start] = ord("{")
    try:  # CKPT005, CKPT009, CKPT010, CKPT011, CKPT012 (types and signs)
        entries = {} if start < 0 else _DECODE_ENTRIES.decode(memoryview(buf)[start:])
    except msgspec.DecodeError:
        return None
    tensors = list(entries.values())
    if (
        _METADATA_KEY in entries  # a second `__metadata__` shaped like a tensor
        or not all(map(le, map(_BEGIN, tensors), map(_END, tensors)))  # CKPT012: begin <= end
        or buf.count(b'"data_offsets"', max(start, 0)) != len(tensors)  # CKPT013: repeated key
    ):
        return None
    # One string per name (the index's, when given) and one tuple per distinct shape (30,720
    # experts share three): 124,000 tensors then hold a quarter less memory.
    canonical = (names or {}).get
    shapes: dict[tuple[int, ...], tuple[int, ...]] = {}
    share = shapes.setdefault
    for name, tensor in entries.items():
        tensor.name = canonical(name, name)
        tensor.shard = shard
        tensor.shape = share(tensor.shape, tensor.shape)
    return tensors, metadata


def parse_header(
    prefix: bytes,
    file_size: int,
    *,
    source: str,
    shard: str | None = None,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    names: Mapping[str, str] | None = None,
) -> ParsedHeader | list[Finding]:
    """Parse the header at the start of `prefix` (the file's first `8 + n` bytes or more).

    Returns a `ParsedHeader` (possibly carrying entry-level findings) when the header is a
    JSON object, else the findings that make it unreadable. Never raises on bad bytes.
    `source` names the file in findings; `shard` is recorded on each tensor (default: source).
    `names` maps tensor names to the string objects to keep for them (the index's keys), so a
    checkpoint's 124,000 names are held once.
    """
    span = header_span(prefix[:8], file_size, source=source, max_header_bytes=max_header_bytes)
    if isinstance(span, Finding):
        return [span]
    view = memoryview(prefix)[8 : 8 + span]
    return parse_header_json(view, span, file_size, source=source, shard=shard, names=names)


def parse_header_json(
    data: bytes | memoryview,
    span: int,
    file_size: int,
    *,
    source: str,
    shard: str | None = None,
    names: Mapping[str, str] | None = None,
) -> ParsedHeader | list[Finding]:
    """`parse_header` for the header's JSON alone: `data`, the `span` bytes after the length
    field (already checked with `header_span`), fetched on their own."""
    if len(data) < span:
        return [_fatal("CKPT002", f"got {len(data)} of {span} header bytes", source)]
    with gc_paused():
        sound = _decode_sound(bytearray(data), shard or source, names)
    if sound is not None:
        out = FindingCollector()
        _size_warnings(span, source, out)
        tensors, metadata = sound
        return ParsedHeader(
            source, shard or source, span, file_size, metadata, tensors, findings=out.result()
        )
    try:
        text = str(data, "utf-8")
    except UnicodeDecodeError as exc:
        return [_fatal("CKPT004", f"header is not valid UTF-8 at byte {8 + exc.start}", source)]
    with gc_paused():
        return _parse_text(text, span, file_size, source, shard or source)


def _parse_text(
    text: str, span: int, file_size: int, source: str, shard: str
) -> ParsedHeader | list[Finding]:
    obj = _loads(text, source)
    if isinstance(obj, Finding):
        return [obj]
    if type(obj) is not dict:
        return [_fatal("CKPT007", f"header JSON is a {type(obj).__name__}, not an object", source)]
    out = FindingCollector()
    _size_warnings(span, source, out)
    tensors, invalid = _tensors(obj, shard, source, out)
    if text.count('"data_offsets"') != len(tensors) + len(invalid):
        dup = _find_duplicate(text)
        if dup is not None:
            where = "the header" if dup in obj else "a tensor entry"
            pointer = dup if dup in obj else None
            out.add("CKPT013", f"key {dup!r} appears twice in {where}", source, pointer)
    metadata = _metadata(obj.get(_METADATA_KEY), out, source)
    return ParsedHeader(
        source=source,
        shard=shard,
        header_length=span,
        file_size=file_size,
        metadata=metadata,
        tensors=tensors,
        invalid_names=invalid,
        findings=out.result(),
    )
