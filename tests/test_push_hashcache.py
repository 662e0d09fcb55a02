"""The push's hash cache notices every edit, including ones that keep size and mtime."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from publisher.hub.hashcache import HashCache, hash_files


def test_an_edit_that_keeps_size_and_mtime_is_hashed_again(tmp_path: Path) -> None:
    shard = tmp_path / "model.safetensors"
    shard.write_bytes(b"A" * 4096)
    hash_files([shard], HashCache(tmp_path / "cache"))
    before = shard.stat()
    time.sleep(0.05)  # past the file system's timestamp granularity
    with shard.open("r+b") as handle:  # edited in place, as rsync --inplace or an editor does
        handle.write(b"B" * 4096)
    os.utime(shard, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p / rsync -t do
    after = shard.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    digests, stats = hash_files([shard], HashCache(tmp_path / "cache"))

    assert (stats.hashed_files, stats.cached_files) == (1, 0)
    assert digests[shard].sha256 == hashlib.sha256(b"B" * 4096).hexdigest()


def test_an_untouched_file_comes_from_the_cache(tmp_path: Path) -> None:
    shard = tmp_path / "model.safetensors"
    shard.write_bytes(b"A" * 4096)
    hash_files([shard], HashCache(tmp_path / "cache"))

    digests, stats = hash_files([shard], HashCache(tmp_path / "cache"))

    assert (stats.hashed_files, stats.cached_files) == (0, 1)
    assert digests[shard].sha256 == hashlib.sha256(b"A" * 4096).hexdigest()
