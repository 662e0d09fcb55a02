"""The JSON Schema of the spec, generated from the pydantic models (stable key order), with a
title, a description and, where they help, examples for every key (for editors' hover help)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from publisher.spec.model import ModelSpec

SCHEMA_ID = "https://github.com/publisher-tool/publisher/schema/model-spec.schema.json"
FIELD_DOCS = Path(__file__).with_name("field_docs.yaml")


def field_docs() -> dict[str, dict[str, dict[str, Any]]]:
    """Class name → field name (as written in YAML) → {description, examples}."""
    import yaml

    data = yaml.safe_load(FIELD_DOCS.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def spec_schema() -> dict[str, Any]:
    """The schema as a dict: the models' own descriptions, completed from field_docs.yaml."""
    schema = ModelSpec.model_json_schema(by_alias=True, mode="validation")
    docs = field_docs()
    objects = {"ModelSpec": schema, **schema.get("$defs", {})}
    for class_name, definition in objects.items():
        for field_name, prop in definition.get("properties", {}).items():
            doc = docs.get(class_name, {}).get(field_name, {})
            if "description" not in prop and "description" in doc:
                prop["description"] = doc["description"]
            prop.setdefault("title", field_name.lstrip("$").title().replace("_", " "))
            if "examples" in doc:
                prop["examples"] = doc["examples"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "publisher model spec"
    return schema


def schema_json() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
