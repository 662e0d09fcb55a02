"""Card rules for what the text claims: base model and parameter counts that contradict the
title or the frontmatter, one repository named under several owners, and mojibake."""

from __future__ import annotations

from collections.abc import Iterable

from publisher.card import claims
from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.mojibake import Mojibake, find_mojibake
from publisher.card.rules_meta import frontmatter_base_models, lines_of
from publisher.findings import Finding

# Size labels are nominal (a "0.8B" model has 0.87B parameters, a "7B" one can have 8.5B), so
# two counts contradict each other only when they are more than 25% apart.
_TOLERANCE = 0.25


def differs(a: float, b: float) -> bool:
    return abs(a - b) / max(a, b) > _TOLERANCE


def same_model(mention: str, repo_ids: Iterable[str]) -> bool:
    key = mention.lower()
    for repo_id in repo_ids:
        full = repo_id.lower()
        if key == full or ("/" not in key and key == full.split("/")[-1]):
            return True
    return False


def named_mentions(card: CardSource) -> list[claims.BaseMention]:
    """Base-model mentions that name a repo id, or a model name with a size in it."""
    return [
        m
        for m in claims.base_mentions(card)
        if m.model
        and ("/" in m.model or claims.name_size(m.model))
        and "distill" not in m.verb.lower()
    ]


def check_base_models_in_text(card: CardSource) -> list[Finding]:
    if card.state not in ("ok", "collapsed"):
        return []
    declared = frontmatter_base_models(card)
    mentions = named_mentions(card)
    if not declared:
        return [
            card_finding(
                card,
                "CARD023",
                m.line,
                f"the text says this model is a {m.verb} "
                f"{m.model}, but the frontmatter has no base_model: the Hub will not link "
                "the model to its base",
            )
            for m in mentions[:1]
        ]
    return [
        card_finding(
            card,
            "CARD009",
            m.line,
            f"the text names {m.model} as the base ('{m.verb}') "
            f"but the frontmatter's base_model is {', '.join(declared)}",
        )
        for m in mentions
        if m.model and not same_model(m.model, declared)
    ]


def check_param_counts(card: CardSource) -> list[Finding]:
    heading = claims.title(card)
    size = claims.name_size(heading[1]) if heading else None
    findings = _stated_vs_reference(card, heading, size)
    if heading and size:
        findings += _base_sizes_vs_title(card, heading[1], size)
    return findings


def _stated_vs_reference(
    card: CardSource, heading: tuple[int, str] | None, size: float | None
) -> list[Finding]:
    stated = claims.stated_counts(card)
    if size and heading:
        reference, said = size, f"the title '{heading[1]}' says {claims.format_count(size)}"
    elif stated:
        reference = stated[0].count
        said = f"line {stated[0].line} says {claims.format_count(reference)}"
    else:
        return []
    return [
        card_finding(
            card,
            "CARD010",
            s.line,
            f"the text states {claims.format_count(s.count)} parameters ('{s.text}') but {said}",
        )
        for s in stated
        if differs(s.count, reference)
    ]


def _base_sizes_vs_title(card: CardSource, heading: str, size: float) -> list[Finding]:
    findings = []
    for mention in claims.base_mentions(card):
        base = mention.size or (claims.name_size(mention.model) if mention.model else None)
        if mention.keeps_size and base and differs(base, size):
            what = mention.model or f"a {claims.format_count(base)} model"
            findings.append(
                card_finding(
                    card,
                    "CARD010",
                    mention.line,
                    f"the title '{heading}' says "
                    f"{claims.format_count(size)} but the text says it is a "
                    f"'{mention.verb}' {what} ({claims.format_count(base)})",
                )
            )
    relation = card.frontmatter.get("base_model_relation")
    if relation in ("quantized", "finetune") or (relation is None and claims.looks_quantized(card)):
        values = frontmatter_base_models(card)
        for base_id, line in zip(values, lines_of(card, "base_model", values), strict=True):
            base = claims.name_size(base_id)
            if base and differs(base, size):
                findings.append(
                    card_finding(
                        card,
                        "CARD010",
                        line,
                        f"base_model {base_id} is a "
                        f"{claims.format_count(base)} model but the title "
                        f"'{heading}' says {claims.format_count(size)}",
                    )
                )
    return findings


def base_owners(card: CardSource, extra: Iterable[str] = ()) -> set[str]:
    ids = [*frontmatter_base_models(card), *extra]
    ids += [m.model for m in claims.base_mentions(card) if m.model and "/" in m.model]
    return {repo_id.split("/")[0].lower() for repo_id in ids if "/" in repo_id}


def check_repo_owners(card: CardSource) -> list[Finding]:
    """This model's repository named under several owners (base-model owners do not count).

    Only names that appear in the card's title are this model's; other names under several
    owners are usually third-party builds (`a/X-GGUF`, `b/X-GGUF`) and are fine.
    """
    skip = base_owners(card)
    heading = claims.title(card)
    title = heading[1].lower() if heading else None
    by_name: dict[str, dict[str, claims.RepoRef]] = {}
    for ref in claims.repo_refs(card):
        name = ref.name.lower()
        if ref.owner.lower() not in skip and (title is None or name in title):
            by_name.setdefault(name, {}).setdefault(ref.owner.lower(), ref)
    findings = []
    for owners in by_name.values():
        if len(owners) < 2:
            continue
        refs = sorted(owners.values(), key=lambda r: r.line)
        listed = ", ".join(f"{r.repo_id} (line {r.line})" for r in refs)
        findings.append(
            card_finding(
                card,
                "CARD011",
                refs[1].line,
                f"one repository named {len(refs)} ways: {listed}; use one repo id everywhere",
            )
        )
    return findings


# --- text encoding -----------------------------------------------------------------------


def check_mojibake(card: CardSource) -> list[Finding]:
    findings = []
    for number, line in enumerate(card.lines, start=1):
        hits = find_mojibake(line)
        if hits:
            fixes = ", ".join(_describe(hit) for hit in hits)
            codecs = sorted({hit.codec for hit in hits})
            findings.append(
                card_finding(
                    card,
                    "CARD012",
                    number,
                    f"mojibake (UTF-8 text read as {'/'.join(codecs)}): {fixes}",
                    column=hits[0].column + 1,
                )
            )
    return findings


def _describe(hit: Mojibake) -> str:
    if not hit.intended:
        return f"'{hit.garbled}' (the start of a character whose last byte was lost)"
    return f"'{hit.garbled}' should be '{hit.intended}'"
