"""The card's YAML frontmatter, built as data with huggingface_hub's ModelCardData and checked
offline against the Hub's allowed values before it is written."""

from __future__ import annotations

from publisher import hubmeta
from publisher.errors import TemplateError
from publisher.spec.model import ModelSpec


def frontmatter_problems(spec: ModelSpec) -> list[str]:
    """Values the Hub would reject; empty when the metadata is valid."""
    hub = spec.hub
    checks = [
        ("pipeline_tag", hub.pipeline_tag, hubmeta.allowed_pipeline_tags()),
        ("license", hub.license, hubmeta.allowed_licenses()),
        ("library_name", hub.library_name, hubmeta.allowed_libraries()),
    ]
    problems = [
        f"{key} '{value}' is not a Hub value"
        for key, value, allowed in checks
        if value not in allowed
    ]
    relation = hub.base_model_relation
    if relation is not None and relation not in hubmeta.allowed_relations():
        problems.append(f"base_model_relation '{relation}' is not a Hub value")
    return problems


def build_frontmatter(spec: ModelSpec) -> str:
    """The frontmatter block, `---` lines included."""
    from huggingface_hub import ModelCardData

    problems = frontmatter_problems(spec)
    if problems:
        raise TemplateError("; ".join(problems), where="frontmatter", fix="run publisher lint")
    hub = spec.hub
    data = ModelCardData(
        base_model=list(hub.base_model) or None,
        language=list(hub.language) or None,
        library_name=hub.library_name,
        license=hub.license,
        license_name=hub.license_name,
        license_link=hub.license_link,
        pipeline_tag=hub.pipeline_tag,
        tags=list(hub.tags) or None,
    )
    if hub.base_model_relation:
        data.base_model_relation = hub.base_model_relation  # type: ignore[attr-defined]
    return f"---\n{data.to_yaml()}\n---\n"
