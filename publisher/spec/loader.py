"""Load a spec file: YAML with positions, `extends:` resolved, validated into a ModelSpec.

Merge rules for `extends: PATH` (a family file, relative to the spec):
- mappings merge key by key, recursively; the child's value wins;
- lists and scalars in the child replace the parent's whole value;
- a key set to null in the child removes the inherited value;
- chains are allowed (a family may extend another); cycles are an error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ValidationError

from publisher.findings import Finding, Location
from publisher.spec.chain import spec_root
from publisher.spec.model import ModelSpec
from publisher.spec.yamlsource import KeyPath, SourceMap, YamlProblem, load_yaml, read_text

MAX_EXTENDS_DEPTH = 8


@dataclass
class LoadedSpec:
    """The result of loading one spec: the model (when valid), where things are, and findings."""

    path: Path
    data: dict[str, Any] | None = None
    source: SourceMap = field(default_factory=SourceMap)
    spec: ModelSpec | None = None
    findings: list[Finding] = field(default_factory=list)
    unusable: bool = False

    def locate(self, *path: str | int) -> Location:
        """A Location for a key path, falling back to the nearest known ancestor."""
        position = self.source.locate(tuple(path))
        pointer = _pointer(path) or None
        if position is None:
            return Location(file=str(self.path), pointer=pointer)
        file, line, column = position
        return Location(file=file, line=line, column=column, pointer=pointer)

    def locate_value(self, *path: str | int) -> Location:
        """Like locate, but at the value's first character when the value is a scalar."""
        start = self.source.value_start(tuple(path))
        if start is None:
            return self.locate(*path)
        return Location(
            file=start[0], line=start[1], column=start[2], pointer=_pointer(path) or None
        )


def _pointer(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_spec(path: Path) -> LoadedSpec:
    """Load and validate; never raises for bad input: problems become findings."""
    result = LoadedSpec(path=path)
    try:
        data, source = _load_with_extends(path, (), spec_root(path))
    except YamlProblem as problem:
        result.unusable = True
        result.findings.append(
            Finding(
                problem.code,
                problem.message,
                Location(problem.file, problem.line, problem.column),
            )
        )
        return result
    result.data, result.source = data, source
    try:
        result.spec = ModelSpec.model_validate(data)
    except ValidationError as error:
        result.findings.extend(_validation_findings(error, result))
    if result.spec is not None:
        _resolve_profile_file(result)
    return result


def _resolve_profile_file(loaded: LoadedSpec) -> None:
    """A profile named as a .yaml file is read relative to the spec and must stay inside the
    spec's repository; the spec then carries its absolute path."""
    from publisher.spec.profile import is_profile_file

    spec = loaded.spec
    assert spec is not None
    value = spec.architecture.profile
    if not is_profile_file(value):
        return
    where = loaded.locate_value("architecture", "profile")
    candidate = Path(value)
    if candidate.is_absolute():
        loaded.findings.append(
            Finding(
                "SPEC203",
                f"architecture.profile '{shown_path(value)}' is an absolute path; name the "
                "profile file relative to the spec, inside its repository",
                where,
            )
        )
        return
    base = loaded.path.resolve().parent
    try:
        resolved = (base / candidate).resolve()
    except (OSError, RuntimeError):
        resolved = base / candidate
    root = repository_root(base)
    if not resolved.is_relative_to(root):
        loaded.findings.append(
            Finding(
                "SPEC203",
                f"architecture.profile '{shown_path(value)}' leads outside the repository "
                f"({shown_path(root)}); keep the profile file in the spec's repository",
                where,
            )
        )
        return
    architecture = spec.architecture.model_copy(update={"profile": str(resolved)})
    loaded.spec = spec.model_copy(update={"architecture": architecture})


def repository_root(folder: Path) -> Path:
    """The nearest folder above `folder` holding .git (a checkout), else `folder` itself."""
    for parent in (folder, *folder.parents):
        if (parent / ".git").exists():
            return parent
    return folder


def _confine_parent(path: Path, source: SourceMap, ref: str, root: Path) -> None:
    """`extends` names a file inside the spec's repository (links resolved), never an
    absolute path or one that climbs out with '..': the family's YAML lands in the card."""
    try:
        target = (path.parent / ref).resolve()
    except (OSError, ValueError, RuntimeError):
        return  # an unusable name: the checks that follow report it
    if PurePosixPath(ref).is_absolute() or not target.is_relative_to(root):
        position = source.locate(("extends",))
        raise YamlProblem(
            "SPEC004",
            f"'extends' names '{shown_path(ref)}', which leaves the repository ({root}); "
            "name a family file inside it, relative to the spec",
            str(path),
            position[1] if position else None,
            position[2] if position else None,
        )


def _load_with_extends(
    path: Path, chain: tuple[Path, ...], root: Path
) -> tuple[dict[str, Any], SourceMap]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " → ".join(p.name for p in (*chain, resolved))
        raise YamlProblem("SPEC003", f"'extends' cycle: {cycle}; remove one link", str(path))
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise YamlProblem("SPEC003", f"'extends' chain deeper than {MAX_EXTENDS_DEPTH}", str(path))
    data, source = load_yaml(read_text(path), str(path))
    if data is None and not chain:
        raise YamlProblem(
            "SPEC007", "the spec is empty; a spec is a YAML mapping of keys to values", str(path)
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise YamlProblem(
            "SPEC007", "a spec must be a YAML mapping of keys to values", str(path), 1, 1
        )
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data, source
    if not isinstance(parent_ref, str):
        position = source.locate(("extends",))
        raise YamlProblem(
            "SPEC004",
            "'extends' must be a path to a family file",
            str(path),
            position[1] if position else None,
            position[2] if position else None,
        )
    _confine_parent(path, source, parent_ref, root)
    parent_path = path.parent / parent_ref
    if _is_file(parent_path) and not _is_yaml(parent_path):
        position = source.locate(("extends",))
        raise YamlProblem(
            "SPEC004",
            f"'extends' names '{shown_path(parent_ref)}', which is not a family file (.yaml)",
            str(path),
            position[1] if position else None,
            position[2] if position else None,
        )
    if not _is_file(parent_path):
        position = source.locate(("extends",))
        shown = shown_path(parent_ref)
        raise YamlProblem(
            "SPEC004",
            f"'extends' names '{shown}', which does not exist (looked at {shown_path(parent_path)})",
            str(path),
            position[1] if position else None,
            position[2] if position else None,
        )
    parent, parent_source = _load_with_extends(parent_path, (*chain, resolved), root)
    parent.pop("extends", None)
    merged_source = SourceMap()
    merged_source.update(parent_source)
    merged_source.update(source)
    merged = merge(parent, data)
    return merged, merged_source


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def _is_yaml(path: Path) -> bool:
    """A family file is YAML by name, and so is what a link to it points at: other files
    (/etc/shadow, a private key, a .netrc) are never parsed, so never quoted in a finding."""
    try:
        names = (path.name, path.resolve().name)
    except (OSError, RuntimeError):  # a link loop
        return False
    return all(name.lower().endswith((".yaml", ".yml")) for name in names)


def shown_path(value: object, limit: int = 200) -> str:
    """A path from a spec as it can be printed on one line: control characters escaped,
    long values cut."""
    text = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value)
    )
    return text if len(text) <= limit else text[:limit] + "…"


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge a child spec over its parent (see the module docstring for the rules)."""
    result = dict(parent)
    for key, value in child.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def _validation_findings(error: ValidationError, loaded: LoadedSpec) -> list[Finding]:
    findings = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not _is_internal(part))
        kind = item["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            parent = loc[:-1]
            hint = _did_you_mean(key, _allowed_keys(parent))
            message = f"unknown key '{key}'" + (
                f"; did you mean '{hint}'?" if hint else "; remove it"
            )
            code = "SPEC010"
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'" if loc else "missing required key"
            code = "SPEC012"
            loc_for_position = loc[:-1]
            findings.append(Finding(code, message, loaded.locate(*loc_for_position)))
            continue
        else:
            where = _pointer(loc)
            message = f"{where}: {item['msg']}" if where else item["msg"]
            code = "SPEC011"
            findings.append(Finding(code, message, loaded.locate_value(*loc)))
            continue
        findings.append(Finding(code, message, loaded.locate(*loc)))
    return findings


def _is_internal(part: object) -> bool:
    """pydantic adds union-member names and validator tags to locations; drop them."""
    return isinstance(part, str) and (
        part.startswith("function-")
        or part in {"list[...]", "float", "int", "str", "none"}
        or "[" in part
    )


def _allowed_keys(path: KeyPath) -> list[str]:
    model: type[BaseModel] | None = ModelSpec
    for part in path:
        if model is None or isinstance(part, int):
            continue
        field_info = model.model_fields.get(str(part))
        if field_info is None:
            field_info = next((f for f in model.model_fields.values() if f.alias == part), None)
        model = _model_of(field_info.annotation) if field_info else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None:
        return _model_of(meta)
    return None


def _did_you_mean(key: str, allowed: list[str]) -> str | None:
    matches = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return matches[0] if matches else None
