"""config.json keys ↔ spec fields come from one table (the profile's variables, over
spec/variables.py's built-ins): what `publisher init` reads from a real model's config.json is
what validation compares it with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from publisher.checkpoint.config_check import check_config_json
from publisher.spec.from_config import architecture_fields
from publisher.spec.loader import load_spec
from publisher.spec.profile import load_profile
from publisher.spec.variables import spec_path, spec_value
from publisher.testkit import tiny

SPECS = Path(__file__).resolve().parent.parent / "model_specs"
MODELS: list[tuple[str, Callable[[], Any]]] = [
    ("Qwen3.5-35B-A3B-NVFP4", tiny.qwen35_35b_a3b_config),
    ("Qwen3.5-27B-NVFP4", tiny.qwen35_27b_config),
    ("Qwen3.5-0.8B", tiny.qwen35_0_8b_config),
]


def _at(fields: dict[str, Any], dotted: str) -> Any:
    value: Any = fields
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@pytest.mark.parametrize(("name", "build"), MODELS, ids=[m[0] for m in MODELS])
def test_init_reads_and_validation_compares_the_same_keys(
    name: str, build: Callable[[], Any]
) -> None:
    config = build().to_dict()  # the real model's config.json, through transformers
    spec = load_spec(SPECS / f"{name}.yaml").spec
    assert spec is not None
    fields = architecture_fields(config)
    variables = load_profile(spec.architecture.profile).all_variables()
    paths = [spec_path(name, v) for name, v in variables.items() if v.config is not None]
    stated = [p for p in paths if spec_value(spec.architecture, p) is not None]
    assert len(stated) >= 10
    for path in stated:
        assert _at(fields, path) == spec_value(spec.architecture, path), path
    assert check_config_json(spec, config, "checkpoint") == []


def test_a_changed_key_is_named_with_its_spec_field() -> None:
    config = tiny.qwen35_35b_a3b_config().to_dict()
    spec = load_spec(SPECS / "Qwen3.5-35B-A3B-NVFP4.yaml").spec
    assert spec is not None
    config["text_config"]["num_experts_per_tok"] = 4
    (finding,) = check_config_json(spec, config, "checkpoint")
    assert finding.code == "VAL020"
    assert finding.message == (
        "config.json num_experts_per_tok is 4 but the spec says 8 (architecture.moe.routed)"
    )
