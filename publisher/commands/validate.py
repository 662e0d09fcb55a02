"""`publisher validate SPEC CHECKPOINT` (or `--repo ID`): check what was written against the spec."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.commands.common import add_format_option
from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, UsageError
from publisher.findings import has_errors

NAME = "validate"
HELP = "validate a checkpoint's tensors, quant config and config.json against a spec (headers only)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the model spec (YAML)")
    parser.add_argument("checkpoint", type=Path, nargs="?", help="the exported checkpoint folder")
    parser.add_argument(
        "--repo",
        help="validate the checkpoint already on the Hub instead (headers by range requests)",
    )
    parser.add_argument("--revision", help="branch, tag or commit on the Hub (with --repo)")
    add_format_option(parser, ("text", "json", "markdown"))


def run(args: argparse.Namespace) -> int:
    from publisher.api import format_validation as format_report
    from publisher.api import lint as lint_path
    from publisher.api import validate, validate_on_hub
    from publisher.commands.common import render_text

    if (args.checkpoint is None) == (args.repo is None):
        raise UsageError("give a checkpoint folder or --repo ID (one of them)")
    loaded = lint_path(args.spec)
    if loaded.spec is None or has_errors(loaded.findings):
        sys.stdout.write(render_text(loaded.findings))
        return EXIT_INPUT if loaded.unusable else EXIT_FINDINGS
    if args.repo:
        report = validate_on_hub(loaded, args.repo, args.revision)
    else:
        report = validate(loaded, args.checkpoint)
    sys.stdout.write(format_report(report, args.format))
    return EXIT_OK if report.ok else EXIT_FINDINGS
