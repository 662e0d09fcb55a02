"""Card rules that compare what a card states with what is true: architecture numbers
(CARD301), the layout string (CARD302), dense vs MoE wording (CARD303), the quantization
format (CARD304) and sizes (CARD305). Each finding names where the true value comes from."""

from __future__ import annotations

import ast
import re

from publisher.card import claims as text_claims
from publisher.card.arch_claims import Claim, card_claims
from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.rules_claims import differs
from publisher.card.truth import FORMAT_WORDS, Fact, ModelTruth
from publisher.findings import Finding

NAMES = {
    "layers": "layers",
    "hidden_size": "hidden size",
    "heads": "attention (Q) heads",
    "kv_heads": "KV heads",
    "head_dim": "head dim",
    "deltanet_v_heads": "DeltaNet V heads",
    "deltanet_qk_heads": "DeltaNet QK heads",
    "deltanet_head_dim": "DeltaNet head dim",
    "experts": "experts",
    "experts_active": "active experts per token",
    "context": "context length",
    "vocab": "vocabulary size",
    "params_active": "active parameters",
    "params_total": "parameters",
}
_PARAM_TOLERANCE = 0.25
_RATIO_TOLERANCE = 0.25
_BYTES_TOLERANCE = 0.10
_CONTEXT_TOLERANCE = 0.02


def check_truth(card: CardSource, truth: ModelTruth) -> list[Finding]:
    findings: list[Finding] = []
    for claim in card_claims(card):
        findings += _check(card, claim, truth)
    findings += _stated_params(card, truth)
    return findings


def _check(card: CardSource, claim: Claim, truth: ModelTruth) -> list[Finding]:
    if claim.key == "layout":
        return _layout(card, claim, truth)
    if claim.key == "moe":
        return _moe(card, claim, truth)
    if claim.key == "formats":
        return _formats(card, claim, truth)
    if claim.key in ("size_ratio", "checkpoint_bytes"):
        return _sizes(card, claim, truth)
    key = claim.key
    facts = truth.facts.get(key, [])
    if not facts or any(_matches(key, claim.value, f.value) for f in facts):
        return []
    fact = facts[0]
    return [
        card_finding(
            card,
            "CARD301",
            claim.line,
            f"the card states {NAMES.get(key, key)} {_show(claim.value)} ('{_cut(claim.text)}') "
            f"but {fact.source} says {_show(fact.value)}",
        )
    ]


def _matches(key: str, claimed: object, true: object) -> bool:
    if key == "context":
        assert isinstance(claimed, tuple)
        return any(abs(c - float(true)) <= _CONTEXT_TOLERANCE * float(true) for c in claimed)  # type: ignore[arg-type]
    if key in ("params_active", "params_total"):
        return not differs(float(claimed), float(true))  # type: ignore[arg-type]
    return claimed == true


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return f"{int(value[0]):,}"
    if isinstance(value, float) and value >= 1e6:
        return text_claims.format_count(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _cut(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- layout --------------------------------------------------------------------------------

_NAMES_IN_PARENS = re.compile(r"\(([^()\d]*)\)")


def layout_layers(layout: str) -> int | None:
    """Layers a layout string implies: '6 × (3 × (A → F) → 1 × (B → F))' → 24."""
    text = layout.replace("×", "*").replace("→", "+").replace("->", "+")
    text = re.sub(r"(?<=\d)\s*[xX]\s*(?=\()", " * ", text)
    for _ in range(8):
        new = _NAMES_IN_PARENS.sub("(1)", text)
        if new == text:
            break
        text = new
    text = re.sub(r"[A-Za-z][\w\s-]*", "1", text)
    if not re.fullmatch(r"[\d\s*+()]+", text):
        return None
    try:
        value = eval(
            compile(ast.parse(text, mode="eval"), "<layout>", "eval"), {"__builtins__": {}}
        )
    except (SyntaxError, TypeError, ValueError, RecursionError):
        return None
    return int(value) if isinstance(value, int) else None


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _layout(card: CardSource, claim: Claim, truth: ModelTruth) -> list[Finding]:
    said = str(claim.value)
    implied = layout_layers(said)
    for fact in truth.facts.get("layout", []):
        if _numbers(str(fact.value)) != _numbers(said):
            return [
                card_finding(
                    card,
                    "CARD302",
                    claim.line,
                    f"the card's layout '{_cut(said)}' is not {fact.source} '{fact.value}'",
                )
            ]
    layers = truth.first("layers")
    if implied is not None and layers is not None and implied != layers.value:
        return [
            card_finding(
                card,
                "CARD302",
                claim.line,
                f"the card's layout '{_cut(said)}' adds up to {implied} layers but "
                f"{layers.source} says {layers.value}",
            )
        ]
    return []


# --- dense vs MoE, format, sizes -----------------------------------------------------------


def _moe(card: CardSource, claim: Claim, truth: ModelTruth) -> list[Finding]:
    fact = truth.first("moe")
    if fact is None or fact.value == claim.value:
        return []
    model = "a mixture-of-experts model" if fact.value else "a dense model"
    return [
        card_finding(
            card,
            "CARD303",
            claim.line,
            f"the card calls the model '{claim.text}' but {fact.source} makes it {model}",
        )
    ]


def _formats(card: CardSource, claim: Claim, truth: ModelTruth) -> list[Finding]:
    fact = truth.first("formats")
    if fact is None:
        return []
    assert isinstance(claim.value, frozenset)
    named: set[str] = set()
    for word in claim.value:
        named |= FORMAT_WORDS[word]
    if not named or named & set(fact.value):
        return []
    true = ", ".join(sorted(f.upper() for f in fact.value))
    return [
        card_finding(
            card,
            "CARD304",
            claim.line,
            f"the card says the weights are {', '.join(sorted(w.upper() for w in claim.value))} "
            f"('{_cut(claim.text)}') but {fact.source} says {true}",
        )
    ]


def _sizes(card: CardSource, claim: Claim, truth: ModelTruth) -> list[Finding]:
    stored = truth.first("checkpoint_bytes")
    if stored is None:
        return []
    value = float(claim.value)  # type: ignore[arg-type]
    if claim.key == "checkpoint_bytes":
        if abs(value - stored.value) <= _BYTES_TOLERANCE * stored.value:
            return []
        # GB or GiB: accept either reading of the unit
        if abs(value * 2**30 / 1e9 - stored.value) <= _BYTES_TOLERANCE * stored.value:
            return []
        message = (
            f"the card states a size of {_cut(claim.text)} but {stored.source} add up to "
            f"{stored.value / 1e9:.2f} GB"
        )
        return [card_finding(card, "CARD305", claim.line, message)]
    bf16 = truth.first("bf16_bytes")
    if bf16 is None:
        return []
    ratio = bf16.value / stored.value
    if abs(value - ratio) <= _RATIO_TOLERANCE * ratio:
        return []
    message = (
        f"the card says '{_cut(claim.text)}' but the checkpoint is {ratio:.1f}× smaller than "
        f"BF16 ({bf16.source}; {stored.value / 1e9:.2f} GB stored, from {stored.source})"
    )
    return [card_finding(card, "CARD305", claim.line, message)]


def _stated_params(card: CardSource, truth: ModelTruth) -> list[Finding]:
    """Parameter counts against a checkpoint's own count (a spec's is CARD022's)."""
    facts: list[Fact] = [
        f for f in truth.facts.get("params_total", []) if not f.source.startswith("spec")
    ]
    if not facts or truth.spec is not None:
        return []
    fact = facts[0]
    findings = []
    heading = text_claims.title(card)
    stated = [(s.line, s.count, s.text) for s in text_claims.stated_counts(card)]
    if heading and (size := text_claims.name_size(heading[1])):
        stated.insert(0, (heading[0], size, heading[1]))
    for line, count, text in stated:
        if differs(count, fact.value):
            findings.append(
                card_finding(
                    card,
                    "CARD301",
                    line,
                    f"the card states {text_claims.format_count(count)} parameters "
                    f"('{_cut(text)}') but {fact.source} make "
                    f"{text_claims.format_count(fact.value)}",
                )
            )
    return findings
