"""The hidden-layout expression parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.spec.layout import LayoutError, parse_layout

MIXERS = {"Gated DeltaNet": "gated_deltanet", "Gated Attention": "gated_attention"}
FFNS = {"FFN": "dense", "MoE": "moe"}


def kinds(text: str) -> list[str]:
    return [layer.mixer for layer in parse_layout(text, MIXERS, FFNS)]


def test_qwen_small_layout_expands_to_24_layers_with_attention_every_fourth() -> None:
    layers = kinds("6 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))")
    assert len(layers) == 24
    assert [i for i, k in enumerate(layers) if k == "gated_attention"] == [3, 7, 11, 15, 19, 23]


def test_ascii_spellings_mean_the_same() -> None:
    assert kinds("6 x (3 x (Gated DeltaNet -> FFN) -> 1 x (Gated Attention -> FFN))") == kinds(
        "6 × (3 × (Gated DeltaNet → FFN) → 1 × (Gated Attention → FFN))"
    )


def test_moe_blocks_are_recorded() -> None:
    layers = parse_layout(
        "10 × (3 × (Gated DeltaNet → MoE) → 1 × (Gated Attention → MoE))", MIXERS, FFNS
    )
    assert len(layers) == 40 and {layer.ffn for layer in layers} == {"moe"}


@pytest.mark.parametrize(
    ("text", "column", "phrase"),
    [
        ("6 × (3 × (Gated DeltaNet → FFN)", 32, "expected ')'"),
        ("6 × (3 × (Gated Delta → FFN))", 11, "unknown block 'Gated Delta'"),
        ("6 (Gated DeltaNet → FFN)", 3, "'×' after a repeat count"),
        ("3 × (FFN → Gated DeltaNet)", 6, "has no mixer before it"),
        ("3 × (Gated DeltaNet → Gated Attention → FFN)", 23, "starts a new layer"),
        ("0 × (Gated DeltaNet → FFN)", 1, "at least 1"),
        ("6 × (Gated DeltaNet → FFN) %", 28, "unexpected character"),
    ],
)
def test_errors_point_at_the_column(text: str, column: int, phrase: str) -> None:
    with pytest.raises(LayoutError) as error:
        parse_layout(text, MIXERS, FFNS)
    assert error.value.column == column
    assert phrase in error.value.reason


def test_huge_repeat_counts_are_refused_quickly() -> None:
    with pytest.raises(LayoutError, match="too many"):
        parse_layout("999999999 × (99999 × (Gated DeltaNet → FFN))", MIXERS, FFNS)


ATOMS = st.sampled_from(
    [
        "Gated DeltaNet",
        "Gated Attention",
        "FFN",
        "MoE",
        "(",
        ")",
        "×",
        "→",
        "x",
        "->",
        "3",
        "12",
        " ",
        "?",
        "Foo",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ATOMS, max_size=30).map("".join))
def test_any_text_parses_or_raises_layout_error(text: str) -> None:
    try:
        layers = parse_layout(text, MIXERS, FFNS)
    except LayoutError as error:
        assert 1 <= error.column <= len(text) + 1
    else:
        assert all(layer.mixer in MIXERS.values() for layer in layers)
