"""Check a hand-written model card: frontmatter, metadata values, claims that contradict each
other (or the spec), repository ids, mojibake and tables. Every finding has a stable CARD code
(see `CODES` in card_codes.py for the code → meaning table).

Public API: `check_card(text, file=, facts=)`, `check_card_file(path, facts=)`,
`check_against_facts(card, facts)`, `facts_from_spec(spec)`, `CardFacts`, `CODES`, `RULES`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from publisher.card.card_codes import CODES
from publisher.card.card_source import CardSource, parse_card
from publisher.card.rules_claims import (
    check_base_models_in_text,
    check_mojibake,
    check_param_counts,
    check_repo_owners,
)
from publisher.card.rules_components import check_component_precision, check_component_sets
from publisher.card.rules_format import check_format_details
from publisher.card.rules_meta import check_frontmatter, check_metadata_values
from publisher.card.rules_tables import check_component_tables, check_tables
from publisher.card.rules_truth import check_truth
from publisher.card.spec_compare import CardFacts, check_against_facts, facts_from_spec
from publisher.card.truth import ModelTruth
from publisher.errors import InputError
from publisher.findings import Finding, sorted_findings

__all__ = [
    "CODES",
    "RULES",
    "CardFacts",
    "ModelTruth",
    "check_against_facts",
    "check_card",
    "check_card_file",
    "facts_from_spec",
]

Rule = Callable[[CardSource], list[Finding]]
RULES: tuple[Rule, ...] = (
    check_frontmatter,
    check_metadata_values,
    check_base_models_in_text,
    check_param_counts,
    check_repo_owners,
    check_mojibake,
    check_tables,
    check_component_tables,
)


def check_card_file(
    path: Path, facts: CardFacts | None = None, truth: ModelTruth | None = None
) -> list[Finding]:
    """Read a card file and check it; a missing or non-UTF-8 file is an InputError."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as error:
        raise InputError("no such file", where=str(path)) from error
    except IsADirectoryError as error:
        raise InputError("is a directory, not a card file", where=str(path)) from error
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", where=str(path)
        ) from error
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", where=str(path)) from error
    return check_card(text, file=str(path), facts=facts, truth=truth)


def check_card(
    text: str,
    file: str | None = None,
    facts: CardFacts | None = None,
    truth: ModelTruth | None = None,
) -> list[Finding]:
    """Every finding for one card's text, sorted by line. With `truth` (from a spec, a
    checkpoint or a Hub repository) every architecture and format claim is checked too."""
    card = parse_card(text, file)
    findings: list[Finding] = []
    for rule in RULES:
        findings += rule(card)
    findings += check_component_sets(card, truth)
    if facts:
        findings += check_against_facts(card, facts)
    if truth is not None:
        findings += check_truth(card, truth)
        findings += check_format_details(card, truth)
        findings += check_component_precision(card, truth)
    return sorted_findings(findings)
