"""The Hub's allowed metadata values (pipeline tags, licenses, libraries, base-model relations),
read offline from `publisher/data/hub_metadata.yaml`, plus a did-you-mean helper.

The YAML is loaded once, on first use, and cached; each list in it names its source.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from publisher.errors import InputError

DATA_FILE = "hub_metadata.yaml"


class ValueList(BaseModel):
    """One list of allowed values and where it was taken from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    values: tuple[str, ...]


class HubVocabulary(BaseModel):
    """Everything in hub_metadata.yaml: the values the Hub accepts (not a card's metadata, which
    is the spec's `hub:` section, spec.model.HubMetadata)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline_tags: ValueList
    licenses: ValueList
    libraries: ValueList
    file_format_libraries: ValueList
    local_apps: ValueList
    base_model_relations: ValueList


@cache
def load() -> HubVocabulary:
    """Read and validate the packaged data file (once per process)."""
    text = resources.files("publisher").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return HubVocabulary.model_validate(yaml.load(text, Loader=loader))
    except (yaml.YAMLError, ValidationError) as error:  # a packaging bug, said plainly
        raise InputError(f"packaged {DATA_FILE} is broken: {error}") from error


def allowed_pipeline_tags() -> frozenset[str]:
    return frozenset(load().pipeline_tags.values)


def allowed_licenses() -> frozenset[str]:
    return frozenset(load().licenses.values)


def allowed_libraries() -> frozenset[str]:
    """Model libraries plus the file formats the Hub also accepts as `library_name`."""
    data = load()
    return frozenset(data.libraries.values) | frozenset(data.file_format_libraries.values)


def local_apps() -> frozenset[str]:
    """Serving engines and apps (vllm, sglang, ...): not valid as `library_name`."""
    return frozenset(load().local_apps.values)


def allowed_relations() -> frozenset[str]:
    return frozenset(load().base_model_relations.values)


def suggest(value: str, allowed: Iterable[str]) -> str | None:
    """The closest allowed value to `value` (case-insensitive), or None if nothing is close."""
    choices = {choice.lower(): choice for choice in allowed}
    key = value.strip().lower()
    if key in choices:
        return choices[key]
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return choices[close[0]] if close else None
