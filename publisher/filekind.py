"""What a path is, in words, when it is not the regular file a command expected.

FIFOs, devices, sockets, directories and dangling links must be named, never opened as if
they were files (a FIFO blocks a read, /dev/zero never ends one) nor reported as missing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind_of_mode(mode: int) -> str:
    """A file mode's kind in words ("a regular file", "a FIFO (named pipe)", ...)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((what for test, what in _KINDS if test(mode)), "a special file")


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """None when `path` is a regular file (after links) or does not exist at all; else what
    it is: "a FIFO (named pipe)", "a directory", "a character device", "a dangling symbolic
    link", ..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a dangling symbolic link" if os.path.islink(path) else None
    except (OSError, ValueError) as error:
        return f"unusable ({getattr(error, 'strerror', None) or error})"
    return None if stat.S_ISREG(mode) else kind_of_mode(mode)


def exists_at_all(path: Path) -> bool:
    """Whether anything (even a dangling link) is at `path`."""
    return os.path.lexists(path)
