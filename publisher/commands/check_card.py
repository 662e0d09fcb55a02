"""`publisher check-card [CARD.md…] [--spec SPEC] [--checkpoint DIR] [--repo ID[@REV]]`: check
model cards, on their own or against what is true about the model."""

from __future__ import annotations

import argparse
from pathlib import Path

from publisher.commands.common import add_format_option, emit_findings

NAME = "check-card"
HELP = (
    "check a model card: frontmatter and Hub metadata values, contradicting claims, "
    "repository ids, mojibake, tables; with --spec/--checkpoint/--repo every architecture "
    "and format claim against the truth (codes CARD001...)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "cards",
        nargs="*",
        type=Path,
        metavar="CARD.md",
        help="the card(s) (README.md files); with --repo and none, the repository's README.md",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="SPEC",
        help="a model spec to compare the card with (architecture, format, repo id, base models)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="DIR",
        help="a checkpoint folder: compare the card with its config.json and tensor headers",
    )
    parser.add_argument(
        "--repo",
        metavar="ID[@REV]",
        help="a Hub model repository: its README.md, config.json and headers (range requests)",
    )
    parser.add_argument("--token", help="Hub token for --repo (default: HF_TOKEN or the login)")
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    from publisher.api import check_card

    options = {"spec": args.spec, "checkpoint": args.checkpoint, "repo": args.repo}
    cards = args.cards or [None]
    findings = [f for card in cards for f in check_card(card, token=args.token, **options)]
    return emit_findings(findings, args.format)
