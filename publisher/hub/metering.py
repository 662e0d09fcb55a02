"""Counting the bytes an LFS upload reads, to show progress and report what was sent."""

from __future__ import annotations

import importlib.util
import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.hub.push_types import Advance

if TYPE_CHECKING:
    pass


def xet_in_use() -> bool:
    """Whether huggingface_hub will upload through Xet (then it streams files itself)."""
    from huggingface_hub import constants

    return not constants.HF_HUB_DISABLE_XET and importlib.util.find_spec("hf_xet") is not None


class Meter:
    """Counts bytes read from files by LFS uploads, while enabled."""

    def __init__(self) -> None:
        self.bytes = 0
        self.enabled = False
        self.advance: Advance = lambda n: None
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.enabled and n:
            with self._lock:
                self.bytes += n
            self.advance(n)


class MeteredFile(io.BufferedReader):
    """A file whose reads are counted (the client uploads LFS objects by reading it)."""

    def __init__(self, path: Path, meter: Meter):
        super().__init__(io.FileIO(path, "rb"), buffer_size=1024 * 1024)
        self._meter = meter

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self._meter.add(len(data))
        return data
