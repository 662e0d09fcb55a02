"""The JSON Schema of the spec, generated from the pydantic models (stable key order)."""

from __future__ import annotations

import json

from publisher.spec.model import ModelSpec

SCHEMA_ID = "https://github.com/publisher-tool/publisher/schema/model-spec.schema.json"


def schema_json() -> str:
    schema = ModelSpec.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "publisher model spec"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
