"""A hand-written model card split into what the checks need: the YAML frontmatter (with the
line of every key), the body lines, and which lines sit inside fenced code blocks.

Pure parsing: no findings here, only the facts (including *how* the frontmatter is broken).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

FrontmatterState = Literal["ok", "missing", "collapsed", "invalid"]

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_COLLAPSED_KEY = re.compile(r"^[A-Za-z_][\w.-]*:$")
# A frontmatter whose line breaks were lost: `--- key: v key: v --- # Title ...` on one line.
_COLLAPSED = re.compile(r"^---[ \t]+(?P<yaml>\S.*?)[ \t]+---(?:[ \t]+(?P<body>.*))?$")


@dataclass
class CardSource:
    """A card's text with its frontmatter parsed; line numbers are 1-based."""

    file: str | None
    lines: list[str]
    state: FrontmatterState
    frontmatter: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    item_lines: dict[str, list[int]] = field(default_factory=dict)
    error: tuple[int, str] | None = None
    body_start: int = 1
    collapsed_body: str | None = None
    code_lines: frozenset[int] = frozenset()

    def body(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every body line; a collapsed card's body is part of line 1."""
        if self.collapsed_body is not None:
            yield 1, self.collapsed_body
        for number in range(self.body_start, len(self.lines) + 1):
            yield number, self.lines[number - 1]

    def prose(self) -> Iterator[tuple[int, str]]:
        """Body lines outside fenced code blocks."""
        return ((n, text) for n, text in self.body() if n not in self.code_lines)

    def key_line(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def parse_card(text: str, file: str | None = None) -> CardSource:
    """Split `text` into frontmatter and body; never raises on a malformed card."""
    lines = text.lstrip("\ufeff").splitlines()
    card = CardSource(file=file, lines=lines, state="missing")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip() == "---":
        _parse_block(card, first)
    elif first is not None and (match := _COLLAPSED.match(lines[first].strip())):
        _parse_collapsed(card, first, match)
    card.code_lines = _fenced_lines(lines)
    return card


def _parse_block(card: CardSource, first: int) -> None:
    """A normal `---` ... `---` frontmatter starting at line index `first`."""
    close = next(
        (i for i in range(first + 1, len(card.lines)) if card.lines[i].strip() in ("---", "...")),
        None,
    )
    if close is None:
        card.state = "invalid"
        card.error = (first + 1, "the frontmatter opens with '---' but never closes")
        return
    card.body_start = close + 2
    _load_yaml(card, "\n".join(card.lines[first + 1 : close]), first + 2)


def _parse_collapsed(card: CardSource, first: int, match: re.Match[str]) -> None:
    """Rebuild the line breaks of a one-line frontmatter so its values can still be checked."""
    card.state = "collapsed"
    card.body_start = first + 2
    card.collapsed_body = match.group("body") or ""
    data = _load_mapping(rebuild_collapsed_yaml(match.group("yaml")))
    if data is not None:
        card.frontmatter = data
        card.key_lines = {key: first + 1 for key in data}
        card.item_lines = {key: [first + 1] * _count(data[key]) for key in data}


def rebuild_collapsed_yaml(flat: str) -> str:
    """`a: 1 b: - x - y` → 'a: 1\\nb:\\n- x\\n- y': one line per key and per list item."""
    out: list[str] = []
    for token in flat.split():
        if _COLLAPSED_KEY.match(token) or token == "-" or not out:
            out.append(token)
        else:
            out[-1] += " " + token
    return "\n".join(out)


def _load_mapping(text: str) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _load_yaml(card: CardSource, text: str, first_line: int) -> None:
    """Parse the frontmatter YAML, recording the line of every key and list item."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        card.state, card.error = "invalid", (line, f"the frontmatter is not valid YAML: {problem}")
        return
    except (ValueError, OverflowError) as error:  # a date such as 2024-02-30, a 5,000-digit int
        message = f"the frontmatter has a value YAML cannot read: {str(error)[:120]}"
        card.state, card.error = "invalid", (first_line, message)
        return
    except RecursionError:
        message = "the frontmatter is nested too deeply to read"
        card.state, card.error = "invalid", (first_line, message)
        return
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | type(None)):
        card.state = "invalid"
        card.error = (first_line, "the frontmatter is not a mapping of keys to values")
        return
    card.state, card.frontmatter = "ok", data
    for key_node, value_node in node.value if node is not None else []:
        key = str(key_node.value)
        card.key_lines[key] = first_line + key_node.start_mark.line
        items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        card.item_lines[key] = [first_line + item.start_mark.line for item in items]


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 1


def _fenced_lines(lines: list[str]) -> frozenset[int]:
    """1-based numbers of the lines inside (and including) fenced code blocks."""
    inside: set[int] = set()
    fence: str | None = None
    for number, line in enumerate(lines, start=1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            inside.add(number)
        elif fence is not None:
            inside.add(number)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
    return frozenset(inside)
