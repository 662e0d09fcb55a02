"""CARD306: what a card says about stored tensors (`X.weight_scale` — F32 scalar) against the
format table validation uses (for a spec) and against the checkpoint's headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from publisher.card.card_codes import card_finding
from publisher.card.card_source import CardSource
from publisher.card.format_prose import tensor_facts
from publisher.card.truth import ModelTruth
from publisher.findings import Finding

_DETAIL = re.compile(
    r"`(?:X|<module>|\w+)?\.(?P<suffix>[a-z][a-z0-9_]*)`\s*(?:[—–:-]+|is)\s*(?P<dtype>[A-Z][A-Z0-9_]+)"
    r"(?:,?\s*shape\s*(?P<shape>\[[^\]]{0,40}\])|\s+(?P<scalar>scalars?))?"
)
_SCALE_SUFFIX = re.compile(r"scale")


@dataclass(frozen=True)
class Detail:
    line: int
    suffix: str
    dtype: str
    shape: str | None  # '[out, in/2]', 'scalar', or None when the card gives none


def format_details(card: CardSource) -> Iterator[Detail]:
    for number, text in card.prose():
        for match in _DETAIL.finditer(text):
            shape = "scalar" if match["scalar"] else match["shape"]
            yield Detail(number, match["suffix"], match["dtype"], _norm(shape))


def _norm(shape: str | None) -> str | None:
    return None if shape is None else re.sub(r"\s+", "", shape).replace(",", ", ")


def check_format_details(card: CardSource, truth: ModelTruth) -> list[Finding]:
    details = list(format_details(card))
    if not details:
        return []
    findings = []
    table = _table(truth)
    quantized = _quantized_tensors(truth)
    for detail in details:
        if table is not None:
            findings += _against_table(card, detail, table, truth.storages)
        if quantized:
            findings += _against_headers(card, detail, quantized)
    return findings


def _table(truth: ModelTruth) -> dict[str, list[tuple[str, str]]] | None:
    if not truth.storages:
        return None
    table: dict[str, list[tuple[str, str]]] = {}
    for storage in truth.storages:
        for suffix, fact in tensor_facts(storage, truth.source_dtype).items():
            table.setdefault(suffix, []).append(fact)
    return table


def _against_table(
    card: CardSource, d: Detail, table: dict[str, list[tuple[str, str]]], storages: tuple[str, ...]
) -> list[Finding]:
    where = "the format table for " + " and ".join(storages)
    if d.suffix not in table:
        if d.suffix in ("weight", "bias"):
            return []
        return [
            card_finding(
                card,
                "CARD306",
                d.line,
                f"the card describes `X.{d.suffix}` but {where} stores no such tensor "
                f"(it stores {', '.join('X.' + s for s in table)})",
            )
        ]
    facts = table[d.suffix]
    if any(d.dtype == dtype and d.shape in (None, shape) for dtype, shape in facts):
        return []
    want = " or ".join(f"{dtype} {shape}" for dtype, shape in facts)
    said = f"{d.dtype} {d.shape}" if d.shape else d.dtype
    return [
        card_finding(
            card,
            "CARD306",
            d.line,
            f"the card says `X.{d.suffix}` is {said} but {where} says {want}",
        )
    ]


def _quantized_tensors(truth: ModelTruth) -> dict[str, list[tuple[str, tuple[int, ...]]]]:
    """suffix → (dtype, shape) of every tensor of the modules that carry a scale."""
    if not truth.tensors:
        return {}
    modules = {
        name.rsplit(".", 1)[0]
        for name in truth.tensors
        if _SCALE_SUFFIX.search(name.rsplit(".", 1)[-1])
        and "k_scale" not in name
        and "v_scale" not in name
    }
    found: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    for name, (dtype, shape) in truth.tensors.items():
        module, _, suffix = name.rpartition(".")
        if module in modules:
            found.setdefault(suffix, []).append((dtype, shape))
    return found


def _shape_fits(claimed: str | None, shape: tuple[int, ...]) -> bool:
    if claimed is None:
        return True
    if claimed == "scalar":
        return shape == ()
    parts = claimed.strip("[]").split(", ")
    if len(parts) != len(shape):
        return False
    return all(not p.isdigit() or int(p) == s for p, s in zip(parts, shape, strict=True))


def _against_headers(
    card: CardSource, d: Detail, quantized: dict[str, list[tuple[str, tuple[int, ...]]]]
) -> list[Finding]:
    stored = quantized.get(d.suffix)
    if not stored:
        if d.suffix in ("weight", "bias"):
            return []
        return [
            card_finding(
                card,
                "CARD306",
                d.line,
                f"the card describes `X.{d.suffix}` but no quantized module of the checkpoint "
                f"has one (tensors: {', '.join('X.' + s for s in sorted(quantized))})",
            )
        ]
    if any(d.dtype == dtype and _shape_fits(d.shape, shape) for dtype, shape in stored):
        return []
    dtype, shape = stored[0]
    said = f"{d.dtype} {d.shape}" if d.shape else d.dtype
    return [
        card_finding(
            card,
            "CARD306",
            d.line,
            f"the card says `X.{d.suffix}` is {said} but the checkpoint's headers store it as "
            f"{dtype} {list(shape) if shape else 'scalar'} ({len(stored)} tensors)",
        )
    ]
