"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from publisher.errors import EXIT_FINDINGS, EXIT_OK
from publisher.findings import Finding, has_errors

# The renderers live in publisher.report (the library and `publisher release` use them too);
# the command modules import them from here.
from publisher.report import (
    Format,
    printable,
    printable_findings,
    render,
    render_markdown,
    render_text,
)

__all__ = [
    "add_format_option",
    "emit_findings",
    "printable",
    "printable_findings",
    "render",
    "render_markdown",
    "render_text",
    "write_atomically",
]


def add_format_option(
    parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")
) -> None:
    parser.add_argument(
        "--format",
        choices=list(choices),
        default="text",
        help="report format (default: text)",
    )


def emit_findings(findings: list[Finding], fmt: Format) -> int:
    """Print findings in the chosen format and return the exit code they call for."""
    sys.stdout.write(render(findings, fmt))
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def writable_target(path: Path) -> Path:
    """The file a write to `path` replaces: `path`, or the regular file a link there leads to.
    Anything else that exists (a device such as /dev/full, a FIFO, a socket, a directory, a
    dangling link) is refused: replacing it would destroy what the user had."""
    from publisher.errors import InputError

    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    if stat.S_ISREG(mode):
        return path
    if stat.S_ISLNK(mode):
        target = path.resolve()
        if target.is_file():
            return target
    what = describe_existing(path)
    raise InputError(
        f"is {what}, not a regular file; publisher only replaces regular files",
        where=str(path),
        fix="write to a file name instead",
    )


def describe_existing(path: Path) -> str:
    """What a path that exists but is not a regular file is, in words."""
    from publisher.filekind import not_regular

    return not_regular(path) or "a special file"


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` through a fresh temporary file beside it (created with
    O_EXCL, so a planted `.name.tmp` link cannot redirect the write elsewhere). Only a regular
    file is ever replaced (through a link to one, the file it leads to)."""
    path = writable_target(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # what a plain write would give, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
