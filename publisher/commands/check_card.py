"""`publisher check-card CARD.md… [--spec SPEC]`: check a hand-written model card."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.commands.common import add_format_option, emit_findings

if TYPE_CHECKING:
    from publisher.card.check import CardFacts

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
    from publisher.card.check import check_card_file

    facts = spec_facts(args.spec) if args.spec else None
    findings = [f for card in args.cards for f in check_card_file(card, facts)]
    return emit_findings(findings, args.format)


def spec_facts(path: Path) -> CardFacts:
    """The facts a card is compared with, from a spec file; an unusable spec is an input error."""
    from publisher.card.check import facts_from_spec
    from publisher.errors import SpecError
    from publisher.spec.loader import load_spec

    if not path.is_file():
        raise SpecError("no such spec file", where=str(path))
    loaded = load_spec(path)
    if loaded.unusable or (loaded.spec is None and loaded.data is None):
        first = loaded.findings[0] if loaded.findings else None
        message = f"{first.code}: {first.message}" if first else "cannot be loaded"
        raise SpecError(message, where=str(path), fix="run `publisher lint` on it")
    return facts_from_spec(loaded.spec if loaded.spec is not None else loaded.data)
