"""Everything a card states, computed from the spec (and the checkpoint, when given).

Templates only lay these facts out; no number is typed into a template. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from publisher.card.format_prose import layout_label, tensor_lines
from publisher.card.verify_facts import VerifyView
from publisher.report import md_cell
from publisher.spec.derive import ModelInventory
from publisher.spec.model import BenchmarkTable, ModelSpec, Quantization, format_param_count
from publisher.spec.precision_names import CARD_LABELS
from publisher.spec.profile import Profile

PLACEHOLDER = re.compile(r"\{(repo_id|served_model_name|name|base_model)\}")
QUANTIZED = ("nvfp4", "mxfp4", "fp8")
SOURCE_DTYPE = "BF16"  # the unquantized dtype of the exports publisher checks
PRECISION_LABELS = CARD_LABELS
FORMAT_LABELS = {
    "nvfp4": "NVFP4",
    "fp8": "FP8 (per-tensor scales)",
    "fp8_block": "FP8 (block scales)",
    "fp8_channel": "FP8 (per-channel scales)",
    "mxfp4": "MXFP4",
}


@dataclass(frozen=True)
class CheckpointFacts:
    """What the card may say about a checkpoint that was measured, not declared."""

    total_bytes: int
    files: int
    # the precision map published beside the weights: (relative file name, its alt text)
    precision_map: tuple[str, str] | None = None


@dataclass
class ComponentRow:
    label: str
    count: str
    derivation: str
    details: str


@dataclass
class BenchmarkView:
    title: str
    header: list[str]
    rows: list[list[str]]  # already escaped cells; a section row has its title bold, others empty
    footnotes: list[str]
    pair_note: str | None


@dataclass
class CardFacts:
    name: str
    repo_id: str
    summary: str
    highlights: list[str]
    base_models: list[str]
    is_quantized: bool
    architecture_rows: list[tuple[str, str]]
    layer_map: str
    quantization_rows: list[tuple[str, str]] = field(default_factory=list)
    quantized_title: str = ""
    quantized_rows: list[ComponentRow] = field(default_factory=list)
    kept_title: str = ""
    kept_rows: list[ComponentRow] = field(default_factory=list)
    process: list[dict[str, str | None]] = field(default_factory=list)
    format_details: list[str] = field(default_factory=list)
    benchmarks: list[BenchmarkView] = field(default_factory=list)
    serving: dict[str, Any] | None = None
    environment: list[tuple[str, str]] = field(default_factory=list)
    license: str = ""
    license_note: str | None = None
    citations: list[str] = field(default_factory=list)
    credits: list[dict[str, str | None]] = field(default_factory=list)
    sizes: list[tuple[str, str]] = field(default_factory=list)
    precision_map: tuple[str, str] | None = None  # (relative link, alt text)
    verify: VerifyView | None = None


def fill(text: str, spec: ModelSpec) -> str:
    """Replace {repo_id}, {served_model_name}, {name} and {base_model} in spec text."""
    served = (
        spec.serving.served_model_name
        if spec.serving and spec.serving.served_model_name
        else spec.repo_id
    )
    values = {
        "repo_id": spec.repo_id,
        "served_model_name": served,
        "name": spec.name,
        "base_model": spec.hub.base_model[0] if spec.hub.base_model else spec.repo_id,
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def human_bytes(count: float) -> str:
    """Decimal units, as the Hub shows sizes: 54.0 GB, 812 MB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            value = count / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{int(count)} B"


def build_facts(
    spec: ModelSpec,
    profile: Profile,
    inventory: ModelInventory,
    checkpoint: CheckpointFacts | None = None,
) -> CardFacts:
    facts = CardFacts(
        name=spec.name,
        repo_id=spec.repo_id,
        summary=spec.summary.strip(),
        highlights=list(spec.highlights),
        base_models=list(spec.hub.base_model),
        is_quantized=spec.quantization is not None,
        architecture_rows=_architecture_rows(spec, profile, inventory),
        layer_map=_layer_map(profile, inventory),
    )
    facts.sizes = _sizes(spec, checkpoint)
    facts.precision_map = checkpoint.precision_map if checkpoint is not None else None
    if spec.quantization is not None:
        _add_quantization(facts, spec, profile, inventory)
    facts.benchmarks = [_benchmark_view(table) for table in spec.benchmarks]
    facts.serving = _serving(spec)
    facts.environment = [(item.name, item.version) for item in spec.environment]
    facts.license = spec.hub.license
    facts.license_note = spec.license_note
    facts.citations = [_bibtex(c.model_dump()) for c in spec.citations]
    facts.credits = [c.model_dump() for c in spec.credits]
    return facts


def _architecture_rows(
    spec: ModelSpec, profile: Profile, inventory: ModelInventory
) -> list[tuple[str, str]]:
    arch = spec.architecture
    params = format_param_count(arch.parameters.total_count)
    if arch.parameters.active_count is not None:
        params += f" in total, {format_param_count(arch.parameters.active_count)} active per token"
    rows: list[tuple[str, str]] = []
    if arch.type:
        rows.append(("Type", arch.type))
    rows += [
        ("Parameters", params),
        ("Hidden size", f"{arch.hidden_size:,}"),
        (
            "Vocabulary",
            f"{arch.vocab_size:,}" + (f" ({profile.vocab_note})" if profile.vocab_note else ""),
        ),
        ("Layers", str(arch.num_layers)),
        ("Hidden layout", arch.layout),
    ]
    rows += profile_rows(profile, inventory.values, arch.options)
    if arch.ffn:
        rows.append(("Feed-forward", f"intermediate size {arch.ffn.intermediate_size:,}"))
    if arch.moe:
        moe = arch.moe
        moe_text = (
            f"{moe.experts} experts; {moe.routed} routed + {moe.shared} shared active; "
            f"expert intermediate size {moe.expert_intermediate_size:,}"
        )
        moe_layers = len(inventory.layers_with_ffn("moe"))
        if moe_layers != len(inventory.layers):
            moe_text += f"; in {moe_layers} of the {len(inventory.layers)} layers"
        rows.append(("Mixture of experts", moe_text))
    rows.append(
        (
            "LM output",
            "tied to the token embedding"
            if arch.lm_output == "tied"
            else f"separate head, {arch.vocab_size:,} outputs",
        )
    )
    if arch.mtp:
        mtp = "trained with multi-token prediction" if arch.mtp.trained else "none"
        if arch.mtp.trained:
            mtp += "; MTP weights included" if arch.mtp.shipped else "; MTP weights not included"
        rows.append(("MTP", mtp))
    context = f"{arch.context.native:,} tokens native"
    if arch.context.extended:
        context += f", extensible to {arch.context.extended:,}"
    rows.append(("Context", context))
    if arch.vision:
        parts = []
        if arch.vision.depth:
            parts.append(f"{arch.vision.depth} blocks")
        if arch.vision.hidden_size:
            parts.append(f"hidden size {arch.vision.hidden_size:,}")
        rows.append(("Vision encoder", ", ".join(parts) if parts else "yes"))
    if arch.modalities:
        rows.append(("Inputs", ", ".join(arch.modalities)))
    return rows


_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_FIELD = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def profile_rows(
    profile: Profile, values: dict[str, int], options: dict[str, bool]
) -> list[tuple[str, str]]:
    """The profile's own architecture rows (attention heads, MLA ranks, Mamba sizes …), filled
    from the resolved values; a [bracketed] part shows only when its values are known, and a
    row whose other values are unknown is left out."""
    rows = []
    for row in profile.card_rows:
        if row.when is not None and not options.get(row.when, False):
            continue
        text = _OPTIONAL.sub(lambda m: m.group(1) if _known(m.group(1), values) else "", row.text)
        if _known(text, values):
            rows.append((row.label, text.format(**values)))
    return rows


def _known(text: str, values: dict[str, int]) -> bool:
    return all(name in values for name in _FIELD.findall(text))


def _layer_map(profile: Profile, inventory: ModelInventory) -> str:
    parts = []
    for kind, mixer in profile.mixers.items():
        indices = [i for i, layer in enumerate(inventory.layers) if layer.mixer == kind]
        if not indices:
            continue
        text = f"{len(indices)} {mixer.label} layers"
        if len(indices) < len(inventory.layers) and len(indices) <= len(inventory.layers) // 2:
            text += f" (layers {_index_list(indices)})"
        parts.append(text)
    if len(parts) == 1:
        text = f"{parts[0]} (numbered from 0)"
    else:
        text = " and ".join(parts) + f", {len(inventory.layers)} in all (numbered from 0)"
    dense = inventory.layers_with_ffn("dense")
    moe = inventory.layers_with_ffn("moe")
    if dense and moe:
        text += (
            f"; feed-forward: {len(dense)} dense ({_layers_word(dense)} {_index_list(dense)}) "
            f"and {len(moe)} {profile.moe_label} ({_layers_word(moe)} {_index_list(moe)})"
        )
    return text + "."


def _layers_word(indices: list[int]) -> str:
    return "layer" if len(indices) == 1 else "layers"


def _index_list(indices: list[int]) -> str:
    """'3, 7, 11, …, 63' for an evenly spaced list; otherwise every index, runs as ranges
    ('0–2, 5, 9–11'), so an irregular pattern (Nemotron-H) is never implied to be regular."""
    if len(indices) <= 6:
        return ", ".join(map(str, indices))
    steps = {b - a for a, b in pairwise(indices)}
    if len(steps) == 1:
        return f"{indices[0]}, {indices[1]}, {indices[2]}, …, {indices[-1]}"
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _sizes(spec: ModelSpec, checkpoint: CheckpointFacts | None) -> list[tuple[str, str]]:
    bf16 = spec.architecture.parameters.total_count * 2
    sizes = [("BF16 weights (2 bytes per parameter)", f"about {human_bytes(bf16)}")]
    if checkpoint is not None:
        label = "This checkpoint" + (f" ({checkpoint.files} files)" if checkpoint.files > 1 else "")
        sizes.append((label, human_bytes(checkpoint.total_bytes)))
        if spec.quantization is not None and checkpoint.total_bytes:
            sizes.append(("Size relative to BF16", f"{bf16 / checkpoint.total_bytes:.1f}× smaller"))
    return sizes


def _add_quantization(
    facts: CardFacts, spec: ModelSpec, profile: Profile, inventory: ModelInventory
) -> None:
    """The quantization section: how it was made, what was quantized, what stayed, the format."""
    quant = spec.quantization
    assert quant is not None
    quantized_precisions = {e.precision for e in quant.components if e.precision in QUANTIZED}
    mixed = len(quantized_precisions) > 1  # a ModelOpt NVFP4 export with some layers in FP8
    facts.quantization_rows = _how_quantized(quant, mixed)
    quantized, kept, quantized_total = _component_rows(quant, profile, inventory, mixed)
    precisions = [p for p in QUANTIZED if p in quantized_precisions]
    fmt = " and ".join(PRECISION_LABELS[p] for p in precisions) or (
        "NVFP4" if quant.format == "nvfp4" else "FP8"
    )
    facts.quantized_title = f"Quantized to {fmt} ({quantized_total:,} modules)"
    facts.quantized_rows = quantized
    facts.kept_title = "Kept in higher precision"
    facts.kept_rows = kept
    facts.process = [
        {
            "title": step.title,
            "text": fill(step.text, spec),
            "code": fill(step.code, spec) if step.code else None,
            "language": step.language,
        }
        for step in quant.process
    ]
    main = format_storages(quant)[quant.format]
    facts.format_details = tensor_lines(main, SOURCE_DTYPE)
    own = "fp8" if quant.format.startswith("fp8") else quant.format  # fp8_block: FP8 too
    for precision, storage in format_storages(quant).items():
        if precision not in (own, quant.format) and precision in quantized_precisions:
            label = PRECISION_LABELS.get(precision, precision.upper())
            facts.format_details.append(f"In the layers quantized to {label} instead:")
            facts.format_details += tensor_lines(storage, SOURCE_DTYPE)


def format_storages(quant: Quantization) -> dict[str, str]:
    """The format-table row each precision's modules are stored as, validation's mapping: the
    spec's own format under its name, each other quantized precision as the same exporter
    stores it."""
    from publisher.checkpoint import formats
    from publisher.checkpoint.expectations import STORAGE_BY_SPEC

    own = STORAGE_BY_SPEC[(quant.format, quant.export_format)]
    block_format = getattr(formats, "block_format", None)  # the spec's own scale block
    block = getattr(quant, "block_size", None)
    if block_format is not None and block:
        own = block_format(own, block)
    storages: dict[str, str] = {quant.format: own}
    for (precision, layout), storage in STORAGE_BY_SPEC.items():
        if layout == quant.export_format and precision in QUANTIZED:
            storages.setdefault(precision, storage)
    return storages


def _how_quantized(quant: Quantization, mixed: bool) -> list[tuple[str, str]]:
    """Format, producer, layout, block size, calibration, hardware."""
    producer = f"{quant.producer.tool} {quant.producer.version}"
    if quant.producer.recipe:
        producer += f" ({quant.producer.recipe})"
    label = FORMAT_LABELS.get(quant.format, quant.format.upper()) + (
        ", with FP8 where the table below says" if mixed else ""
    )
    rows = [("Format", label), ("Produced with", producer)]
    rows.append(("Checkpoint layout", layout_label(format_storages(quant)[quant.format])))
    if quant.group_size:
        rows.append(("Block size", f"{quant.group_size} elements per scale"))
    if quant.calibration:
        cal = quant.calibration
        source = cal.dataset + (
            f" ({cal.config}" + (f", {cal.split} split)" if cal.split else ")")
            if cal.config
            else ""
        )
        rows.append(
            ("Calibration", f"{cal.samples} samples of {source}, {cal.sequence_length} tokens each")
        )
    if quant.hardware:
        rows.append(("Runs on", quant.hardware))
    return rows


def _component_rows(
    quant: Quantization, profile: Profile, inventory: ModelInventory, mixed: bool
) -> tuple[list[ComponentRow], list[ComponentRow], int]:
    """The quantized and the kept components' rows, and how many modules were quantized."""
    quantized: list[ComponentRow] = []
    kept: list[ComponentRow] = []
    quantized_total = 0
    for entry in quant.components:
        component = profile.component(entry.component)
        if component is None:
            continue
        label = entry.label or component.label
        if entry.component in inventory.underived:
            count, derivation = "all", "every tensor of the component"
        else:
            number = inventory.count(entry.component, entry.modules, component.unit)
            count = f"{number:,}" + (" tensors" if component.unit == "tensors" else "")
            derivation = inventory.formula(entry.component, entry.modules)
            if derivation == count.split(" ")[0]:
                derivation = "1" if number == 1 else derivation
            if entry.precision in QUANTIZED:
                quantized_total += number
        is_quantized = entry.precision in QUANTIZED
        if is_quantized:
            details = entry.description or ", ".join(entry.modules or [])
            if mixed:
                details = f"{PRECISION_LABELS[entry.precision]}: {details}".rstrip(": ")
        else:
            details = entry.reason or entry.description or ""
            if entry.precision != "bf16":
                details = f"{PRECISION_LABELS[entry.precision]}: {details}"
        row = ComponentRow(md_cell(label), count, md_cell(derivation), md_cell(details))
        (quantized if is_quantized else kept).append(row)
    return quantized, kept, quantized_total


def _score(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return " / ".join(_score(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else f"{value:.1f}"
    return md_cell(value)


def _benchmark_view(table: BenchmarkTable) -> BenchmarkView:
    header = ["Benchmark", *[md_cell(c.label) for c in table.columns]]
    roles = [c.role for c in table.columns]
    recovery = table.recovery and roles.count("base") == 1 and roles.count("released") == 1
    if recovery:
        header.append("Recovery")
    width = len(header)
    rows: list[list[str]] = []
    for section in table.sections:
        if section.title:
            rows.append([f"**{md_cell(section.title)}**"] + [""] * (width - 1))
        for row in section.rows:
            cells = [md_cell(row.name), *[_score(s) for s in row.scores]]
            cells += [""] * (len(table.columns) + 1 - len(cells))
            if recovery:
                cells.append(
                    _recovery(row.scores[roles.index("base")], row.scores[roles.index("released")])
                )
            rows.append(cells[:width])
    pair_note = f"Paired scores are {' / '.join(table.pair_labels)}." if table.pair_labels else None
    return BenchmarkView(
        md_cell(table.title), header, rows, [md_cell(f) for f in table.footnotes], pair_note
    )


def _recovery(base: Any, released: Any) -> str:
    if isinstance(base, int | float) and isinstance(released, int | float) and base:
        return f"{100 * released / base:.1f}%"
    return "–"


def _serving(spec: ModelSpec) -> dict[str, Any] | None:
    serving = spec.serving
    if serving is None:
        return None
    keys: list[str] = []
    for preset in serving.sampling:
        keys += [k for k in preset.params if k not in keys]
    sampling_rows = [
        [md_cell(p.mode), *[_score(p.params.get(k)) if k in p.params else "–" for k in keys]]
        for p in serving.sampling
    ]
    return {
        "served_model_name": serving.served_model_name or spec.repo_id,
        "engines": [
            {
                "engine": e.engine,
                "version": e.version,
                "install": fill(e.install, spec) if e.install else None,
                "commands": [
                    {"title": c.title, "command": fill(c.command, spec).rstrip()}
                    for c in e.commands
                ],
                "notes": [fill(n, spec) for n in e.notes],
            }
            for e in serving.engines
        ],
        "sampling_header": ["Mode", *keys],
        "sampling_rows": sampling_rows,
        "notes": [fill(n, spec) for n in serving.notes],
    }


def _bibtex(citation: dict[str, Any]) -> str:
    fields = [("title", citation["title"]), ("author", citation["author"])]
    if citation.get("month"):
        fields.append(("month", citation["month"]))
    fields.append(("year", str(citation["year"])))
    if citation.get("url"):
        fields.append(("url", citation["url"]))
    body = ",\n".join(f"    {key:<6} = {{{value}}}" for key, value in fields)
    return f"@misc{{{citation['key']},\n{body}\n}}"
