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
