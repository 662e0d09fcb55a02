"""`publisher codes`: list every finding code with its meaning and exit code."""

from __future__ import annotations

import argparse
import json
import sys

NAME = "codes"
HELP = "list every finding code, what it means and its exit code"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="show one code only (e.g. SPEC030)")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")


def run(args: argparse.Namespace) -> int:
    from publisher.codes import all_codes, errors_markdown
    from publisher.errors import UsageError

    rows = all_codes()
    if args.code:
        rows = [r for r in rows if r.code == args.code.upper()]
        if not rows:
            raise UsageError(f"no finding code {args.code}; run publisher codes for the list")
    if args.format == "markdown" and not args.code:
        sys.stdout.write(errors_markdown())
    elif args.format == "json":
        sys.stdout.write(json.dumps([r.__dict__ for r in rows], indent=2) + "\n")
    else:
        for r in rows:
            print(f"{r.code}  exit {r.exit_code}  {r.area}: {r.meaning}")
            if r.fix:
                print(f"  fix: {r.fix}")
    return 0
