"""The offline lists of Hub metadata values and the did-you-mean helper."""

from __future__ import annotations

import pytest

from publisher import hubmeta


def test_lists_hold_the_values_cards_use() -> None:
    assert {
        "text-generation",
        "image-text-to-text",
        "any-to-any",
    } <= hubmeta.allowed_pipeline_tags()
    assert {"apache-2.0", "mit", "other", "llama3.1", "gemma"} <= hubmeta.allowed_licenses()
    assert {"transformers", "mlx", "gguf", "diffusers", "peft"} <= hubmeta.allowed_libraries()
    assert hubmeta.allowed_relations() == {"adapter", "merge", "quantized", "finetune"}


def test_serving_apps_are_not_libraries() -> None:
    assert {"vllm", "sglang"} <= hubmeta.local_apps()
    assert not hubmeta.local_apps() & hubmeta.allowed_libraries()


def test_every_list_names_its_source() -> None:
    data = hubmeta.load()
    for name in type(data).model_fields:
        value_list = getattr(data, name)
        assert value_list.source.strip(), name
        assert len(set(value_list.values)) == len(value_list.values), f"duplicates in {name}"


def test_load_is_cached() -> None:
    assert hubmeta.load() is hubmeta.load()


@pytest.mark.parametrize(
    ("value", "allowed", "expected"),
    [
        ("text-generaton", hubmeta.allowed_pipeline_tags, "text-generation"),
        ("apache2", hubmeta.allowed_licenses, "apache-2.0"),
        ("Apache-2.0", hubmeta.allowed_licenses, "apache-2.0"),
        ("transformer", hubmeta.allowed_libraries, "transformers"),
        ("quantised", hubmeta.allowed_relations, "quantized"),
        ("zzzz-nothing-like-it", hubmeta.allowed_licenses, None),
    ],
)
def test_suggest(value: str, allowed: object, expected: str | None) -> None:
    assert callable(allowed)
    assert hubmeta.suggest(value, allowed()) == expected
