"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from publisher.errors import EXIT_FINDINGS, EXIT_OK
from publisher.findings import Finding, has_errors
from publisher.report import Format, render


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
