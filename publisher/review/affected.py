"""Which specs a change touches: a spec is affected when its own file, a family file its
`extends:` chain pulls in, a file of the template folder it renders with, or one of its
`card.overrides` partials differs from a git revision (work-tree edits and new files count)."""

from __future__ import annotations

from pathlib import Path

from publisher.spec.chain import extends_chain


def changed_paths(root: Path, since: str) -> set[Path]:
    """Files that differ between `since` and the work tree, and files git does not track yet."""
    from publisher.release.tags import git

    changed = git(root, "diff", "--name-only", "--no-renames", "-z", since, "--")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    names = [n for n in (changed + untracked).split("\0") if n]
    return {(root / name).resolve() for name in names}


def spec_inputs(spec: Path) -> set[Path]:
    """Every file the card of `spec` is made from (resolved paths)."""
    from publisher.card.render import find_templates_dir
    from publisher.spec.chain import read_mapping

    inputs = set(extends_chain(spec))
    templates = find_templates_dir(spec)
    name: object = "default"
    overrides: dict[object, object] = {}
    for part in reversed(extends_chain(spec)):  # the family first, the spec last (it wins)
        card = (read_mapping(part) or {}).get("card")
        if isinstance(card, dict):
            name = card.get("template", name)
            if isinstance(card.get("overrides"), dict):
                overrides.update(card["overrides"])
    folder = templates / (name if isinstance(name, str) else "default")
    if folder.is_dir():
        inputs |= {p.resolve() for p in folder.rglob("*") if p.is_file()}
    base = templates.parent
    inputs |= {(base / v).resolve() for v in overrides.values() if isinstance(v, str)}
    return inputs


def affected_specs(specs: list[Path], changed: set[Path]) -> list[Path]:
    """The specs among `specs` whose inputs include a changed file."""
    return [spec for spec in specs if spec_inputs(spec) & changed]
