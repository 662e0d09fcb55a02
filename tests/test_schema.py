"""The committed JSON Schema (which spec files point editors at) is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from publisher.cli import main


def test_committed_schema_is_current(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    committed = (repo_root / "schema" / "model-spec.schema.json").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        "run: publisher schema -o schema/model-spec.schema.json"
    )


def test_schema_rejects_unknown_keys_and_lists_the_sections() -> None:
    from publisher.spec.schema import schema_json

    schema = json.loads(schema_json())
    assert schema["additionalProperties"] is False
    assert {"architecture", "quantization", "benchmarks", "serving", "hub"} <= set(
        schema["properties"]
    )


def test_every_spec_points_at_the_schema(repo_root: Path) -> None:
    for spec in (repo_root / "model_specs").rglob("*.yaml"):
        first = spec.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), spec
        target = (spec.parent / first.split("$schema=", 1)[1]).resolve()
        assert target == (repo_root / "schema" / "model-spec.schema.json").resolve(), spec


def _objects(schema: dict) -> dict[str, dict]:
    return {"ModelSpec": schema, **schema["$defs"]}


def test_every_key_has_a_title_and_a_description_for_editors() -> None:
    """yaml-language-server shows `description` on hover and beside completions: a key without
    one is a key a user has to look up in the source."""
    from publisher.spec.schema import spec_schema

    undocumented = [
        f"{name}.{key}"
        for name, definition in _objects(spec_schema()).items()
        for key, prop in definition.get("properties", {}).items()
        if not prop.get("description") or not prop.get("title")
    ]
    assert undocumented == []


def test_field_docs_name_only_real_keys_and_never_repeat_the_models_own() -> None:
    """One source per description: the model's `description=` or field_docs.yaml, not both,
    and no entry for a key that no longer exists (a renamed field would lose its help)."""
    from publisher.spec.model import ModelSpec
    from publisher.spec.schema import field_docs

    bare = _objects(ModelSpec.model_json_schema(by_alias=True, mode="validation"))
    stale, repeated = [], []
    for name, fields in field_docs().items():
        for key in fields:
            prop = bare.get(name, {}).get("properties", {}).get(key)
            if prop is None:
                stale.append(f"{name}.{key}")
            elif "description" in prop:
                repeated.append(f"{name}.{key}")
    assert (stale, repeated) == ([], [])


def test_examples_are_valid_values_of_their_key() -> None:
    """An example an editor offers must pass validation itself: checked by putting each into
    a real spec and loading it."""
    from typing import Annotated, Any

    from pydantic import TypeAdapter

    from publisher.spec import model
    from publisher.spec.schema import field_docs

    checked = 0
    for name, fields in field_docs().items():
        cls = getattr(model, name)
        for key, doc in fields.items():
            for example in doc.get("examples", []):
                field = next(f for n, f in cls.model_fields.items() if (f.alias or n) == key)
                field_type: Any = field.annotation
                if field.metadata:  # constraints such as gt=0
                    field_type = Annotated[field_type, *field.metadata]
                TypeAdapter(field_type).validate_python(example)
                checked += 1
    assert checked >= 30
