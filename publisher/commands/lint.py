"""`publisher lint [PATH…]`: check specs (files or folders) without touching a checkpoint."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.commands.common import add_format_option, render
from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, UsageError
from publisher.findings import Finding, has_errors
from publisher.report import render_json
from publisher.spec.collect import collect_spec_paths, is_family_file

NAME = "lint"
HELP = "check model specs: schema, layout, derived counts, Hub metadata"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="spec files or folders (default: model_specs/); a family file checks the specs "
        "that extend it",
    )
    add_format_option(parser, ("text", "json", "markdown"))


def run(args: argparse.Namespace) -> int:
    from publisher.api import lint as lint_path

    paths = args.paths or [Path("model_specs")]
    spec_paths, missing = collect_spec_paths(paths)
    if not spec_paths and not missing and all(is_family_file(p) for p in paths):
        print(f"no spec extends {', '.join(map(str, paths))}: nothing to check")
        return EXIT_OK
    if not spec_paths and not missing:
        raise UsageError("no spec files (*.yaml) found", where=", ".join(map(str, paths)))
    findings: list[Finding] = list(missing)
    unusable = bool(missing)
    for path in spec_paths:
        loaded = lint_path(path)
        findings.extend(loaded.findings)
        unusable = unusable or loaded.unusable
    if args.format == "json":
        sys.stdout.write(render_json(findings, specs=[str(p) for p in spec_paths]))
    else:
        sys.stdout.write(render(findings, args.format))
        if not findings and args.format == "text":
            print(f"{len(spec_paths)} spec(s) checked")
    if unusable:
        return EXIT_INPUT
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
