"""Load YAML into plain data while remembering where every key and value stands.

Safe by construction: only YAML's standard scalar types, duplicate keys refused, the expanded
size bounded (an alias bomb stops at MAX_NODES), and the file size capped.
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


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain Python data and its source map."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = error.problem or error.context or "invalid YAML"
        raise YamlProblem("SPEC001", f"YAML syntax error: {reason}", file, line, column) from None
    except yaml.YAMLError as error:
        raise YamlProblem("SPEC001", f"YAML error: {error}", file) from None
    source = SourceMap()
    if node is None:
        return None, source
    builder = _Builder(file, source)
    return builder.build(node, ()), source


class _Builder:
    def __init__(self, file: str, source: SourceMap):
        self.file = file
        self.source = source
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
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
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            raise YamlProblem(
                "SPEC001",
                f"YAML value error: {error.problem}",
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
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
            key = self.build(key_node, (*path, "<key>"))
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
            result[key] = self.build(value_node, (*path, key))
        self.source.positions.pop((*path, "<key>"), None)
        return result
