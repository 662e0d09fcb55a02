"""Parse a hidden-layout expression into the per-layer sequence.

    16 × (3 × (Linear Attention → FFN) → 1 × (Attention → FFN))

Grammar (`x`, `X` and `*` also mean ×; `->` also means →):

    sequence := term (ARROW term)*
    term     := INT TIMES term | '(' sequence ')' | NAME

The expression expands to a flat run of block names; each mixer block (e.g. Attention)
opens a layer and the feed-forward block after it (FFN or MoE) closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

TIMES = frozenset("×*")
MAX_EXPANDED = 100_000


class LayoutError(ValueError):
    """A layout that does not parse; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int):
        super().__init__(f"{message} (column {column})")
        self.reason = message
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # INT, TIMES, ARROW, LPAREN, RPAREN, NAME, END
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            j = i
            while j < n and text[j].isdigit():
                j += 1
            tokens.append(Token("INT", text[i:j], col))
            i = j
        elif ch in TIMES or (ch in "xX" and _times_letter(text, i, tokens)):
            tokens.append(Token("TIMES", ch, col))
            i += 1
        elif ch == "→":
            tokens.append(Token("ARROW", ch, col))
            i += 1
        elif text.startswith("->", i):
            tokens.append(Token("ARROW", "->", col))
            i += 2
        elif ch == "(":
            tokens.append(Token("LPAREN", ch, col))
            i += 1
        elif ch == ")":
            tokens.append(Token("RPAREN", ch, col))
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and text[j] not in "()→" and not text.startswith("->", j):
                j += 1
            tokens.append(Token("NAME", text[i:j].rstrip(), col))
            i = j
        else:
            raise LayoutError(f"unexpected character {ch!r}", col)
    tokens.append(Token("END", "", n + 1))
    return tokens


def _times_letter(text: str, i: int, tokens: list[Token]) -> bool:
    """`x` is a multiplication sign only right after a number and before a space or '('."""
    after = text[i + 1 : i + 2]
    return bool(tokens) and tokens[-1].kind == "INT" and (after == "" or after in " (\t")


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self, kind: str, what: str) -> Token:
        token = self.peek()
        if token.kind != kind:
            found = "end of layout" if token.kind == "END" else repr(token.text)
            raise LayoutError(f"expected {what}, found {found}", token.column)
        self.pos += 1
        return token

    def sequence(self) -> list[tuple[str, int]]:
        blocks = self.term()
        while self.peek().kind == "ARROW":
            self.pos += 1
            blocks = blocks + self.term()
            if len(blocks) > MAX_EXPANDED:
                raise LayoutError("layout expands to too many blocks", self.peek().column)
        return blocks

    def term(self) -> list[tuple[str, int]]:
        token = self.peek()
        if token.kind == "INT":
            self.pos += 1
            self.take("TIMES", "'×' after a repeat count")
            count = int(token.text)
            if count < 1:
                raise LayoutError("a repeat count must be at least 1", token.column)
            inner = self.term()
            if len(inner) * count > MAX_EXPANDED:
                raise LayoutError("layout expands to too many blocks", token.column)
            return inner * count
        if token.kind == "LPAREN":
            self.pos += 1
            inner = self.sequence()
            self.take("RPAREN", "')'")
            return inner
        if token.kind == "NAME":
            self.pos += 1
            return [(token.text, token.column)]
        found = "end of layout" if token.kind == "END" else repr(token.text)
        raise LayoutError(
            f"expected a block name, a repeat count or '(', found {found}", token.column
        )


def expand(text: str) -> list[tuple[str, int]]:
    """The flat run of (block name, column) that the expression describes."""
    parser = _Parser(tokenize(text))
    blocks = parser.sequence()
    parser.take("END", "'→' or the end of the layout")
    return blocks


@dataclass(frozen=True)
class Layer:
    mixer: str  # canonical mixer kind, e.g. attention
    ffn: str  # canonical feed-forward kind: dense, moe, or none (a whole-layer block)


def parse_layout(
    text: str,
    mixer_aliases: dict[str, str],
    ffn_aliases: dict[str, str],
    whole_layer: dict[str, str] | None = None,
) -> list[Layer]:
    """Parse and group the blocks into layers, mapping names through the profile's aliases.

    Aliases are matched case-insensitively, ignoring spaces, hyphens and underscores. A mixer
    in `whole_layer` (mixer kind → its FFN kind) is a layer by itself (Nemotron-H's Mamba,
    attention, MLP and MoE blocks).
    """
    mixers = {_fold(k): v for k, v in mixer_aliases.items()}
    ffns = {_fold(k): v for k, v in ffn_aliases.items()}
    whole = whole_layer or {}
    layers: list[Layer] = []
    pending: tuple[str, int] | None = None
    for name, column in expand(text):
        key = _fold(name)
        if key in mixers and mixers[key] in whole:
            if pending is not None:
                raise LayoutError(
                    f"'{name}' starts a new layer before the previous mixer got a feed-forward block",
                    column,
                )
            layers.append(Layer(mixers[key], whole[mixers[key]]))
        elif key in mixers:
            if pending is not None:
                raise LayoutError(
                    f"'{name}' starts a new layer before the previous mixer got a feed-forward block",
                    column,
                )
            pending = (mixers[key], column)
        elif key in ffns:
            if pending is None:
                raise LayoutError(f"feed-forward block '{name}' has no mixer before it", column)
            layers.append(Layer(pending[0], ffns[key]))
            pending = None
        else:
            known = _first_alias_per_kind(mixer_aliases) + _first_alias_per_kind(ffn_aliases)
            raise LayoutError(f"unknown block '{name}' (known: {', '.join(known)})", column)
    if pending is not None:
        raise LayoutError("the last mixer has no feed-forward block after it", pending[1])
    return layers


def _first_alias_per_kind(aliases: dict[str, str]) -> list[str]:
    """The first spelling given for each kind, skipping the kind's own id (e.g. 'MLA')."""
    first: dict[str, str] = {}
    for alias, kind in aliases.items():
        if alias != kind:
            first.setdefault(kind, alias)
    return list(first.values()) or list(aliases)


def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def describe(layers: list[Layer]) -> str:
    """A compact run-length description, e.g. '3×mamba, 1×attention, …'."""
    runs: list[tuple[str, int]] = []
    for layer in layers:
        if runs and runs[-1][0] == layer.mixer:
            runs[-1] = (layer.mixer, runs[-1][1] + 1)
        else:
            runs.append((layer.mixer, 1))
    return ", ".join(f"{n}×{m}" for m, n in runs)
