"""Load YAML into plain data while remembering where every key and value stands.

Safe by construction: only YAML's standard scalar types, duplicate keys refused, the expanded
size bounded (an alias bomb stops at MAX_NODES), the nesting depth bounded (MAX_DEPTH, checked
on the event stream before anything recursive runs: libyaml's composer recurses in C and a
100,000-deep `[[[...]]]` crashes the process), and the file size capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 2 * 1024 * 1024
# libyaml's parser when PyYAML was built with it (10× faster); the same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 200_000
MAX_DEPTH = 100  # nesting of mappings and sequences (specs need 6 or so)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)

KeyPath = tuple[str | int, ...]


@dataclass
class YamlProblem(Exception):
    """A YAML file that cannot be used: `code` is the finding code the caller reports."""

    code: str
    message: str
    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class SourceMap:
    """Key path → (file, line, column), 1-based, for findings that point into specs."""

    positions: dict[KeyPath, tuple[str, int, int]] = field(default_factory=dict)
    values: dict[KeyPath, tuple[str, int, int]] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> tuple[str, int, int] | None:
        """The position of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while True:
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def value_start(self, path: KeyPath) -> tuple[str, int, int] | None:
        """Where a scalar value's text starts (after an opening quote), for column pointers."""
        return self.values.get(tuple(path))

    def update(self, other: SourceMap) -> None:
        self.positions.update(other.positions)
        self.values.update(other.values)


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise YamlProblem("SPEC005", "file not found", str(path)) from None
    except OSError as error:
        raise YamlProblem("SPEC005", f"cannot read file: {error.strerror}", str(path)) from None
    if path.is_dir():
        raise YamlProblem("SPEC005", "is a directory, not a spec file", str(path))
    if size > MAX_BYTES:
        raise YamlProblem(
            "SPEC006",
            f"spec is {size:,} bytes; the limit is {MAX_BYTES:,} (a spec describes one model)",
            str(path),
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise YamlProblem(
            "SPEC001", f"not UTF-8 text (byte {error.start}); save the file as UTF-8", str(path)
        ) from None
    except OSError as error:
        raise YamlProblem("SPEC005", f"cannot read file: {error.strerror}", str(path)) from None


def _too_deep(problem_at: Any, file: str) -> YamlProblem:
    return YamlProblem(
        "SPEC006",
        f"YAML nested more than {MAX_DEPTH} levels deep; a spec needs a handful",
        file,
        problem_at.line + 1 if problem_at else None,
        problem_at.column + 1 if problem_at else None,
    )


def _check_depth(text: str, file: str, loader: Any = _LOADER) -> None:
    """Refuse text nested deeper than MAX_DEPTH, reading events only as far as the proof."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(event.start_mark, file)
        elif isinstance(event, _CLOSE):
            depth -= 1


def _checked_loader(text: str, file: str) -> Any:
    """The loader to compose `text` with, once its depth is known to be within MAX_DEPTH.

    The nesting limit is publisher's own whatever the PyYAML version: PyYAML 6.0.4's libyaml
    binding stops deep flow nesting with its own error ("exceeded maximum nesting depth")
    before our event count gets there, so then the pure-Python parser (no such limit, and
    iterative) counts the depth and composes the text."""
    try:
        _check_depth(text, file)
    except yaml.YAMLError as error:
        if _LOADER is yaml.SafeLoader or "nesting depth" not in str(error):
            raise
        _check_depth(text, file, yaml.SafeLoader)
        return yaml.SafeLoader
    return _LOADER


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain Python data and its source map."""
    try:
        loader = _checked_loader(text, file)
        node = yaml.compose(text, Loader=loader)
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        at_line, at_column = _position(text, error.position)
        char = error.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        reason = f"character {shown} is not allowed in YAML ({_one_line(error.reason)})"
        raise YamlProblem("SPEC001", reason, file, at_line, at_column) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = _one_line(error.problem or error.context or "invalid YAML")
        raise YamlProblem("SPEC001", f"YAML syntax error: {reason}", file, line, column) from None
    except yaml.YAMLError as error:
        raise YamlProblem("SPEC001", f"YAML error: {_one_line(str(error))}", file) from None
    source = SourceMap()
    if node is None:
        return None, source
    builder = _Builder(file, source)
    return builder.build(node, ()), source


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a reader error's offset (libyaml counts UTF-8 bytes)."""
    if _LOADER is not yaml.SafeLoader:
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


class _Builder:
    def __init__(self, file: str, source: SourceMap):
        self.file = file
        self.source = source
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: KeyPath, depth: int = 0) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH:  # aliases can nest deeper than the text
            raise _too_deep(node.start_mark, self.file)
        if self.nodes > MAX_NODES:
            raise YamlProblem(
                "SPEC006",
                f"YAML expands to more than {MAX_NODES:,} values (an alias bomb?); "
                "remove the repeated aliases",
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        self.source.positions.setdefault(
            path, (self.file, node.start_mark.line + 1, node.start_mark.column + 1)
        )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError, OverflowError) as error:
            # ValueError: a timestamp such as 2024-02-30, an int of more than 4,300 digits
            problem = getattr(error, "problem", None) or str(error)
            raise YamlProblem(
                "SPEC001",
                f"YAML value error: {_one_line(problem)[:200]}",
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(
                    "SPEC001",
                    "YAML merge keys ('<<') are not supported; use 'extends:' instead",
                    self.file,
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            key = self.build(key_node, (*path, "<key>"), depth + 1)
            if not isinstance(key, str):
                key = str(key)
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key in result:
                first = self.source.positions.get((*path, key))
                where = f" (first at line {first[1]})" if first else ""
                raise YamlProblem(
                    "SPEC002",
                    f"duplicate key '{key}'{where}; keep one of them",
                    self.file,
                    line,
                    column,
                )
            self.source.positions[(*path, key)] = (self.file, line, column)
            if isinstance(value_node, yaml.ScalarNode):
                quoted = 1 if value_node.style in ("'", '"') else 0
                mark = value_node.start_mark
                self.source.values[(*path, key)] = (
                    self.file,
                    mark.line + 1,
                    mark.column + 1 + quoted,
                )
            result[key] = self.build(value_node, (*path, key), depth + 1)
        self.source.positions.pop((*path, "<key>"), None)
        return result
