"""File hashes for push, cached so an unchanged file is never read twice.

A file's sha256 (what LFS names it by) and, below the LFS size threshold, its git blob sha1
(what the Hub names a regular file by) are cached by (absolute path, size, mtime_ns, ctime_ns,
device, inode) in one JSON file: `$PUBLISHER_CACHE_DIR`, else `$XDG_CACHE_HOME/publisher`, else
`~/.cache/publisher`. The file is replaced atomically; concurrent runs merge their entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.cachedir import default_cache_dir
from publisher.errors import InputError

CACHE_FILE = "push-hashes-v2.json"  # v2: keyed on ctime and device too
REGULAR_LIMIT = 10 * 1024 * 1024  # files this big are LFS on the Hub: no git sha1 needed
_CHUNK = 8 * 1024 * 1024

Advance = Callable[[int], None]


@dataclass(frozen=True)
class FileDigest:
    """A file's size, sha256 and (for files under 10 MiB) git blob sha1, all hex."""

    size: int
    sha256: str
    git_sha1: str | None = None


@dataclass
class HashStats:
    hashed_files: int = 0
    hashed_bytes: int = 0
    cached_files: int = 0


def digest_bytes(data: bytes) -> FileDigest:
    sha1 = None
    if len(data) < REGULAR_LIMIT:
        sha1 = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return FileDigest(len(data), hashlib.sha256(data).hexdigest(), sha1)


def _signature(st: os.stat_result) -> dict[str, int]:
    """What must not change for a cached digest to hold. mtime alone is not enough: tools
    that preserve mtimes (rsync -t, cp -p, touch -r) edit a file in place without moving it,
    but any write moves ctime, which no unprivileged tool can set back."""
    return {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "dev": st.st_dev,
        "ino": st.st_ino,
    }


def hash_file(path: Path, advance: Advance | None = None) -> tuple[FileDigest, os.stat_result]:
    """Hash a file in one pass; refuse one that changes while it is read."""
    with path.open("rb", buffering=0) as handle:
        before = os.fstat(handle.fileno())
        sha256 = hashlib.sha256()
        sha1 = (
            hashlib.sha1(b"blob %d\0" % before.st_size) if before.st_size < REGULAR_LIMIT else None
        )
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while n := handle.readinto(buffer):
            sha256.update(view[:n])
            if sha1 is not None:
                sha1.update(view[:n])
            if advance is not None:
                advance(n)
        after = os.fstat(handle.fileno())
    if _signature(before) != _signature(after):
        raise InputError("changed while it was being hashed", where=str(path), fix="run again")
    git_sha1 = sha1.hexdigest() if sha1 is not None else None
    return FileDigest(before.st_size, sha256.hexdigest(), git_sha1), after


class HashCache:
    """The on-disk cache of file digests. Thread-safe; `save()` writes it back if it changed."""

    def __init__(self, directory: Path | None = None):
        self.path = (directory or default_cache_dir()) / CACHE_FILE
        self._entries: dict[str, dict[str, Any]] = self._read()
        self._dirty: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data.get("files", {}) if isinstance(data, dict) else {}

    @staticmethod
    def key(path: Path) -> str:
        return str(path.resolve())

    def lookup(self, path: Path, st: os.stat_result) -> FileDigest | None:
        """The cached digest, if the file still has the same size, mtime, ctime, device and
        inode."""
        with self._lock:
            entry = self._entries.get(self.key(path))
        if not entry or any(entry.get(k) != v for k, v in _signature(st).items()):
            return None
        sha1 = entry.get("git_sha1")
        if st.st_size < REGULAR_LIMIT and not sha1:
            return None
        return FileDigest(st.st_size, str(entry["sha256"]), sha1)

    def store(self, path: Path, st: os.stat_result, digest: FileDigest) -> None:
        entry: dict[str, Any] = {**_signature(st), "sha256": digest.sha256}
        if digest.git_sha1:
            entry["git_sha1"] = digest.git_sha1
        with self._lock:
            self._entries[self.key(path)] = entry
            self._dirty[self.key(path)] = entry

    def save(self) -> None:
        """Merge this run's entries into the file on disk and replace it atomically."""
        with self._lock:
            if not self._dirty:
                return
            merged = {k: v for k, v in self._read().items() if os.path.exists(k)}
            merged.update(self._dirty)
            self._dirty = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".hashes-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 2, "files": merged}, handle, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def hash_files(
    paths: Iterable[Path],
    cache: HashCache,
    *,
    advance: Advance | None = None,
    workers: int | None = None,
) -> tuple[dict[Path, FileDigest], HashStats]:
    """Digests of `paths`, from the cache where it is current, else by reading the file.
    `advance(n)` is called with the bytes read (from worker threads)."""
    stats = HashStats()
    digests: dict[Path, FileDigest] = {}
    todo: list[Path] = []
    for path in paths:
        cached = cache.lookup(path, path.stat())
        if cached is None:
            todo.append(path)
        else:
            digests[path] = cached
            stats.cached_files += 1

    def work(path: Path) -> tuple[Path, FileDigest]:
        digest, st = hash_file(path, advance)
        cache.store(path, st, digest)
        return path, digest

    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, digest in pool.map(work, todo):
            digests[path] = digest
            stats.hashed_files += 1
            stats.hashed_bytes += digest.size
    cache.save()
    return digests, stats


def pending_bytes(paths: Iterable[Path], cache: HashCache) -> int:
    """How many bytes `hash_files` will have to read (for a progress bar's total)."""
    total = 0
    for path in paths:
        st = path.stat()
        if cache.lookup(path, st) is None:
            total += st.st_size
    return total
