"""What a card's text claims about the model: its title size, stated parameter counts, the base
model it says it comes from, and the repository ids it names in commands, code and URLs.

Heuristic text extraction, kept apart from the checks so each rule is small and testable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from publisher.card.card_source import CardSource

_SCALE = {"b": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "t": 1e12, "trillion": 1e12}
# A size inside a model name: 27B, 0.8B, 350M; not A3B (active) nor 8x7B.
_NAME_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)([BMT])(?![A-Za-z0-9])", re.IGNORECASE)
_NUMBER = r"(\d+(?:\.\d+)?)\s*(billion|million|trillion|[BMT])(?![A-Za-z0-9])"
_STATED = (
    re.compile(
        r"(?<!active )(?<!activated )(?:number of parameters|total parameters|parameter count"
        r"|parameters|params)[*_]*\s*[:|]?\s*\|?\s*[*_]*~?" + _NUMBER,
        re.IGNORECASE,
    ),
    # (?<![\d.]): start at a number's first digit only; from every digit of a long run the
    # search is quadratic (a card line of 20,000 digits took 25 s)
    re.compile(r"(?<![\d.])" + _NUMBER + r"[\s-]*(?:total\s+)?param(?:eter)?s?\b", re.IGNORECASE),
)
_REPO = r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*[A-Za-z0-9]"
_MODEL_NAME = r"[A-Z][\w.-]*\d[\w.-]*[A-Za-z0-9]"
_RELATION = (
    r"(?P<verb>version of|quantization of|quantized from|quantizes|quantised from|quantises"
    r"|fine-?tuned? (?:from|of|on)|finetuned? (?:from|of|on)|fine-?tune of|based on|derived from"
    r"|distilled from|merged? (?:from|of)|adapter (?:for|of|on))"
)
_BASE_MENTION = re.compile(
    _RELATION + r"\s+(?:the\s+|an?\s+)?[\[`*]*(?P<model>" + _REPO + "|" + _MODEL_NAME + ")",
    re.IGNORECASE,
)
_BASE_SIZE = re.compile(
    _RELATION + r"\s+(?:the\s+|an?\s+)?(?P<size>" + _NUMBER + r")[\s-]*(?:param\w*\s+)?model",
    re.IGNORECASE,
)
_BASE_ROW = re.compile(
    r"^\|?\s*base[ _]model\s*(?:\||:|\s)\s*[\[`*]*(?P<model>" + _REPO + ")", re.I
)
HF_URL = re.compile(
    r"https?://(?:www\.)?(?:huggingface\.co|hf\.co)/(?!(?:datasets|spaces|docs|blog|papers"
    r"|collections|models|organizations|settings|api|join|login|tasks|learn)/)"
    r"(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>[A-Za-z0-9][\w.-]*[A-Za-z0-9])"
)
_ANY_URL = re.compile(r"\b[a-z][a-z0-9+.-]{0,31}://\S+", re.IGNORECASE)  # bounded: linear time
_CODE_REPO = re.compile(
    r"(?<![\w./:@-])(?P<owner>[A-Za-z0-9][\w.-]{0,95})/(?P<name>[A-Za-z0-9][\w.-]{0,95})(?![\w/])"
)
_INLINE_CODE = re.compile(r"`([^`]+)`")
_COMMAND = re.compile(
    r"^\s*(?:\$\s*)?(?:vllm|python3?|sglang|transformers|huggingface-cli|hf|pip3?|uv|docker"
    r"|curl|wget|git|llama-server|llama-cli|ollama|mlx_lm\.\w+|lmdeploy|trtllm-serve"
    r"|text-generation-launcher|accelerate|torchrun)\b"
    r"|from_pretrained\(|\bmodel(?:_id|_name)?\s*=|--model(?:-path)?\b"
)
_QUANT_HINT = re.compile(
    r"quantiz|nvfp4|\bfp8\b|\bfp4\b|\bgguf\b|\bawq\b|\bgptq\b|\bint[48]\b|\b[48]-?bit\b|\bexl2\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:than|vs\.?|versus|compared|comparable|outperform\w*|beat\w*|rival\w*|match\w*"
    r"|like|other|larger|smaller|bigger|previous|teacher|unlike)\b",
    re.IGNORECASE,
)
_COMPARISON_WINDOW = 50
_PLURAL_MODELS = re.compile(r"[\s-]*(?:param\w*\s+)?models\b", re.IGNORECASE)
_H1 = re.compile(r"^ {0,3}#\s+")
_TITLE_WINDOW = 10
_SIZE_RELATIONS = ("version", "quantiz", "quantis", "fine", "finetun")


@dataclass(frozen=True)
class Stated:
    """A number of parameters the text states for the model itself."""

    line: int
    count: float
    text: str


@dataclass(frozen=True)
class BaseMention:
    """The text says the model derives from `model` (a repo id or a name) or from a `size` model."""

    line: int
    verb: str
    model: str | None
    size: float | None

    @property
    def keeps_size(self) -> bool:
        """Quantizing or fine-tuning keeps the parameter count; distilling or merging need not."""
        return self.verb.lower().startswith(_SIZE_RELATIONS)


@dataclass(frozen=True)
class RepoRef:
    line: int
    owner: str
    name: str

    @property
    def repo_id(self) -> str:
        return f"{self.owner}/{self.name}"


def to_count(number: str, unit: str) -> float:
    return float(number) * _SCALE[unit.lower()]


def name_size(name: str) -> float | None:
    """The total size written in a model name: 'Qwen3.5-35B-A3B' → 35e9; None without one."""
    match = _NAME_SIZE.search(name)
    return to_count(match.group(1), match.group(2)) if match else None


def format_count(count: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if count >= scale or (unit == "B" and count >= 1e8):
            return f"{count / scale:.2f}".rstrip("0").rstrip(".") + unit
    return f"{count:.0f}"


def title(card: CardSource) -> tuple[int, str] | None:
    """The card's title: a `# ` heading among its first lines, else its first non-empty line."""
    prose = [(n, t) for n, t in card.prose() if t.strip()][:_TITLE_WINDOW]
    for number, text in prose:
        if _H1.match(text):
            return number, _short(_H1.sub("", text))
    return (prose[0][0], _short(prose[0][1].strip())) if prose else None


def _short(text: str) -> str:
    """A heading cut where a collapsed card's next block starts."""
    return re.split(r"\s+(?:>|#{1,6}\s|\*\*)", text, maxsplit=1)[0][:120].strip()


def stated_counts(card: CardSource) -> list[Stated]:
    found: list[Stated] = []
    for number, text in card.prose():
        spans: list[tuple[int, int]] = []
        for pattern in _STATED:
            for match in pattern.finditer(text):
                if any(s <= match.start() < e for s, e in spans):
                    continue
                spans.append(match.span())
                if about_other_models(text, match.start(), match.end()):
                    continue
                count = to_count(match.group(1), match.group(2))
                found.append(Stated(number, count, match.group(0).strip()))
    return found


def about_other_models(text: str, start: int, end: int) -> bool:
    """A count in a comparison ('beats models with 7B parameters') is not about this model."""
    before = text[max(0, start - _COMPARISON_WINDOW) : start]
    return bool(_COMPARISON.search(before) or _PLURAL_MODELS.match(text, end))


def base_mentions(card: CardSource) -> list[BaseMention]:
    found: list[BaseMention] = []
    for number, text in card.prose():
        for match in _BASE_MENTION.finditer(text):
            found.append(BaseMention(number, match["verb"], match["model"].rstrip("."), None))
        for match in _BASE_SIZE.finditer(text):
            if about_other_models(text, match.start(), match.end()):
                continue
            size = to_count(*re.findall(_NUMBER, match["size"])[0])
            found.append(BaseMention(number, match["verb"], None, size))
        if row := _BASE_ROW.match(text.strip()):
            found.append(BaseMention(number, "base model", row["model"], None))
    return found


def looks_quantized(card: CardSource) -> bool:
    return any(_QUANT_HINT.search(text) for _, text in card.body())


def repo_refs(card: CardSource) -> list[RepoRef]:
    """Repo ids named in Hub URLs, code blocks, inline code and command lines."""
    found: list[RepoRef] = []
    continued = False
    for number, text in card.body():
        found += [RepoRef(number, m["owner"], _trim(m["name"])) for m in HF_URL.finditer(text)]
        without_urls = _ANY_URL.sub(" ", text)
        code = _code_parts(card, number, without_urls, continued)
        continued = bool(code) and text.rstrip().endswith("\\")
        for part in code:
            found += [
                RepoRef(number, m["owner"], _trim(m["name"])) for m in _CODE_REPO.finditer(part)
            ]
    return [ref for ref in found if _plausible_repo(ref)]


def _code_parts(card: CardSource, number: int, text: str, continued: bool) -> list[str]:
    """The parts of a line that are code: the whole line in a fence, indented or a command."""
    if number in card.code_lines or continued or _COMMAND.search(text):
        return [text]
    if text.startswith("    ") and not text.lstrip().startswith(("-", "*", "•")):
        return [text]
    return _INLINE_CODE.findall(text)


def _trim(name: str) -> str:
    return re.sub(r"(\.git|[.,;:])+$", "", name)


def _plausible_repo(ref: RepoRef) -> bool:
    return any(c.isalpha() for c in ref.name) and not re.search(
        r"\.(py|json|md|sh|txt|ya?ml)$", ref.name
    )
