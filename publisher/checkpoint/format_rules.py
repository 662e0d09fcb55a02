"""Small validation rules for the defects that make published quantized checkpoints fail to
load (see `../shared/notes/loader-failures.md` for the public reports behind each):

* VAL251 a quantized weight stored transposed (NVFP4 [in/2, out] instead of [out, in/2]);
* VAL255 a router / MoE gate stored quantized (engines build routers unquantized);
* VAL256 a per-layer expert count in the files that differs from config.json;
* VAL257 / VAL258 the spec's scale granularity or block size differs from the config's.

Facts they use are data: which modules are routers (`ROUTER_PATTERNS`, besides profile
members of kind/component "router"), where config.json gives the expert count
(`EXPERT_COUNT_KEYS`), how each format stores its tensors (`formats.FORMATS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import translate
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.checkpoint.formats import (
    QUANTIZED_PRECISIONS,
    TensorSpec,
    format_rule,
    transposed_shape,
)
from publisher.checkpoint.inventory import CheckpointInventory, TensorInfo
from publisher.checkpoint.precision import LABELS, TensorScan, WrittenModule
from publisher.checkpoint.quant_config import QuantConfig
from publisher.findings import Finding, Location
from publisher.spec.model import Quantization
from publisher.spec.profile import ModuleRef

FORMAT_RULE_CODES: dict[str, str] = {
    "VAL251": "a quantized weight is stored transposed ([in/2, out] instead of [out, in/2])",
    "VAL255": "a router / MoE gate is stored quantized; engines build routers unquantized",
    "VAL256": "the number of experts in the files differs from config.json",
    "VAL257": "the spec's FP8 scale granularity (tensor, channel, block) differs from the quantization config's",
    "VAL258": "the spec's block_size differs from the quantization config's weight_block_size",
}

# Routers and gates that pick experts: every serving engine builds them unquantized (vLLM
# ReplicatedLinear(quant_config=None) for DeepSeek/Qwen MoE gates; ModelOpt 0.47 disables
# `*mlp.gate.*`, `*router*`, `*block_sparse_moe.gate*`, `*mlp.shared_expert_gate.*`).
ROUTER_PATTERNS: tuple[str, ...] = (
    "*.mlp.gate",
    "*.mlp.router",
    "*.block_sparse_moe.gate",
    "*.mlp.shared_expert_gate",
    "*.mixer.gate",
)
# config.json keys giving the routed-expert count (Qwen/Mixtral-style, DeepSeek/GLM/Kimi, gpt-oss).
EXPERT_COUNT_KEYS: tuple[str, ...] = ("num_experts", "n_routed_experts", "num_local_experts")
FUSED_EXPERTS = ".experts"
EXPERTS = ".experts."  # `<block>.experts.<E>.<proj>` per expert, `<block>.experts.<param>` fused
MAX_NAMED = 3


@lru_cache(maxsize=8)
def _router_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns))


ROUTER_LEAVES = frozenset(p.rpartition(".")[2] for p in ROUTER_PATTERNS)  # a cheap first test
ROUTER_ENDINGS = tuple(p.lstrip("*") for p in ROUTER_PATTERNS)  # ".mlp.gate", …


def is_router(ref: ModuleRef) -> bool:
    """A module that routes tokens to experts (by profile kind/component or by name)."""
    if ref.kind == "router" or ref.component == "router":
        return True
    return router_by_name(ref.name)


def shape_problem(
    spec_tensor: TensorSpec, tensor: TensorInfo, ref: ModuleRef, fmt: str, location: Location
) -> Finding:
    """VAL251 when a mis-shaped main tensor is exactly the transposed layout, else VAL005."""
    if ref.shape is not None and spec_tensor.name.endswith((".weight", ".weight_packed")):
        swapped = transposed_shape(fmt, ref.kind, tuple(ref.shape))
        if swapped is not None and tuple(tensor.shape) == swapped:
            rule = format_rule(fmt)
            return Finding(
                "VAL251",
                f"{spec_tensor.name} is stored transposed: {list(tensor.shape)} where"
                f" {rule.label} stores [out, in{'/2' if spec_tensor.dtype == 'U8' else ''}] ="
                f" {list(spec_tensor.shape)}; kernels assert the shape at the first forward:"
                " re-export without transposing the packed weight",
                location,
            )
    packing = " (NVFP4 packs two values per byte: [out, in/2])" if spec_tensor.dtype == "U8" else ""
    return Finding(
        "VAL005",
        f"{spec_tensor.name} has shape {list(tensor.shape)}, expected {list(spec_tensor.shape)}{packing}",
        location,
    )


def _granularity(fmt: str) -> str:
    """tensor | channel | block | group: how a storage format's scales are laid out."""
    shapes = {t.shape for t in format_rule(fmt).tensors}
    if "block_scales" in shapes:
        return "block"
    if shapes & {"channel_scales", "channel_column"}:
        return "channel"
    if shapes & {"group_scales", "mx_scales"}:
        return "group"
    return "tensor"


QC_GRANULARITY: dict[str, str] = {"fp8": "tensor", "fp8_channel": "channel", "fp8_block": "block"}


def check_format_facts(
    quant: Quantization | None, qc: QuantConfig, where: str, storage: str | None = None
) -> list[Finding]:
    """VAL257 / VAL258: the spec's FP8 scale layout and block size against the config's."""
    if quant is None or qc.format not in QC_GRANULARITY:
        return []
    location = Location(
        str(Path(where) / (qc.source or "config.json")), pointer="quantization_config"
    )
    spec_kind = {"fp8": "tensor", "fp8_channel": "channel", "fp8_block": "block"}.get(quant.format)
    config_kind = QC_GRANULARITY[qc.format]
    findings: list[Finding] = []
    if spec_kind is not None and spec_kind != config_kind:
        findings.append(
            Finding(
                "VAL257",
                f"the spec says {quant.format} (per-{spec_kind} scales) but the quantization"
                f" config says per-{config_kind} scales ({qc.algo or qc.format}): set"
                f" quantization.format to {_spec_format(config_kind)}",
                location,
            )
        )
    if (
        quant.block_size is not None
        and qc.weight_block_size is not None
        and tuple(quant.block_size) != tuple(qc.weight_block_size)
    ):
        findings.append(
            Finding(
                "VAL258",
                f"the spec's block_size is {list(quant.block_size)} but weight_block_size is"
                f" {list(qc.weight_block_size)}: scales are checked with the config's blocks;"
                " correct the spec",
                Location(location.file, pointer="quantization_config.weight_block_size"),
            )
        )
    return findings


def _spec_format(kind: str) -> str:
    return {"tensor": "fp8", "channel": "fp8_channel", "block": "fp8_block"}[kind]


def check_defects(
    expected: Mapping[str, Any],
    written: Mapping[str, WrittenModule],
    qc: QuantConfig,
    inventory: CheckpointInventory,
    spec_experts: int | None = None,
) -> list[Finding]:
    """VAL255 (quantized routers) and VAL256 (expert counts). `expected`: module name → its
    expectation (`.ref`, the profile's ModuleRef).

    `spec_experts`: when the files already match the spec module for module, the number of
    experts the spec derives; the files then hold exactly that many and are not scanned again.
    """
    routers = sorted(
        name
        for name, e in expected.items()
        if (name.endswith(ROUTER_ENDINGS) or e.ref.component == "router" or e.ref.kind == "router")
        and written[name].precision in QUANTIZED_PRECISIONS
        and is_router(e.ref)
    )
    precisions = {name: written[name].precision for name in routers}
    findings = quantized_routers(routers, precisions, inventory)
    stated = config_expert_count(inventory.configs.get("config.json"))
    if stated is not None and stated[1] == spec_experts:
        return findings  # the files are the spec's, and the spec's count is config.json's
    return findings + check_expert_counts(inventory)


def router_by_name(name: str) -> bool:
    """A router by its name alone (for audits without a spec)."""
    if name.rpartition(".")[2] not in ROUTER_LEAVES:
        return False
    return _router_regex(ROUTER_PATTERNS).match(name) is not None


def quantized_routers(
    routers: list[str], precisions: Mapping[str, str], inventory: CheckpointInventory
) -> list[Finding]:
    """VAL255 for routers stored quantized (`routers`: their names, sorted)."""
    if not routers:
        return []
    first = routers[0]
    tensor = inventory.tensors.get(f"{first}.weight") or inventory.tensors.get(first)
    shard = tensor.shard if tensor else inventory.root
    label = LABELS.get(precisions[first], precisions[first])
    return [
        Finding(
            "VAL255",
            f"{len(routers):,} routers are stored {label} ({_named(routers)}): engines build"
            " the router unquantized and find no place for its scales (or expected-weight"
            " errors at load); keep routers in BF16 (ModelOpt's default disables them)",
            Location(shard, pointer=first),
        )
    ]


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    return shown + (f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else "")


def config_expert_count(config: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """(key, value) of the routed-expert count config.json states, if any."""
    if not isinstance(config, Mapping):
        return None
    text = config.get("text_config")
    for source in (text if isinstance(text, Mapping) else {}, config):
        for key in EXPERT_COUNT_KEYS:
            value = source.get(key)
            if type(value) is int and value > 0:
                return key, value
    return None


def experts_in_files(
    inventory: CheckpointInventory, scan: TensorScan | None = None
) -> dict[str, int]:
    """MoE block → how many experts its tensors hold: distinct `experts.{E}.` indices, or the
    first dimension of fused 3-D (or MXFP4 4-D) expert tensors.

    With `scan` (the names already grouped by module), a module's name stands for its
    tensors: `<block>.experts.<E>.<proj>` names expert E whatever the suffix, and a module
    named `<block>.experts` is a fused one. A quarter as many names are split."""
    indices: dict[str, set[str]] = {}
    fused: dict[str, int] = {}
    tensors = inventory.tensors
    names: Iterable[str] = tensors if scan is None else scan.ungrouped
    groups = {} if scan is None else scan.groups
    for name in names:
        layer, found, rest = name.partition(EXPERTS)  # string work: 100,000+ names
        if not found:
            continue
        expert, dot, _ = rest.partition(".")
        if dot and expert.isdigit():
            indices.setdefault(layer, set()).add(expert)
        elif not dot and len(shape := tensors[name].shape) >= 3:  # fused [experts, ...]
            fused[layer] = max(fused.get(layer, 0), shape[0])
    for module, members in groups.items():
        layer, found, rest = module.partition(EXPERTS)
        if found:  # a member's name continues `.<suffix>`: the expert is rest's first part
            expert = rest.partition(".")[0]
            if expert.isdigit():
                indices.setdefault(layer, set()).add(expert)
        elif module.endswith(FUSED_EXPERTS):  # `<block>.experts.<suffix>`: fused tensors
            layer = module[: -len(FUSED_EXPERTS)]
            for tensor in members:
                if len(tensor.shape) >= 3:
                    fused[layer] = max(fused.get(layer, 0), tensor.shape[0])
    counts = {layer: len(found) for layer, found in indices.items()}
    for layer, count in fused.items():
        counts.setdefault(layer, count)
    return counts


def check_expert_counts(
    inventory: CheckpointInventory, scan: TensorScan | None = None
) -> list[Finding]:
    """VAL256: MoE blocks holding another number of experts than config.json says."""
    stated = config_expert_count(inventory.configs.get("config.json"))
    if stated is None:
        return []
    key, want = stated
    counts = experts_in_files(inventory, scan)
    wrong = sorted((layer for layer, n in counts.items() if n != want), key=_natural)
    if not wrong:
        return []
    by_count: dict[int, list[str]] = {}
    for layer in wrong:
        by_count.setdefault(counts[layer], []).append(layer)
    findings = []
    for count, layers in sorted(by_count.items()):
        findings.append(
            Finding(
                "VAL256",
                f"{len(layers):,} MoE blocks hold {count} experts ({_named(layers)}) but"
                f" config.json says {key}: {want}; loaders build {want} and fail on the"
                " missing or extra weights: export every expert, or correct config.json",
                Location(str(Path(inventory.root) / "config.json"), pointer=key),
            )
        )
    return findings


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
