"""Find spec files under the paths a user names (family files are not specs of their own)."""

from __future__ import annotations

from pathlib import Path

from publisher.findings import Finding, Location

FAMILY_DIR = "families"


def is_family_file(path: Path) -> bool:
    """A file in a `families/` folder: shared facts that specs pull in with `extends:`."""
    return FAMILY_DIR in path.parts[:-1]


def collect_spec_paths(paths: list[Path]) -> tuple[list[Path], list[Finding]]:
    """Spec files in name order, and a SPEC005 finding for each path that does not exist.

    A family file named on its own stands for the specs that extend it (directly or through
    another family file), found in the spec folder above its `families/` folder: that is what
    a change to it affects (pre-commit passes changed files one by one)."""
    found: list[Path] = []
    missing: list[Finding] = []
    for path in paths:
        try:
            is_dir, exists = path.is_dir(), path.exists()
        except (OSError, ValueError) as error:  # e.g. a name too long for the file system
            reason = getattr(error, "strerror", None) or "not a usable path"
            missing.append(
                Finding("SPEC005", f"cannot use this path: {reason}", Location(str(path)))
            )
            continue
        if is_dir:
            found.extend(_specs_in(path))
        elif exists and is_family_file(path):
            found.extend(_specs_extending(path))
        elif exists or path.suffix in (".yaml", ".yml"):
            found.append(path)
        else:
            missing.append(Finding("SPEC005", "no such file or folder", Location(str(path))))
    unique = list(dict.fromkeys(found))  # a spec named twice (or through a family) once
    return unique, missing


def _specs_in(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*.yaml"))
        if FAMILY_DIR not in p.relative_to(folder).parts[:-1]
    ]


def _specs_extending(family_file: Path) -> list[Path]:
    from publisher.spec.chain import specs_using

    parts = family_file.parts
    spec_folder = Path(*parts[: len(parts) - 1 - parts[::-1].index(FAMILY_DIR)])
    return specs_using(family_file, _specs_in(spec_folder))
