"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import os
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


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` through a fresh temporary file beside it (created with
    O_EXCL, so a planted `.name.tmp` link cannot redirect the write elsewhere)."""
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
