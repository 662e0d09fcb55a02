"""Compare a card with plain facts about the model (from a spec or anything else):
`{name, repo_id, base_models, total_params}`. The one seam between cards and specs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypedDict

from publisher.card import claims
from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.rules_claims import base_owners, differs, named_mentions, same_model
from publisher.card.rules_meta import as_list, frontmatter_base_models, lines_of
from publisher.findings import Finding


class CardFacts(TypedDict, total=False):
    """Plain facts to compare a card with (from a spec or anything else)."""

    name: str
    repo_id: str
    base_models: list[str]
    total_params: float | int | str | None


def facts_from_spec(spec: object) -> CardFacts:
    """Plain facts from a loaded spec object, a spec-shaped dict, or a dict of facts already."""
    if isinstance(spec, Mapping) and set(spec) & {"base_models", "total_params"}:
        return CardFacts(**{k: v for k, v in spec.items() if k in CardFacts.__annotations__})
    base = _dig(spec, "hub", "base_model") or []
    facts = CardFacts(base_models=[str(b) for b in as_list(base)])
    for key, value in (
        ("name", _dig(spec, "name")),
        ("repo_id", _dig(spec, "repo_id")),
        ("total_params", _dig(spec, "architecture", "parameters", "total")),
    ):
        if value is not None:
            facts[key] = value  # type: ignore[literal-required]
    return facts


def _dig(obj: object, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)
        if obj is None:
            return None
    return obj


def _param_count(value: float | int | str | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMBT]?)\s*", str(value), re.IGNORECASE)
    if not match:
        return None
    scale = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}[match.group(2).lower()]
    return float(match.group(1)) * scale


def check_against_facts(card: CardSource, facts: CardFacts) -> list[Finding]:
    """Where the card contradicts the given facts (name, repo_id, base_models, total_params)."""
    return [*_spec_repo(card, facts), *_spec_base(card, facts), *_spec_params(card, facts)]


def _spec_repo(card: CardSource, facts: CardFacts) -> list[Finding]:
    repo_id = facts.get("repo_id")
    if not repo_id or "/" not in repo_id:
        return []
    owner, name = repo_id.lower().split("/", 1)
    skip = base_owners(card, facts.get("base_models") or []) | {owner}
    seen: dict[str, claims.RepoRef] = {}
    for ref in claims.repo_refs(card):
        if ref.name.lower() == name and ref.owner.lower() not in skip:
            seen.setdefault(ref.owner.lower(), ref)
    return [
        card_finding(
            card,
            "CARD020",
            ref.line,
            f"{ref.repo_id} names the model under another owner than the spec's repo_id {repo_id}",
        )
        for ref in seen.values()
    ]


def _spec_base(card: CardSource, facts: CardFacts) -> list[Finding]:
    if "base_models" not in facts:
        return []
    expected = [str(b) for b in facts.get("base_models") or []]
    says = ", ".join(expected) if expected else "there is none"
    findings = []
    declared = frontmatter_base_models(card)
    for base_id, line in zip(declared, lines_of(card, "base_model", declared), strict=True):
        if not same_model(base_id, expected):
            findings.append(
                card_finding(
                    card,
                    "CARD021",
                    line,
                    f"base_model {base_id} is not a base model of the spec (the spec says: {says})",
                )
            )
    for mention in named_mentions(card):
        if mention.model and not same_model(mention.model, expected):
            findings.append(
                card_finding(
                    card,
                    "CARD021",
                    mention.line,
                    f"the text names "
                    f"{mention.model} as the base ('{mention.verb}') but the spec "
                    f"says: {says}",
                )
            )
    return findings


def _spec_params(card: CardSource, facts: CardFacts) -> list[Finding]:
    total = _param_count(facts.get("total_params"))
    if not total:
        return []
    want = claims.format_count(total)
    claimed: list[tuple[int, float, str]] = []
    heading = claims.title(card)
    if heading and (size := claims.name_size(heading[1])):
        claimed.append((heading[0], size, f"the title '{heading[1]}'"))
    claimed += [(s.line, s.count, f"'{s.text}'") for s in claims.stated_counts(card)]
    return [
        card_finding(
            card,
            "CARD022",
            line,
            f"{what} says {claims.format_count(count)} parameters but the spec says {want}",
        )
        for line, count, what in claimed
        if differs(count, total)
    ]
