"""`publisher diff SPEC… [--against hub|REV|FILE] [--changed-since REV]`: what the published
model pages would look like after a change, before it is merged."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.commands.common import add_format_option
from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK

NAME = "diff"
HELP = "show what each card would change against the Hub, a git revision or a file"
EPILOG = (
    "Exit codes: 0 nothing would change, 1 some card would change, 2 a spec cannot be rendered "
    "(or bad usage), 3 the Hub cannot be reached. --changed-since REV picks the specs whose own "
    "file, family files (extends:), template folder or card overrides differ from REV."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "specs",
        nargs="*",
        type=Path,
        metavar="SPEC",
        help="specs or folders (default: model_specs/)",
    )
    parser.add_argument(
        "--against",
        default="hub",
        metavar="hub|REV|FILE",
        help="compare with the README the Hub serves (default), the card a git revision of "
        "this repository renders to, or a card file",
    )
    parser.add_argument(
        "--changed-since",
        metavar="REV",
        help="only the specs a change since this git revision affects",
    )
    add_format_option(parser, ("text", "json", "markdown"))


def run(args: argparse.Namespace) -> int:
    from publisher.api import diff_cards, format_card_diff

    result = diff_cards(
        args.specs or [Path("model_specs")], args.against, changed_since=args.changed_since
    )
    sys.stdout.write(format_card_diff(result, args.format))
    if result.broken:
        return EXIT_INPUT
    return EXIT_FINDINGS if result.changed else EXIT_OK
