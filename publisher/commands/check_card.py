"""`publisher check-card CARD.md… [--spec SPEC]`: check a hand-written model card."""

from __future__ import annotations

import argparse
from pathlib import Path

from publisher.commands.common import add_format_option, emit_findings

NAME = "check-card"
HELP = (
    "check a hand-written model card: frontmatter and Hub metadata values, contradicting "
    "claims, repository ids, mojibake, tables (codes CARD001...)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "cards", nargs="+", type=Path, metavar="CARD.md", help="the card(s) (README.md files)"
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="SPEC",
        help="a model spec to compare the card with (repo id, base models, parameter count)",
    )
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    from publisher.api import check_card

    findings = [f for card in args.cards for f in check_card(card, args.spec)]
    return emit_findings(findings, args.format)
