"""The package layers hold: the library never reaches up into the CLI, the runtime never needs
the test kit, the push client never needs the local Hub server, checkpoint/ knows no card and
no network."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"


def _imports(path: Path) -> set[str]:
    """Every module a file imports (at the top or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _offenders(files: list[Path], forbidden: str) -> list[str]:
    return sorted(
        f"{_module(f)} imports {name}"
        for f in files
        for name in _imports(f)
        if name == forbidden or name.startswith(forbidden + ".")
    )


def _files(*exclude: str) -> list[Path]:
    return [
        f
        for f in PACKAGE.rglob("*.py")
        if not any(_module(f).startswith(prefix) for prefix in exclude)
    ]


@pytest.mark.parametrize(
    ("forbidden", "allowed"),
    [
        ("publisher.commands", ("publisher.commands", "publisher.cli")),
        ("publisher.testkit", ("publisher.testkit", "publisher.demo")),
        ("publisher.localhub", ("publisher.localhub", "publisher.demo", "publisher.commands.hub")),
    ],
)
def test_layers_are_not_crossed(forbidden: str, allowed: tuple[str, ...]) -> None:
    assert _offenders(_files(*allowed), forbidden) == []


@pytest.mark.parametrize("forbidden", ["publisher.card", "publisher.hub", "huggingface_hub"])
def test_checkpoint_knows_no_card_and_no_network(forbidden: str) -> None:
    assert _offenders(sorted((PACKAGE / "checkpoint").glob("*.py")), forbidden) == []
