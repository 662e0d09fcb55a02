"""Write a starting spec from a checkpoint: config.json gives the architecture, the headers
give what was quantized. The user then fills in identity, prose, benchmarks and serving."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, get_args

import yaml

from publisher.checkpoint.audit import AuditResult, first_validation_problem
from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.quant_config import QuantConfig
from publisher.report import printable
from publisher.spec.from_config import architecture_fields
from publisher.spec.model import Precision, format_param_count

VISION_PARTS = ("vision_linear", "vision_other")
SPEC_PRECISIONS = frozenset(get_args(Precision))
PRODUCER_TOOLS = {"modelopt": "nvidia-modelopt", "compressed-tensors": "llm-compressor"}


DEFAULT_SCHEMA_REF = "../schema/model-spec.schema.json"
"""The schema seen from model_specs/, where specs live in a publisher repository."""


def starting_spec(
    name: str,
    inventory: CheckpointInventory,
    audit: AuditResult,
    schema_ref: str = DEFAULT_SCHEMA_REF,
) -> str:
    """YAML text of a spec for this checkpoint; every value read from the files.
    `schema_ref` is the JSON Schema reference for editors, as seen from the spec's folder."""
    config = inventory.configs.get("config.json") or {}
    fields = {k: v for k, v in architecture_fields(config).items() if v is not None}
    arch = {
        "profile": fields.pop("profile"),
        "parameters": {"total": format_param_count(audit.logical_parameters)},
    }
    arch.update(fields)
    if audit.mtp_tensors:  # next-token layers found (mtp.*, layer num_hidden_layers, side file)
        arch["mtp"] = {"trained": True, "shipped": True}
    spec: dict[str, Any] = {
        "name": name,
        "repo_id": f"your-org/{name}",
        "summary": f"{name}: describe the model in a paragraph of your own words.",
        "hub": {
            "license": "apache-2.0",
            "pipeline_tag": "image-text-to-text" if "vision" in arch else "text-generation",
            "library_name": "transformers",
        },
        "architecture": arch,
    }
    notes = [f"Not recognised: {audit.unrecognised}."] if audit.unrecognised else []
    quantization = _quantization(inventory, audit, notes)
    if quantization:
        notes += _fill_counts(arch, quantization["components"])
    if quantization:
        spec["hub"]["base_model"] = ["your-org/base-model"]
        spec["hub"]["base_model_relation"] = "quantized"
        spec["quantization"] = quantization
    header = (
        f"# yaml-language-server: $schema={schema_ref}\n"
        "# Written by `publisher init` from config.json and the safetensors headers.\n"
        "# Check every value; set repo_id, the base model, the license and the summary.\n"
    )
    header += "".join(f"# {printable(note)}\n" for note in notes)
    return header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


def _quantization(
    inventory: CheckpointInventory, audit: AuditResult, notes: list[str]
) -> dict[str, Any] | None:
    """The spec's `quantization` section as the headers show it; `notes` gets what it leaves out."""
    qc = audit.quant_config
    fmt = audit.detected_format
    if fmt == "bf16" and qc.format == "none":
        return None
    by_component: dict[tuple[str, str], list[str]] = defaultdict(list)
    vision_precisions = {p for _, (c, p) in audit.modules.items() if c in VISION_PARTS}
    for module, (component, precision) in audit.modules.items():
        if component in VISION_PARTS and len(vision_precisions) == 1:
            component = "vision"
        by_component[(component, precision)].append(module.rsplit(".", 1)[-1])
    precisions: dict[str, set[str]] = defaultdict(set)
    for component, precision in by_component:
        precisions[component].add(precision)
    components = []
    unexplained = sorted({component for component, _ in by_component if "*" in component})
    if unexplained:
        shown = ", ".join(unexplained[:5]) + (", ..." if len(unexplained) > 5 else "")
        notes.append(
            f"Left out of quantization.components: {len(unexplained)} module group(s) no "
            f"profile component explains ({shown}); describe them by hand."
        )
    unreadable = sorted({c for c, p in by_component if p not in SPEC_PRECISIONS and "*" not in c})
    if unreadable:
        notes.append(
            f"Left out of quantization.components: {', '.join(unreadable)}, written in a storage "
            "publisher does not read (e.g. fused expert tensors quantized as a whole); describe "
            "them by hand."
        )
    for (component, precision), locals_ in by_component.items():
        if "*" in component or precision not in SPEC_PRECISIONS:
            continue
        entry: dict[str, Any] = {
            "component": component,
            "precision": precision,
            "count": len(locals_),
        }
        if len(precisions[component]) > 1:
            entry["modules"] = sorted(set(locals_))
        components.append(entry)
    producer = qc.producer or "unknown"
    result: dict[str, Any] = {
        "format": _spec_format(fmt, qc),
        "producer": {
            "tool": PRODUCER_TOOLS.get(producer, producer),
            "version": qc.producer_version or "unknown",
        },
        "export_format": "compressed-tensors" if producer == "compressed-tensors" else "modelopt",
        "components": sorted(components, key=lambda e: (e["precision"] == "bf16", e["component"])),
    }
    if qc.group_size and result["format"] != "mxfp4":
        result["group_size"] = qc.group_size
    if result["format"] == "fp8_block" and qc.weight_block_size:
        result["block_size"] = list(qc.weight_block_size)
    return result


def _spec_format(detected: str, qc: QuantConfig) -> str:
    """The spec's quantization.format for an audited checkpoint: the written precision, with
    the FP8 scale layout (per-tensor, per-channel, block) the quantization config names."""
    if detected in ("nvfp4", "mxfp4"):
        return detected
    if qc.weight_block_size or qc.format == "fp8_block":
        return "fp8_block"
    return "fp8_channel" if qc.format == "fp8_channel" else "fp8"


def _fill_counts(arch: dict[str, Any], components: list[dict[str, Any]]) -> list[str]:
    """Counts as the spec's own derivation makes them (tensors for tensor-counted components);
    when the architecture does not derive, the counts stay as audited and the note says why."""
    from pydantic import ValidationError

    from publisher.spec.derive import derive
    from publisher.spec.model import Architecture
    from publisher.spec.profile import ProfileNotFound, load_profile

    try:
        profile = load_profile(arch["profile"])
        model = derive(Architecture.model_validate(arch), profile)
    except (ProfileNotFound, ValidationError, ValueError) as error:  # lint will say it too
        if isinstance(error, ValidationError):
            reason = first_validation_problem(error)
        else:
            reason = str(error)
        return [f"Counts are as audited, not derived: the architecture does not hold ({reason})."]
    for entry in components:
        component = profile.component(entry["component"])
        if component is not None:
            entry["count"] = model.count(entry["component"], entry.get("modules"), component.unit)
    return []
