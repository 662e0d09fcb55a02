"""Architecture and quantization facts a card states, wherever it states them: prose, bullet
lists (`- **Layers**: 24`), key/value pipe tables (with or without a header row) and HTML
tables. Heuristic extraction only; rules_truth.py compares the claims with a ModelTruth.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from publisher.card import claims as text_claims
from publisher.card.card_source import CardSource
from publisher.card.markdown_tables import find_pipe_tables


@dataclass(frozen=True)
class Claim:
    """The card states `value` for fact `key` on `line` (`text` is what it wrote)."""

    key: str
    value: object
    line: int
    text: str


@dataclass(frozen=True)
class Statement:
    """A labelled value (`Layers` → `24`) or a line of prose (label '')."""

    line: int
    label: str
    value: str


# --- statements: where values sit -------------------------------------------------------

_TAGS = re.compile(r"<[^>]{0,400}>")
_EMPHASIS = re.compile(r"[*_`]+")
_LABELLED = re.compile(
    r"^\s*(?:[-*+•]\s+|\d{1,2}[.)]\s+)?(?:\*\*|__)?(?P<label>[A-Za-z][^:*|]{1,60}?)(?:\*\*|__)?"
    r"\s*[:：]\s*(?:\*\*|__)?\s*(?P<value>\S.{0,300})$"
)
_PARENT = re.compile(
    r"^\s*(?:[-*+•]\s+(?:\*\*|__)?(?P<label>[A-Za-z][^:*|.]{1,60}?)(?:\*\*|__)?:?"
    r"|(?:\*\*|__)?(?P<heading>[A-Za-z][^:*|.]{1,60}?)(?:\*\*|__)?:)\s*$"
)
_HTML_ROW = re.compile(r"<tr\b[^>]{0,200}>(.{0,1000}?)</tr\s*>", re.IGNORECASE | re.DOTALL)
_HTML_CELL = re.compile(r"<t[dh]\b[^>]{0,200}>(.*?)</t[dh]\s*>", re.IGNORECASE | re.DOTALL)
_VALUE_HEADERS = re.compile(r"^(value|values|details?|setting|spec(ification)?|)$", re.IGNORECASE)
MAX_HTML_CHARS = 200_000


def clean(text: str) -> str:
    """Cell or line text without tags, emphasis and entities."""
    return _EMPHASIS.sub("", html.unescape(_TAGS.sub(" ", text))).strip()


def statements(card: CardSource) -> Iterator[Statement]:
    prose = list(card.prose())
    for table in find_pipe_tables(prose):
        if table.width != 2 and not (
            table.width > 2 and _VALUE_HEADERS.match(clean(table.header.cells[1]))
        ):
            continue
        rows = [table.header, *table.rows] if table.width == 2 else list(table.rows)
        for row in rows:
            if len(row.cells) >= 2 and row.cells[0].strip():
                yield Statement(row.line, clean(row.cells[0]), clean(row.cells[1]))
    yield from _html_statements(prose)
    parents: list[tuple[int, str]] = []  # (indent, label) of the list items above
    for number, text in prose:
        indent = len(text) - len(text.lstrip())
        if text.strip():
            parents = [(i, label) for i, label in parents if i < indent]
        if "|" not in text and (parent := _PARENT.match(_TAGS.sub(" ", text))):
            parents.append((indent, clean(parent["label"] or parent["heading"])))
        elif (
            "|" not in text
            and (match := _LABELLED.match(_TAGS.sub(" ", text)))
            and not re.search(r"(?<![\w.])\d+(?![\w.])", match["label"])
        ):
            label = ": ".join([*(p for _, p in parents), clean(match["label"])])
            yield Statement(number, label, clean(match["value"]))
            yield Statement(number, "", f"{label}: {clean(match['value'])}")  # with its context
            continue
        yield Statement(number, "", clean(text))


def _html_statements(prose: list[tuple[int, str]]) -> Iterator[Statement]:
    """Rows of HTML tables, even when a row's cells sit on several lines."""
    if not any("<t" in t.lower() for _, t in prose):
        return
    starts: list[int] = []
    text = ""
    for _number, line in prose:
        starts.append(len(text))
        text += line + "\n"
        if len(text) > MAX_HTML_CHARS:
            break
    numbers = [n for n, _ in prose]
    for row in _HTML_ROW.finditer(text):
        matches = list(_HTML_CELL.finditer(row.group(1)))
        cells = [clean(m.group(1)) for m in matches]
        if len(cells) >= 2 and cells[0]:
            index = _line_index(starts, row.start(1) + matches[1].start())  # the value's line
            yield Statement(numbers[index], cells[0], cells[1])


def _line_index(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if starts[mid] <= offset:
            low = mid
        else:
            high = mid - 1
    return low


# --- numbers ----------------------------------------------------------------------------

_INT = r"(\d{1,3}(?:,\d{3})+|\d{1,9})"
_SIZED = r"(\d{1,3}(?:,\d{3})+|\d{1,9}(?:\.\d+)?\s?[KkM]?)(?!\w|[.,]\d)"


def to_int(text: str) -> int:
    return int(text.replace(",", ""))


def sized_values(text: str) -> tuple[float, ...]:
    """'262,144' → (262144,); '256K' → (256000, 262144); '1M' → (1e6, 1048576)."""
    text = text.replace(" ", "")
    unit = text[-1].upper() if text[-1] in "KkM" else ""
    number = float(text.rstrip("KkM").replace(",", ""))
    if unit == "K":
        return (number * 1000, number * 1024)
    if unit == "M":
        return (number * 1e6, number * 1024 * 1024)
    return (number,)


# --- labelled values --------------------------------------------------------------------

_NOT_TEXT_STACK = re.compile(
    r"vision|visual|vit\b|image|audio|encoder|mtp|draft|calibrat|expert|intermediate|ffn|mlp",
    re.I,
)
_LABEL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("layout", re.compile(r"layout|layer (?:pattern|arrangement)", re.I)),
    ("deltanet", re.compile(r"deltanet|linear[ _-]?attention", re.I)),
    ("kv_heads", re.compile(r"\b(?:kv|key[- /]?value)[\s_-]*(?:attention[\s_-]*)?heads?\b", re.I)),
    ("head_dim", re.compile(r"head[\s_-]*dim|head[\s_-]*size", re.I)),
    ("heads", re.compile(r"\bheads\b|\bq(?:uery)?[\s_-]*head\b|num_attention_heads", re.I)),
    ("experts_active", re.compile(r"(?:activ\w*|routed|selected)[\s_-]*experts|experts[\s_-]*(?:per[\s_-]*token|activ\w*)|num_experts_per_tok|top[- ]?k", re.I)),
    ("experts", re.compile(r"^(?:number of |num[ _]|total |routed )?experts?(?: count| total)?$|num_experts|n_routed_experts", re.I)),
    ("layers", re.compile(r"^(?:number of |num(?:ber)?[ _]of[ _]|total |hidden |transformer |decoder |text )*layers?(?: count| total| \(total\))?$|num_hidden_layers|^depth$", re.I)),
    ("hidden_size", re.compile(r"^(?:model |text )?(?:hidden[\s_-]*(?:size|dim\w*)|d_model|model dim\w*|embedding (?:size|dim\w*))$", re.I)),
    ("vocab", re.compile(r"vocab", re.I)),
    ("context", re.compile(r"context|max(?:imum)?[\s_]*(?:position|sequence|seq)[\s_]*(?:length|len|embeddings)?|max_position_embeddings", re.I)),
    ("params_active", re.compile(r"activ\w* param", re.I)),
    ("formats", re.compile(r"^(?:quantization|quantisation|quant(?:ization)? (?:format|method|scheme|type)|weight (?:format|precision|dtype)|precision|format|dtype)$", re.I)),
    ("checkpoint_bytes", re.compile(r"^(?:checkpoint |model |file |disk |download |weights? )(?:size|on disk)$|^size on disk$", re.I)),
)  # fmt: skip

_HEAD_PARTS = re.compile(
    r"(\d{1,4})\s*(?:for\s+|\(\s*)?(QK|KV|Q|K|V|query|key[- /]value|value|key)\b", re.I
)
_HEAD_DIM = re.compile(r"head[\s_-]*dim\w*\s*(?:of|:|=)?\s*(\d{1,5})", re.I)
_END = r"(?!\w|[.,]\d)"
_FIRST_INT = re.compile(r"(?<![\w.])" + _INT + _END)
_FIRST_SIZED = re.compile(r"(?<![\w.])" + _SIZED)
_LAYOUT = re.compile(r"(?<![\d.])\d{1,6}\s*[×xX*]\s*\(")
_HEAD_DIM_LABEL = re.compile(r"head[\s_-]*(?:dim\w*|size)", re.I)


_LEADING = re.compile(r"^\s*(?:~|≈|about\s+|around\s+|approximately\s+)?")


def _leading_int(value: str) -> re.Match[str] | None:
    """The number a value starts with ('24 (18 + 6)', '~2,048'); None when the value is a
    sentence with a number somewhere in it ('queries pass a rank-1536 bottleneck')."""
    return _FIRST_INT.match(value, _LEADING.match(value).end())  # type: ignore[union-attr]


def _labelled(statement: Statement) -> Iterator[Claim]:
    label = statement.label
    own = label.rsplit(": ", 1)[-1]
    if _HEAD_DIM_LABEL.search(own) and not _NOT_TEXT_STACK.search(label):
        key = "deltanet_head_dim" if _LINEAR_MIXER.search(label) else "head_dim"
        if match := _leading_int(statement.value):
            yield Claim(key, to_int(match[1]), statement.line, statement.value)
        return
    for key, pattern in _LABEL_RULES:
        if not pattern.search(own):
            continue
        if key in ("layers", "hidden_size", "heads", "kv_heads", "head_dim", "context") and (
            _NOT_TEXT_STACK.search(label)
        ):
            return
        yield from _parse_value(key, statement)
        return


def _parse_value(key: str, s: Statement) -> Iterator[Claim]:
    value = s.value
    if key == "layout":
        if found := _LAYOUT.search(value):
            layout = balanced(value[found.start() :])
            yield Claim("layout", layout, s.line, layout)
        return
    if key in ("deltanet", "heads", "kv_heads"):
        yield from _heads(key, s)
        return
    if key == "formats":
        from publisher.card.truth import format_words

        words = format_words(value)
        if words and not re.search(r"kv[- ]?cache", value, re.I):
            yield Claim("formats", frozenset(words), s.line, value)
        return
    if key == "params_active":
        match = re.search(
            r"(?<![\d.])(\d{1,6}(?:\.\d{1,3})?)\s*(billion|million|[BM])\b", value, re.I
        )
        if match:
            yield Claim(key, text_claims.to_count(match[1], match[2]), s.line, value)
        return
    if key == "checkpoint_bytes":
        yield from _gigabytes(s.line, value, value)
        return
    if key == "context":
        match = _FIRST_SIZED.search(value)
        if match:
            yield Claim(key, sized_values(match[1]), s.line, value)
        return
    match = _leading_int(value)
    if match:
        yield Claim(key, to_int(match[1]), s.line, value)
    if key == "experts" and (
        active := re.search(r"(?<!\d)(\d{1,4})\s*(?:routed|activ\w*|per token)", value)
    ):
        yield Claim("experts_active", int(active[1]), s.line, value)


_ARROW = re.compile(r"\s*(?:→|->)\s*")
_REPEAT = re.compile(r"\d{1,6}\s*[×xX*]\s*\(")
_BARE_TERM = re.compile(r"[A-Za-z][\w.\-]*(?:\s[A-Za-z][\w.\-]*){0,3}")


def _group_end(text: str) -> int:
    """Where the parenthesised group that `text` opens closes (len(text) if it never does)."""
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def balanced(text: str) -> str:
    """The layout string alone: its `N × (…)` groups and bare terms joined by arrows, up to
    whatever follows it ('3 × (MLA → FFN) → 58 × (MLA → MoE) - Next item: …')."""
    end = _group_end(text)
    while arrow := _ARROW.match(text, end):
        rest = arrow.end()
        if _REPEAT.match(text, rest):
            end = rest + _group_end(text[rest:])
        elif term := _BARE_TERM.match(text, rest):
            end = term.end()
        else:
            break
    return text[:end]


_PAIR_LABEL = re.compile(r"\bq(?:uery)?\s*/\s*(?:kv|key[- ]value)\b", re.I)
_PAIR_VALUE = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\b")


def _heads(key: str, s: Statement) -> Iterator[Claim]:
    if _PAIR_LABEL.search(s.label) and (pair := _PAIR_VALUE.match(s.value)):
        yield Claim("heads", int(pair[1]), s.line, s.value)  # "Q / KV heads | 8 / 2"
        yield Claim("kv_heads", int(pair[2]), s.line, s.value)
        return
    prefix = (
        "deltanet_" if key == "deltanet" or re.search(r"deltanet|linear", s.label, re.I) else ""
    )
    parts = _HEAD_PARTS.findall(s.value)
    if key == "deltanet" and not re.search(r"heads?", s.label + s.value, re.I):
        return
    for number, role in parts:
        role = role.lower()
        if prefix:
            name = {"v": "v_heads", "value": "v_heads", "qk": "qk_heads", "k": "qk_heads"}.get(
                role, "qk_heads" if role in ("q", "key", "query") else "v_heads"
            )
            yield Claim("deltanet_" + name, int(number), s.line, s.value)
        else:
            name = "kv_heads" if role in ("kv", "key-value", "key/value", "key value") else "heads"
            yield Claim(name, int(number), s.line, s.value)
    if not parts and (match := _leading_int(s.value)) and not prefix:
        yield Claim(key, to_int(match[1]), s.line, s.value)
    if dim := _HEAD_DIM.search(s.value):
        yield Claim(prefix + "head_dim", int(dim[1]), s.line, s.value)


# --- prose ------------------------------------------------------------------------------

_PROSE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("layers", re.compile(r"(?:\b(?:has|with|of|contains|comprises|total of|stack of|all)\s+)" + _INT + r"\s+(?:hidden\s+|transformer\s+|decoder\s+)?layers\b|(?<![\w.,])" + _INT + r"[- ]layers?\s+(?:in (?:total|all)|deep|stack|decoder|transformer|hybrid|model|network|architecture|backbone)\b|(?<![\w.,])" + _INT + r"-layer\b", re.I)),
    ("hidden_size", re.compile(r"hidden\s+(?:size|dimension|dim)\s*(?:of|is|:|=)?\s*" + _INT + r"(?!\w|[.,]\d)", re.I)),
    ("heads", re.compile(r"(?<![\w.])(\d{1,4})\s+(?:query|Q|attention)\s+heads\b|(?<![\w.])(\d{1,4})\s*Q\s*/\s*\d{1,4}\s*KV\b", re.I)),
    ("kv_heads", re.compile(r"(?<![\w.])(\d{1,4})\s+(?:KV|key[- ]value)\s+heads\b|\bQ\s*/\s*(\d{1,4})\s*KV\b", re.I)),
    ("head_dim", re.compile(r"head\s+dim(?:ension)?\s*(?:of|is|:|=)?\s*(\d{1,5})(?![\w.])", re.I)),
    ("context", re.compile(r"(?<![\w.])" + _SIZED + r"[- ]?(?:tokens?[- ])?(?:token\s+)?context\b|context\s+(?:length|window)?\s*(?:of|is|:|=|up to)\s*(?:up to\s+)?" + _SIZED + r"(?:\s*tokens)?", re.I)),
    ("vocab", re.compile(r"vocabulary\s+(?:size\s+)?(?:of\s+)?" + _INT + r"(?!\w|[.,]\d)|(?<![\w.])" + _INT + r"[- ]token\s+vocabulary", re.I)),
    ("experts_active", re.compile(r"(?<![\w.])(\d{1,4})\s+(?:routed\s+|activ\w*\s+)?experts?\s+(?:per\s+token|are\s+activ\w*|activ\w*)|activates?\s+(\d{1,4})\s+(?:routed\s+)?experts|(?<![\w.])(\d{1,4})\s+(?:activ\w*|selected)\s+experts", re.I)),
    ("experts", re.compile(r"(?<![\w.,+])(\d{1,4})\s+(?:total\s+|routed\s+)?experts\b(?!\s+(?:per|are\s+activ|activ))", re.I)),
    ("params_active", re.compile(r"(?<![\d.])(\d{1,6}(?:\.\d{1,3})?)\s*(B|billion)\s+(?:active|activated)\b", re.I)),
)  # fmt: skip
_TEXT_STACK_KEYS = frozenset({"layers", "hidden_size", "heads", "kv_heads", "head_dim"})
_PART_WINDOW = 60
_AFTER_WINDOW = 30
_LINEAR_MIXER = re.compile(r"deltanet|linear[ _-]?attention|mamba|ssm", re.I)
_MOE = re.compile(
    r"\bmixture[- ]of[- ]experts\b|\bMoE\b|\bsparse(?:ly)?[- ](?:activated|gated)\b", re.I
)
_DENSE = re.compile(
    r"\bdense\s+(?:\w+\s+)?(?:model|transformer|architecture|decoder|llm|language model|network)\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:not|no|non|never|unlike|instead of|rather than)\b[\w\s-]{0,12}$", re.I
)
_QUANT_PROSE = re.compile(
    r"(?:quantiz|quantis|compress)\w*\s+(?:\w+\s+){0,3}?(?:to|in|with|as|using|into)\s+(?:the\s+)?"
    r"(?P<a>nvfp4|mxfp4|fp8|fp4|int4|int8|awq|gptq|w4a16|w8a8)\b"
    r"|\b(?P<b>nvfp4|mxfp4|fp8|fp4|int4|int8|w4a16|w8a8)[- ](?:quantiz\w+|quantis\w+|checkpoint|weights|version|variant)\b",
    re.I,
)
_SIZE_RATIO = re.compile(
    r"(?:~|about\s+|around\s+|roughly\s+)?(?<![\d.])(\d{1,4}(?:\.\d{1,3})?)\s*[x×]\s*(?:smaller|less\s+memory|"
    r"(?:memory\s+|size\s+)?(?:reduction|compression))"
    r"|compression(?:\s+ratio)?\s*(?:of|:|\|)?\s*[~≈]?\s*(\d{1,4}(?:\.\d{1,3})?)\s*[x×]",
    re.I,
)
_GB = re.compile(r"(?<![\w.])(\d{1,7}(?:\.\d{1,3})?)\s*(GB|GiB)\b")
_GB_CONTEXT = re.compile(
    r"checkpoint|on disk|download|this (?:model|repo)|weighs|footprint|files? total", re.I
)
_GB_OTHER = re.compile(
    r"bf16|fp16|original|base model|unquantized|full[- ]precision|vram|gpu", re.I
)


def _prose(s: Statement, title: str) -> Iterator[Claim]:
    text = s.value
    if _about_other_model(text, title):
        return
    for key, pattern in _PROSE:
        for match in pattern.finditer(text):
            number = next(g for g in match.groups() if g)
            if text_claims.about_other_models(text, match.start(), match.end()):
                continue
            if key in _TEXT_STACK_KEYS and (
                _NOT_TEXT_STACK.search(text[max(0, match.start() - _PART_WINDOW) : match.start()])
                or _NOT_TEXT_STACK.search(text[match.end() : match.end() + _AFTER_WINDOW])
            ):
                continue  # "Vision encoder: 27 blocks, hidden size 1,152"
            if key in _TEXT_STACK_KEYS and _LINEAR_MIXER.search(
                text[max(0, match.start() - _PART_WINDOW) : match.start()]
            ):
                continue  # "Linear-attention heads | 16 for V; head dim 128": labelled claims

            if key == "context":
                yield Claim(key, sized_values(number), s.line, match[0])
            elif key == "params_active":
                yield Claim(key, text_claims.to_count(match[1], match[2]), s.line, match[0])
            else:
                yield Claim(key, to_int(number), s.line, match[0])
    for pattern, is_moe in ((_MOE, True), (_DENSE, False)):
        for match in pattern.finditer(text):
            before = text[: match.start()]
            if _NEGATION.search(before) or text_claims.about_other_models(
                text, match.start(), match.end()
            ):
                continue
            yield Claim("moe", is_moe, s.line, match[0])
            break
    if _LAYOUT.search(text) and re.search(r"\)\s*$|→|->", text) and not s.label:
        start = _LAYOUT.search(text)
        assert start is not None
        layout = balanced(text[start.start() :])
        yield Claim("layout", layout, s.line, layout)
    if not re.search(r"kv[- ]?cache", text, re.I):
        for match in _QUANT_PROSE.finditer(text):
            from publisher.card.truth import format_words

            yield Claim("formats", frozenset(format_words(match[0])), s.line, match[0])
    for match in _SIZE_RATIO.finditer(text):
        ratio = float(match[1] or match[2])
        yield Claim("size_ratio", ratio, s.line, match[0])
    if _GB_CONTEXT.search(text) and not _GB_OTHER.search(text):
        yield from _gigabytes(s.line, text, text)


def _gigabytes(line: int, value: str, shown: str) -> Iterator[Claim]:
    match = _GB.search(value)
    if match:
        scale = 1e9 if match[2] == "GB" else 2**30
        yield Claim("checkpoint_bytes", float(match[1]) * scale, line, shown)


_OTHER_MODEL = re.compile(
    r"(?<![\w/.-])([A-Z][\w.]*-)?(\d+(?:\.\d+)?)B-A(\d+(?:\.\d+)?)B\b|\b\w+-\d+(?:\.\d+)?B\b"
)


def _about_other_model(text: str, title: str) -> bool:
    """A line naming a model with a size that is not in the title (a comparison or a sibling)."""
    lowered = title.lower()
    return any(match[0].lower() not in lowered for match in _OTHER_MODEL.finditer(text))


def card_claims(card: CardSource) -> list[Claim]:
    """Every architecture/quantization claim of the card, in line order."""
    heading = text_claims.title(card)
    title = heading[1] if heading else ""
    found: list[Claim] = []
    for s in statements(card):
        if s.label:
            found += _labelled(s)
        else:
            found += _prose(s, title)
    if heading:
        from publisher.card.truth import format_words

        words = {w for w in format_words(heading[1]) if w != "bf16"}
        if words:
            found.append(Claim("formats", frozenset(words), heading[0], heading[1]))
    unique: dict[tuple[str, int, str], Claim] = {}
    for claim in found:
        unique.setdefault((claim.key, claim.line, repr(claim.value)), claim)
    return sorted(unique.values(), key=lambda c: c.line)
