"""Find spec files under the paths a user names (family files are not specs of their own)."""

from __future__ import annotations

from pathlib import Path

from publisher.findings import Finding, Location

FAMILY_DIR = "families"


def collect_spec_paths(paths: list[Path]) -> tuple[list[Path], list[Finding]]:
    """Spec files in name order, and a SPEC005 finding for each path that does not exist."""
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
            found.extend(
                p
                for p in sorted(path.rglob("*.yaml"))
                if FAMILY_DIR not in p.relative_to(path).parts[:-1]
            )
        elif exists or path.suffix in (".yaml", ".yml"):
            found.append(path)
        else:
            missing.append(Finding("SPEC005", "no such file or folder", Location(str(path))))
    return found, missing
