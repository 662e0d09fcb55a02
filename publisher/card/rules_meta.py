"""Card rules for the frontmatter: present, not collapsed onto one line, valid YAML, and values
the Hub accepts (pipeline_tag, license, library_name, base_model, base_model_relation)."""

from __future__ import annotations

import re
from typing import Any

from publisher import hubmeta
from publisher.card import claims
from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.findings import Finding

_REPO_ID = re.compile(
    r"^[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?$"
)


def check_frontmatter(card: CardSource) -> list[Finding]:
    if card.state == "missing":
        return [
            card_finding(
                card,
                "CARD001",
                1,
                "no YAML frontmatter: the card does not start with a "
                "'---' metadata block, so the Hub shows no license, base model or task",
            )
        ]
    if card.state == "collapsed":
        return [
            card_finding(
                card,
                "CARD002",
                1,
                "the frontmatter has lost its line breaks: the whole "
                "'--- key: value ... ---' block is on line 1, so the Hub shows it as text "
                "and the model has no metadata; put each key and list item on its own line",
            )
        ]
    if card.state == "invalid" and card.error:
        return [card_finding(card, "CARD003", card.error[0], card.error[1])]
    return []


def check_metadata_values(card: CardSource) -> list[Finding]:
    if card.state not in ("ok", "collapsed"):
        return []
    meta = card.frontmatter
    findings = _check_choice(card, "pipeline_tag", "CARD004", hubmeta.allowed_pipeline_tags())
    findings += _check_choice(card, "license", "CARD005", hubmeta.allowed_licenses())
    findings += _check_library(card)
    findings += _check_choice(card, "base_model_relation", "CARD007", hubmeta.allowed_relations())
    findings += _check_base_model_ids(card)
    if meta.get("license") == "other" and not meta.get("license_name"):
        findings.append(
            card_finding(
                card,
                "CARD024",
                card.key_line("license"),
                "license is 'other' but there is no license_name (and license_link) naming it",
            )
        )
    return findings


def _check_choice(card: CardSource, key: str, code: str, allowed: frozenset[str]) -> list[Finding]:
    if key not in card.frontmatter or card.frontmatter[key] is None:
        return []
    values = card.frontmatter[key]
    findings = []
    for value, line in zip(as_list(values), lines_of(card, key, values), strict=True):
        if not isinstance(value, str) or value not in allowed:
            hint = hubmeta.suggest(str(value), allowed)
            extra = f"; did you mean '{hint}'?" if hint else ""
            findings.append(
                card_finding(card, code, line, f"{key} '{value}' is not one the Hub knows{extra}")
            )
    return findings


def _check_library(card: CardSource) -> list[Finding]:
    value = card.frontmatter.get("library_name")
    if value is None or value in hubmeta.allowed_libraries():
        return []
    line = card.key_line("library_name")
    if isinstance(value, str) and value.lower() in hubmeta.local_apps():
        return [
            card_finding(
                card,
                "CARD006",
                line,
                f"library_name '{value}' is a serving app on the "
                "Hub, not a library: name the library the weights load with (e.g. "
                "'transformers') and mention the app in the text",
            )
        ]
    hint = hubmeta.suggest(str(value), hubmeta.allowed_libraries())
    extra = f"; did you mean '{hint}'?" if hint else ""
    return [
        card_finding(card, "CARD006", line, f"library_name '{value}' is not a Hub library{extra}")
    ]


def _check_base_model_ids(card: CardSource) -> list[Finding]:
    values = card.frontmatter.get("base_model")
    if values is None:
        return []
    findings = []
    for value, line in zip(as_list(values), lines_of(card, "base_model", values), strict=True):
        text = str(value)
        if (
            isinstance(value, str)
            and _REPO_ID.match(value)
            and ".." not in value
            and "--" not in value
        ):
            continue
        url = claims.HF_URL.match(text)
        hint = f"; write the repo id '{url['owner']}/{url['name']}', not a URL" if url else ""
        findings.append(
            card_finding(
                card,
                "CARD008",
                line,
                f"base_model '{text}' is not a valid repo id (owner/name){hint}",
            )
        )
    return findings


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def lines_of(card: CardSource, key: str, value: Any) -> list[int]:
    lines = card.item_lines.get(key, [])
    count = len(as_list(value))
    return lines if len(lines) == count else [card.key_line(key)] * count


def frontmatter_base_models(card: CardSource) -> list[str]:
    return [str(v) for v in as_list(card.frontmatter.get("base_model") or [])]
