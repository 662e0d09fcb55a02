"""Read a checkpoint on the Hub from its headers alone: HTTP range requests, no weights.

One request lists the revision's files with their sizes; config.json, hf_quant_config.json
and the shard index are fetched whole (they are small); every shard's header comes from at
most two range requests, shards in parallel. The first range is sized from the index (how
many tensors the shard holds, names at their average length), at least 64 KiB + 8 bytes, so
it holds the whole header; a second one fetches the rest when it does not. Parsing and
checks are those of the local reader (`fetch_header`, `shard_from_header`), so a remote
checkpoint gives the same inventory and findings as the same files on disk.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from publisher.checkpoint.header import DEFAULT_MAX_HEADER_BYTES, gc_paused
from publisher.checkpoint.inventory import CheckpointInventory, IndexInfo, ShardInfo
from publisher.checkpoint.reader import (
    CONFIG_FILES,
    INDEX_FILE,
    MAX_JSON_FILE_BYTES,
    SINGLE_FILE,
    fetch_header,
    parse_config,
    parse_index,
    shard_from_header,
    unreadable_shard,
)
from publisher.errors import CheckpointError
from publisher.findings import Finding, Location, Severity
from publisher.hub.client import (
    endpoint_url,
    hub_errors,
    repo_snapshot,
    resolve_token,
    to_hub_error,
    use_timeouts,
)

FIRST_RANGE = 64 * 1024 + 8


@dataclass
class RemoteStats:
    """What reading cost, and what was found while reading: `findings` are those of
    `read_checkpoint` (unparseable headers, broken JSON, missing shards), also kept in the
    inventory, so `integrity.check_inventory(inventory)` reports them with the checks."""

    repo_id: str
    revision: str | None
    commit: str | None = None
    requests: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    shard_requests: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def max_requests_per_shard(self) -> int:
        return max(self.shard_requests.values(), default=0)


class _Http:
    """Ranged and whole GETs of one revision's files, counted."""

    def __init__(
        self, endpoint: str, repo_id: str, commit: str, token: str | None, stats: RemoteStats
    ):
        from huggingface_hub import constants
        from huggingface_hub.utils import build_hf_headers

        self.endpoint, self.repo_id, self.commit, self.stats = endpoint, repo_id, commit, stats
        self.headers = build_hf_headers(token=token or False)
        self.timeout = constants.HF_HUB_DOWNLOAD_TIMEOUT
        use_timeouts()  # for the calls that go through the shared session
        self._lock = threading.Lock()

    def url(self, name: str) -> str:
        from huggingface_hub import hf_hub_url

        return hf_hub_url(self.repo_id, name, revision=self.commit, endpoint=self.endpoint)

    def _count(self, name: str, nbytes: int) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.bytes_read += nbytes
            if name in self.stats.shard_requests:
                self.stats.shard_requests[name] += 1

    def get(self, name: str, start: int | None = None, length: int = 0) -> bytes:
        """The file, or `length` bytes of it from `start` (never more, even if the server
        ignores the Range header)."""
        from huggingface_hub.utils import hf_raise_for_status, http_stream_backoff

        headers = dict(self.headers)
        if start is not None:
            headers["Range"] = f"bytes={start}-{start + length - 1}"
        with http_stream_backoff(
            "GET", self.url(name), headers=headers, timeout=self.timeout
        ) as response:
            if response.status_code >= 400:
                response.read()
                self._count(name, 0)
                hf_raise_for_status(response)
            data = _read_range(response, start, length)
        self._count(name, len(data))
        return data


def _read_range(response: Any, start: int | None, length: int) -> bytes:
    """The body of a 206; from a 200 (the server ignored Range and sends the whole file),
    only the bytes asked for, reading no further than their end."""
    if start is None or response.status_code == 206:
        return bytes(response.read())
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= start + length:
            break
    return bytes(data[start : start + length])


class _Prefetch:
    """A `fetch(offset, length)` over a remote file with at most two requests: the first
    range up front, a second for whatever the header needs beyond it."""

    def __init__(self, http: _Http, name: str, size: int, first: int):
        self.http, self.name, self.size = http, name, size
        self.first = min(first, size)
        self.data = b""
        self.requests = 0

    def __call__(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if self.requests == 0 and self.first > 0:
            self.data = self.http.get(self.name, 0, self.first)
            self.requests = 1
        if end > len(self.data) and self.requests == 1 and len(self.data) == self.first:
            self.data += self.http.get(self.name, len(self.data), end - len(self.data))
            self.requests = 2
        return self.data[offset:end]


HEADER_BYTES_PER_TENSOR = 112
"""A header entry beyond its name: `"":{"dtype":"F8_E4M3","shape":[12288,7168],"data_offsets":
[11811160064,11899240448]},` is 87 bytes; the rest is margin (longer shapes, spaces)."""


def _expected_header_sizes(index: IndexInfo, least: int) -> dict[str, int]:
    """How many bytes to ask for first from each shard, from what the index says it holds:
    enough for its header (names at their average length, each entry at its largest usual
    size), so a shard of 2,000 tensors is read in one request, not two. Never less than
    `least` (a short header costs the same round trip)."""
    weight_map = index.weight_map
    if not weight_map:
        return {}
    per_name = sum(map(len, weight_map)) / len(weight_map) + HEADER_BYTES_PER_TENSOR
    return {
        shard: max(least, 8 + 1024 + int(count * per_name))
        for shard, count in Counter(weight_map.values()).items()
    }


def _finding(code: str, message: str, source: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(code, message, Location(file=source), severity)


class _RemoteCheckpoint:
    """The reading of one revision: its file sizes, then configs, index and shard headers."""

    def __init__(self, http: _Http, root: str, sizes: dict[str, int | None], **limits: int):
        self.http, self.root, self.sizes = http, root, sizes
        self.first_range = limits["first_range"]
        self.max_header_bytes = limits["max_header_bytes"]
        self.findings: list[Finding] = []
        self.first_ranges: dict[str, int] = {}  # per shard, when the index tells its size
        self.names: dict[str, str] | None = None  # the index's names, for headers to share

    def source(self, name: str) -> str:
        return f"{self.root}/{name}"

    def read_json(self, name: str) -> bytes | None:
        size = self.sizes.get(name)
        if size is not None and size > MAX_JSON_FILE_BYTES:
            code = "CKPT030" if name == INDEX_FILE else "CKPT040"
            self.findings.append(_finding(code, "file is over 64 MB; not read", self.source(name)))
            return None
        return self.http.get(name)

    def configs(self, pool: ThreadPoolExecutor) -> dict[str, Future[bytes | None]]:
        names = [n for n in CONFIG_FILES if n in self.sizes]
        return {name: pool.submit(self.read_json, name) for name in names}

    def parse_configs(self, futures: dict[str, Future[bytes | None]]) -> dict[str, dict[str, Any]]:
        configs: dict[str, dict[str, Any]] = {}
        for name, future in futures.items():
            data = future.result()
            if data is None:
                continue
            obj = parse_config(data, source=self.source(name))
            if isinstance(obj, Finding):
                self.findings.append(obj)
            else:
                configs[name] = obj
        return configs

    def layout(self) -> tuple[list[str], IndexInfo | None]:
        """Which shards to read (as the local reader decides from a folder's files)."""
        present = sorted(n for n in self.sizes if n.endswith(".safetensors") and "/" not in n)
        if SINGLE_FILE in present:
            others = [n for n in present if n != SINGLE_FILE]
            others += [INDEX_FILE] if INDEX_FILE in self.sizes else []
            self._stray(others, f"is ignored: loaders read {SINGLE_FILE} when it exists")
            return [SINGLE_FILE], None
        if INDEX_FILE in self.sizes:
            index = self._index()
            if index is not None:
                listed = index.shard_names()
                self._stray(sorted(set(present) - set(listed)), f"is not named by {INDEX_FILE}")
                return listed, index
            return present, None
        if present:
            msg = f"{len(present)} safetensors files but no {INDEX_FILE}: loaders cannot find them"
            self.findings.append(_finding("CKPT041", msg, self.root))
            return present, None
        raise CheckpointError(
            f"no {SINGLE_FILE}, {INDEX_FILE} or other .safetensors file", where=self.root
        )

    def _index(self) -> IndexInfo | None:
        data = self.read_json(INDEX_FILE)
        if data is None:
            return None
        shards = [name for name in self.sizes if name.endswith(".safetensors")]
        index, findings = parse_index(data, source=self.source(INDEX_FILE), shards=shards)
        self.findings += findings
        if index is not None:
            self.first_ranges = _expected_header_sizes(index, self.first_range)
            self.names = index.names()
        return index

    def _stray(self, names: list[str], why: str) -> None:
        for name in names:
            source = self.source(name)
            self.findings.append(_finding("CKPT038", f"{name} {why}", source, Severity.WARNING))

    def shard(self, name: str) -> ShardInfo:
        source = self.source(name)
        path = PurePosixPath(name)
        if (
            not name
            or not name.isprintable()
            or path.is_absolute()
            or ".." in path.parts
            or "\\" in name
        ):
            msg = f"shard {name!r} is not a plain relative path inside the checkpoint; not read"
            return unreadable_shard(name, source, _finding("CKPT032", msg, source))
        if name not in self.sizes:
            msg = "shard named by the index does not exist"
            return unreadable_shard(name, source, _finding("CKPT032", msg, source))
        size = self.sizes[name] or 0
        first = min(self.first_ranges.get(name, self.first_range), self.max_header_bytes + 8)
        fetch = _Prefetch(self.http, name, size, first)
        try:
            result = fetch_header(
                fetch,
                size,
                source=source,
                shard=name,
                max_header_bytes=self.max_header_bytes,
                names=self.names,
            )
        except Exception as error:
            return self._unreadable(name, size, error)
        return shard_from_header(name, source, size, result)

    def _unreadable(self, name: str, size: int, error: Exception) -> ShardInfo:
        """A shard the Hub will not serve (e.g. 404) is a finding; a network failure is not."""
        mapped = to_hub_error(error, action=f"reading {name}", repo_id=self.http.repo_id)
        status = getattr(getattr(error, "response", None), "status_code", None)
        if mapped is None or status not in (403, 404, 410, 416):
            raise error
        msg = f"cannot read shard: {mapped.message}"
        shard = unreadable_shard(
            name, self.source(name), _finding("CKPT039", msg, self.source(name))
        )
        shard.file_size = size
        return shard


def read_remote_checkpoint(
    repo_id: str,
    revision: str | None = None,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    max_workers: int = 8,
    first_range: int = FIRST_RANGE,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> tuple[CheckpointInventory, RemoteStats]:
    """Inventory a checkpoint on the Hub from its index, configs and shard headers.

    Downloads no weights: at most two range requests per shard. Returns the inventory and
    a RemoteStats with the request count and the findings met while reading. Raises
    HubError (exit 3) when the Hub or the network fails, CheckpointError (exit 2) when the
    revision holds no safetensors at all.
    """
    started = time.perf_counter()
    token = resolve_token(token)
    stats = RemoteStats(repo_id, revision)
    with hub_errors(f"reading {repo_id}", repo_id=repo_id, token=token):
        snapshot = repo_snapshot(repo_id, revision, token=token, endpoint=endpoint)
        stats.requests, stats.commit = 1, snapshot.commit
        sizes = {path: item.size for path, item in snapshot.files.items()}
        root = f"hf://{repo_id}" + (f"@{revision}" if revision else "")
        http = _Http(endpoint_url(endpoint), repo_id, snapshot.commit, token, stats)
        remote = _RemoteCheckpoint(
            http, root, sizes, first_range=first_range, max_header_bytes=max_header_bytes
        )
        inventory = _read(remote, stats, max_workers)
    stats.findings = inventory.all_read_findings()
    stats.seconds = time.perf_counter() - started
    return inventory, stats


def _read(remote: _RemoteCheckpoint, stats: RemoteStats, max_workers: int) -> CheckpointInventory:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        config_futures = remote.configs(pool)
        names, index = remote.layout()
        stats.shard_requests = dict.fromkeys(names, 0)
        shards = list(pool.map(remote.shard, names))
        configs = remote.parse_configs(config_futures)
    with gc_paused():
        return CheckpointInventory.build(
            remote.root, shards, index, configs, read_findings=remote.findings
        )
