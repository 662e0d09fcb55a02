"""The local Hub's content-addressed objects: every file's content stored once, named by its
sha256, written through a temporary file so a crash never leaves half an object."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from publisher.hubprotocol import LFS_SIZE_THRESHOLD
from publisher.localhub.records import (
    FileEntry,
    HubStateError,
    git_blob_id,
    is_oid,
    lfs_pointer,
)

_CHUNK = 1024 * 1024


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class ObjectStore:
    """objects/ab/cd/<sha256> under `root`, and tmp/ for uploads in flight (emptied at start)."""

    def __init__(self, root: Path):
        self.objects_dir = Path(root) / "objects"
        self.tmp_dir = Path(root) / "tmp"
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)  # leftovers of a crash
        self.tmp_dir.mkdir()

    def object_path(self, oid: str) -> Path:
        if not is_oid(oid):
            raise HubStateError(400, f"Invalid object id: {oid!r}")
        return self.objects_dir / oid[:2] / oid[2:4] / oid

    def has_object(self, oid: str) -> bool:
        return is_oid(oid) and self.object_path(oid).is_file()

    def object_size(self, oid: str) -> int:
        return self.object_path(oid).stat().st_size

    def put_bytes(self, data: bytes) -> str:
        """Store `data`; return its sha256."""
        oid = hashlib.sha256(data).hexdigest()
        if not self.has_object(oid):
            atomic_write(self.object_path(oid), data)
        return oid

    def put_stream(self, read: Callable[[int], bytes], size: int, oid: str) -> None:
        """Store exactly `size` bytes from `read`; keep them only if their sha256 is `oid`."""
        target = self.object_path(oid)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        try:
            digest = _copy_hashing(read, size, fd)
            if digest != oid:
                raise HubStateError(400, f"Uploaded content has sha256 {digest}, expected {oid}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        finally:
            Path(tmp_name).unlink(missing_ok=True)

    def read_object(self, oid: str) -> bytes:
        return self.object_path(oid).read_bytes()

    def open_object(self, oid: str) -> BinaryIO:
        return self.object_path(oid).open("rb")

    def regular_entry(self, path: str, data: bytes) -> FileEntry:
        """Store an inline (non-LFS) file; refuse one that should have gone through LFS."""
        if len(data) >= LFS_SIZE_THRESHOLD:
            raise HubStateError(
                400,
                f"Your push was rejected because it contains files larger than 10 MiB: {path}. "
                "Please use LFS for large files.",
            )
        return FileEntry(path, len(data), self.put_bytes(data), git_blob_id(data), lfs=False)

    def lfs_entry(self, path: str, oid: str, size: int | None = None) -> FileEntry:
        """The entry of an already uploaded LFS object; refuses a missing or wrong-sized one."""
        if not self.has_object(oid):
            raise HubStateError(400, f"LFS object {oid} for {path} was never uploaded")
        actual = self.object_size(oid)
        if size is not None and size != actual:
            raise HubStateError(400, f"LFS object {oid} has {actual} bytes, not {size}")
        return FileEntry(path, actual, oid, git_blob_id(lfs_pointer(oid, actual)), lfs=True)


def _copy_hashing(read: Callable[[int], bytes], size: int, fd: int) -> str:
    """Copy `size` bytes from `read` into `fd` (then close it); return their sha256."""
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        remaining = size
        while remaining > 0:
            chunk = read(min(_CHUNK, remaining))
            if not chunk:
                raise HubStateError(400, "Upload ended before Content-Length bytes")
            digest.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()
