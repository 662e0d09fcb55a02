"""Which files a spec is made of: itself and every file its `extends:` chain pulls in.

Read the way lint reads specs (bounded, never raising), so that a broken file anywhere only cuts
the chain short; lint reports the problem itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_EXTENDS = 16

ROOT_MARKERS = (".git", "templates/default/card.md.j2")
"""What marks the top of a spec repository (a git checkout, or a publisher templates folder)."""


def spec_root(path: Path) -> Path:
    """The repository a spec belongs to: the nearest folder above it holding `.git` or
    templates/default/card.md.j2, else the spec's own folder. `extends` stays inside it."""
    folder = path.resolve().parent
    for parent in (folder, *folder.parents):
        if any((parent / marker).exists() for marker in ROOT_MARKERS):
            return parent
    return folder


def read_mapping(path: Path) -> dict[str, Any] | None:
    """The file's top-level mapping, or None for a file lint will report as unusable."""
    from publisher.spec.yamlsource import YamlProblem, load_yaml, read_text

    try:
        data, _ = load_yaml(read_text(path), str(path))
    except (YamlProblem, OSError):
        return None
    return data if isinstance(data, dict) else None


def extends_chain(path: Path) -> list[Path]:
    """The spec and every file its `extends:` chain pulls in (resolved; stops at a problem)."""
    chain = [path.resolve()]
    root = spec_root(path)
    current = path
    while len(chain) <= MAX_EXTENDS:
        data = read_mapping(current)
        parent = data.get("extends") if data else None
        if not isinstance(parent, str):
            break
        current = current.parent / parent
        resolved = current.resolve()
        if resolved in chain or not resolved.is_file() or not resolved.is_relative_to(root):
            break  # lint reports a cycle, a missing file or one outside the repository
        chain.append(resolved)
    return chain


def specs_using(family_file: Path, specs: list[Path]) -> list[Path]:
    """The specs among `specs` whose `extends:` chain pulls in `family_file`."""
    target = family_file.resolve()
    return [spec for spec in specs if target in extends_chain(spec)[1:]]
