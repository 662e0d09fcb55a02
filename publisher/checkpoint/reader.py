"""Read checkpoint headers, the shard index and configs into a `CheckpointInventory`.

Getting bytes is kept apart from parsing: `fetch_header` takes any `fetch(offset, length)`
callable, so a local file (`os.pread`) and a remote one (HTTP range requests) share the same
bounded, two-read logic. Only headers are read, never tensor data.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import stat
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import msgspec

from publisher.checkpoint.header import (
    DEFAULT_MAX_HEADER_BYTES,
    ParsedHeader,
    brief_json,
    gc_paused,
    header_span,
    parse_header_json,
)
from publisher.checkpoint.inventory import CheckpointInventory, IndexInfo, ShardInfo
from publisher.errors import CheckpointError
from publisher.filekind import not_regular
from publisher.findings import Finding, Location, Severity

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
CONFIG_FILES = ("config.json", "hf_quant_config.json")
MAX_JSON_FILE_BYTES = 64 * 1024 * 1024

READER_CODES: dict[str, str] = {
    "CKPT030": "model.safetensors.index.json is not valid JSON or not an object",
    "CKPT031": "index `weight_map` is missing or not an object of tensor name to shard file",
    "CKPT032": "index names a shard file that does not exist or lies outside the checkpoint",
    "CKPT037": "index `metadata.total_size` is not a non-negative integer",
    "CKPT038": "a safetensors file or index in the directory that loaders will not use",
    "CKPT039": "a shard file exists but cannot be read",
    "CKPT040": "config.json or hf_quant_config.json is not valid JSON or not an object",
    "CKPT041": "several safetensors files but no model.safetensors.index.json to tie them",
}

Fetch = Callable[[int, int], bytes]
"""`fetch(offset, length)` returns up to `length` bytes of the file starting at `offset`."""

HeaderResult = ParsedHeader | list[Finding]


def _finding(
    code: str,
    message: str,
    file: str,
    pointer: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(code, message, Location(file=file, pointer=pointer), severity)


def fetch_header(
    fetch: Fetch,
    file_size: int,
    *,
    source: str,
    shard: str | None = None,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    names: Mapping[str, str] | None = None,
) -> HeaderResult:
    """Read and parse a header with two fetches: the 8-byte length, then the header itself.
    The length is checked against the file size and the cap before the second fetch.
    `names`: see `parse_header`."""
    first8 = fetch(0, 8)
    span = header_span(first8, file_size, source=source, max_header_bytes=max_header_bytes)
    if isinstance(span, Finding):
        return [span]
    body = fetch(8, span)  # parsed as it is: no copy of a 3 MB header with its length field
    return parse_header_json(body, span, file_size, source=source, shard=shard, names=names)


def read_header(
    path: str | os.PathLike[str],
    *,
    shard: str | None = None,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    names: Mapping[str, str] | None = None,
) -> HeaderResult:
    """Parse a local file's header with at most two reads. Raises OSError if it cannot be
    opened; everything wrong with its contents comes back as findings."""
    source = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(source, flags)  # O_NONBLOCK: a FIFO named like a shard must not hang us
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", source)
        size = st.st_size

        def fetch(offset: int, length: int) -> bytes:
            if hasattr(os, "pread"):
                return os.pread(fd, length, offset)
            os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread
            return os.read(fd, length)

        return fetch_header(
            fetch, size, source=source, shard=shard, max_header_bytes=max_header_bytes, names=names
        )
    finally:
        os.close(fd)


def shard_from_header(name: str, source: str, file_size: int, result: HeaderResult) -> ShardInfo:
    """The `ShardInfo` for a header result (its findings included); an unreadable header
    gives `readable=False`. Use it for remote reads too."""
    if isinstance(result, list):
        return ShardInfo(name, source, file_size, readable=False, findings=list(result))
    return ShardInfo(
        name=name,
        source=source,
        file_size=result.file_size,
        header_length=result.header_length,
        metadata=result.metadata,
        tensors=result.tensors,
        invalid_names=result.invalid_names,
        findings=list(result.findings),
    )


def unreadable_shard(name: str, source: str, finding: Finding) -> ShardInfo:
    """A shard that could not be fetched at all (missing, refused, not a file)."""
    return ShardInfo(name, source, 0, readable=False, findings=[finding])


def _json_object(data: bytes, source: str, code: str, what: str) -> dict[str, Any] | Finding:
    try:
        with gc_paused():
            obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return _finding(code, f"{what} is not valid JSON: {str(exc)[:160]}", source)
    if not isinstance(obj, dict):
        return _finding(code, f"{what} is a JSON {type(obj).__name__}, not an object", source)
    return obj


def parse_config(data: bytes, *, source: str) -> dict[str, Any] | Finding:
    """A config file's JSON object, or the CKPT040 finding that says why not."""
    return _json_object(data, source, "CKPT040", PurePosixPath(source).name or source)


@functools.lru_cache(maxsize=8)
def _index_decoder(shards: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    """A decoder for the index as its writers make it: a weight map, any metadata, nothing else
    (nothing may be skipped unchecked). With the shard files known, each weight-map value is
    decoded as one of them: 124,000 references to five strings instead of 124,000 strings."""
    shard_name: Any = Literal[shards] if shards else str
    fields: list[tuple[str, Any, Any]] = [
        ("weight_map", dict[str, shard_name], msgspec.NODEFAULT),
        ("metadata", msgspec.Raw, msgspec.Raw(b"null")),
    ]
    index_file = msgspec.defstruct("IndexFile", fields, forbid_unknown_fields=True)
    return msgspec.json.Decoder(index_file)


def _sound_index(data: bytes, shards: tuple[str, ...]) -> dict[str, Any] | None:
    """The index's `weight_map` and `metadata` decoded in C (a 13 MB index of 124,000
    names: twice as fast as `json.loads`), when it is a plain object with a string-to-string
    weight map (naming only `shards`, when given); else None, and `_json_object` reads it and
    says what is wrong. Metadata is parsed by `json` itself, so numbers such as `total_size`
    read exactly as before."""
    if b"\\u" in data:
        return None  # escapes: the strict parser checks them
    try:
        index = _index_decoder(shards).decode(data)
        metadata = json.loads(bytes(index.metadata))
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    return {"weight_map": index.weight_map, "metadata": metadata}


def parse_index(
    data: bytes, *, source: str, shards: Collection[str] = ()
) -> tuple[IndexInfo | None, list[Finding]]:
    """The index's weight map and total size; None when the index is unusable. `shards`: the
    safetensors files beside it, if known (their names are then shared, not copied)."""
    with gc_paused():
        sound = _sound_index(data, tuple(sorted(shards)))
    obj = sound if sound is not None else _json_object(data, source, "CKPT030", INDEX_FILE)
    if isinstance(obj, Finding):
        return None, [obj]
    weight_map = obj.get("weight_map")
    # JSON object keys are always strings; only the values need checking (in C, via map).
    if not isinstance(weight_map, dict) or not set(map(type, weight_map.values())) <= {str}:
        msg = "`weight_map` must be an object mapping tensor names to shard file names"
        return None, [_finding("CKPT031", msg, source, "weight_map")]
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    total, findings = _total_size(metadata, source)
    return IndexInfo(source, weight_map, total, metadata), findings


def _total_size(metadata: dict[str, Any], source: str) -> tuple[int | None, list[Finding]]:
    if "total_size" not in metadata:
        return None, []
    value = metadata["total_size"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is int and value >= 0:
        return value, []
    msg = f"`metadata.total_size` must be a non-negative integer, got {brief_json(value, 40)}"
    return None, [_finding("CKPT037", msg, source, "metadata.total_size", Severity.WARNING)]


def _safe_shard_name(name: str) -> bool:
    """A plain relative path: no '..', no absolute path, no backslash, no NUL or other
    control character (a name read from a file is checked before it reaches the system)."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and name.isprintable()
        and not path.is_absolute()
        and ".." not in path.parts
        and "\\" not in name
    )


def _leaves(path: Path, root: Path) -> str | None:
    """Where a file leads when a symbolic link takes it out of the checkpoint folder, else
    None. Such files are never read: a checkpoint from elsewhere could otherwise make a check
    read (and quote) any file of the machine, e.g. the first 8 bytes of an SSH key."""
    try:
        real, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a link loop
        return str(path)
    return None if real == base or base in real.parents else str(real)


def _read_small(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(MAX_JSON_FILE_BYTES + 1)


def _load_configs(root: Path, inv: CheckpointInventory, findings: list[Finding]) -> None:
    for name in CONFIG_FILES:
        path = root / name
        if not os.path.lexists(path):
            continue
        target = _leaves(path, root)
        if target is not None:
            msg = f"is a link to {target}, outside the checkpoint; not read"
            findings.append(_finding("CKPT040", msg, str(path)))
            continue
        what = not_regular(path)
        if what is not None:
            msg = f"is {what}, not a file; not read"
            findings.append(_finding("CKPT040", msg, str(path)))
            continue
        try:
            data = _read_small(path)
        except OSError as exc:
            findings.append(_finding("CKPT040", f"cannot read: {exc.strerror or exc}", str(path)))
            continue
        if len(data) > MAX_JSON_FILE_BYTES:
            findings.append(_finding("CKPT040", "file is over 64 MB; not a config", str(path)))
            continue
        obj = parse_config(data, source=str(path))
        if isinstance(obj, Finding):
            findings.append(obj)
        else:
            inv.configs[name] = obj


def _read_shard(
    root: Path, name: str, max_header_bytes: int, names: Mapping[str, str] | None = None
) -> ShardInfo:
    path = root / name
    source = str(path)
    if not _safe_shard_name(name):
        msg = f"shard {name!r} is not a plain relative path inside the checkpoint; not read"
        return unreadable_shard(name, source, _finding("CKPT032", msg, source))
    target = _leaves(path, root)
    if target is not None and os.path.lexists(path):
        msg = f"shard is a link to {target}, outside the checkpoint; not read"
        return unreadable_shard(name, source, _finding("CKPT032", msg, source))
    what = not_regular(path)
    if what is not None:
        msg = f"shard is {what}, not a file; not read"
        return unreadable_shard(name, source, _finding("CKPT039", msg, source))
    try:
        result = read_header(path, shard=name, max_header_bytes=max_header_bytes, names=names)
    except FileNotFoundError:
        msg = "shard named by the index does not exist"
        return unreadable_shard(name, source, _finding("CKPT032", msg, source))
    except OSError as exc:
        msg = f"cannot read shard: {exc.strerror or exc}"
        return unreadable_shard(name, source, _finding("CKPT039", msg, source))
    size = result.file_size if isinstance(result, ParsedHeader) else _size_or_zero(path)
    return shard_from_header(name, source, size, result)


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_index(path: Path, shards: Collection[str] = ()) -> tuple[IndexInfo | None, list[Finding]]:
    target = _leaves(path, path.parent)
    if target is not None:
        msg = f"is a link to {target}, outside the checkpoint; not read"
        return None, [_finding("CKPT030", msg, str(path))]
    what = not_regular(path)
    if what is not None:
        return None, [_finding("CKPT030", f"is {what}, not a file; not read", str(path))]
    try:
        data = _read_small(path)
    except OSError as exc:
        return None, [_finding("CKPT030", f"cannot read: {exc.strerror or exc}", str(path))]
    if len(data) > MAX_JSON_FILE_BYTES:
        return None, [_finding("CKPT030", "index is over 64 MB; not read", str(path))]
    return parse_index(data, source=str(path), shards=shards)


def _stray(names: list[str], root: Path, why: str) -> list[Finding]:
    return [
        _finding("CKPT038", f"{name} {why}", str(root / name), None, Severity.WARNING)
        for name in names
    ]


def _layout(root: Path, findings: list[Finding]) -> tuple[list[str], IndexInfo | None]:
    """Which shard files to read, and the parsed index if it is the layout in use."""
    # Everything named like a shard, a FIFO or a dangling link too: reading it names what it is.
    present = sorted(p.name for p in root.glob("*.safetensors"))
    index_path = root / INDEX_FILE
    if SINGLE_FILE in present:
        others = [n for n in present if n != SINGLE_FILE]
        if index_path.exists():
            others.append(INDEX_FILE)
        findings += _stray(others, root, f"is ignored: loaders read {SINGLE_FILE} when it exists")
        return [SINGLE_FILE], None
    if os.path.lexists(index_path):
        index, index_findings = _read_index(index_path, present)
        findings += index_findings
        if index is not None:
            listed = index.shard_names()
            unlisted = sorted(set(present) - set(listed))
            findings += _stray(unlisted, root, f"is not named by {INDEX_FILE}")
            return listed, index
        return present, None
    if present:
        msg = f"{len(present)} safetensors files but no {INDEX_FILE}: loaders cannot find them"
        findings.append(_finding("CKPT041", msg, str(root)))
        return present, None
    raise CheckpointError(
        f"no {SINGLE_FILE}, {INDEX_FILE} or other .safetensors file",
        where=str(root),
        fix="point at the directory the export wrote (it holds model.safetensors or its"
        " shards and index), or export with safetensors serialization",
    )


def _root_of(path: str | os.PathLike[str]) -> Path:
    root = Path(path)
    try:
        exists = root.exists()
    except (OSError, ValueError) as error:  # e.g. a name too long for the file system
        reason = getattr(error, "strerror", None) or "not a usable path"
        raise CheckpointError(f"cannot use this path: {reason}", where=str(root)) from None
    if not exists:
        raise CheckpointError(
            "checkpoint directory does not exist",
            where=str(root),
            fix="check the path; it should be the directory holding config.json and the"
            " .safetensors files",
        )
    if not root.is_dir():
        raise CheckpointError(
            "is a file, not a checkpoint directory",
            where=str(root),
            fix="pass the directory that holds the .safetensors files",
        )
    return root


def read_checkpoint(
    path: str | os.PathLike[str], *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
) -> tuple[CheckpointInventory, list[Finding]]:
    """Inventory a local checkpoint directory from its headers, index and configs.

    Returns the inventory and the findings met while reading (unparseable headers, broken
    JSON, missing shards; also kept in the inventory). A corrupt shard never stops the others
    from being read. Raises `CheckpointError` when the directory is missing or holds no
    safetensors at all.
    """
    root = _root_of(path)
    findings: list[Finding] = []
    with gc_paused():
        shard_names, index = _layout(root, findings)
        names = index.names() if index is not None else None
        shards = [_read_shard(root, name, max_header_bytes, names) for name in shard_names]
        inv = CheckpointInventory.build(str(root), shards, index)
    _load_configs(root, inv, findings)
    inv.read_findings = findings
    return inv, inv.all_read_findings()
