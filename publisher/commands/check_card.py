"""`publisher check-card [CARD.md] [--spec SPEC] [--checkpoint DIR] [--repo ID[@REV]]`: check a
model card, on its own or against what is true about the model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.commands.common import add_format_option, emit_findings

if TYPE_CHECKING:
    from publisher.card.check import CardFacts
    from publisher.card.truth import ModelTruth

NAME = "check-card"
HELP = (
    "check a model card: frontmatter and Hub metadata values, contradicting claims, "
    "repository ids, mojibake, tables; with --spec/--checkpoint/--repo every architecture "
    "and format claim against the truth (codes CARD001...)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "card",
        type=Path,
        nargs="?",
        metavar="CARD.md",
        help="the card (a README.md); with --repo and no CARD, the repository's README.md",
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
    from publisher.card.check import check_card, check_card_file
    from publisher.card.truth import combine
    from publisher.errors import InputError

    if args.card is None and not args.repo:
        raise InputError("give a card file, or --repo ID to check a repository's README.md")
    facts = spec_facts(args.spec) if args.spec else None
    truths = []
    if args.spec:
        truths.append(spec_truth(args.spec))
    if args.checkpoint:
        truths.append(checkpoint_truth(args.checkpoint))
    readme = None
    if args.repo:
        repo_truth, readme = remote_truth(args.repo, args.token)
        truths.append(repo_truth)
    truth = combine(truths) if truths else None
    if args.card is not None:
        findings = check_card_file(args.card, facts, truth)
    else:
        assert readme is not None
        text, where = readme
        findings = check_card(text, file=where, facts=facts, truth=truth)
    return emit_findings(findings, args.format)


def _load(path: Path):  # type: ignore[no-untyped-def]
    from publisher.errors import SpecError
    from publisher.spec.loader import load_spec

    if not path.is_file():
        raise SpecError("no such spec file", where=str(path))
    loaded = load_spec(path)
    if loaded.unusable or (loaded.spec is None and loaded.data is None):
        first = loaded.findings[0] if loaded.findings else None
        message = f"{first.code}: {first.message}" if first else "cannot be loaded"
        raise SpecError(message, where=str(path), fix="run `publisher lint` on it")
    return loaded


def spec_facts(path: Path) -> CardFacts:
    """The facts a card is compared with, from a spec file; an unusable spec is an input error."""
    from publisher.card.check import facts_from_spec

    loaded = _load(path)
    return facts_from_spec(loaded.spec if loaded.spec is not None else loaded.data)


def spec_truth(path: Path) -> ModelTruth:
    from publisher.card.truth import ModelTruth, truth_from_spec

    loaded = _load(path)
    return truth_from_spec(loaded.spec) if loaded.spec is not None else ModelTruth()


def checkpoint_truth(path: Path) -> ModelTruth:
    from publisher.card.truth import truth_from_checkpoint
    from publisher.checkpoint.reader import read_checkpoint

    inventory, _ = read_checkpoint(path)
    return truth_from_checkpoint(inventory, str(path))


def remote_truth(target: str, token: str | None) -> tuple[ModelTruth, tuple[str, str] | None]:
    """Truth from a Hub repository's config.json and headers, and its README.md text."""
    from publisher.card.remote_card import read_remote_text
    from publisher.card.truth import truth_from_checkpoint
    from publisher.hub.remote import read_remote_checkpoint

    repo_id, _, revision = target.partition("@")
    inventory, _ = read_remote_checkpoint(repo_id, revision or None, token=token)
    where = f"hf://{target}"
    readme = read_remote_text(repo_id, "README.md", revision or None, token=token)
    return truth_from_checkpoint(inventory, where), (
        (readme, f"{where}/README.md") if readme is not None else None
    )
