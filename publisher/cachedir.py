"""Where publisher keeps its caches: $PUBLISHER_CACHE_DIR, else $XDG_CACHE_HOME/publisher,
else ~/.cache/publisher."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    override = os.environ.get("PUBLISHER_CACHE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "publisher"
