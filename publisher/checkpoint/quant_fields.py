"""Readers of a quantization config's fields, shared by every producer's parser: each reads
one value, and a malformed one becomes a `QCFG` finding (never an exception)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from publisher.checkpoint.quant_model import (
    LAYER_FORMATS,
    MIXED_ALGO,
    QuantConfig,
    QuantFormat,
    QuantLayer,
)
from publisher.checkpoint.quant_patterns import MatchStyle, compile_matcher
from publisher.findings import Finding, Location, Severity

_NVFP4_GROUP = 16
_FP8_BLOCK_ALGOS = {"FP8_PB_WO", "FP8_PB_REAL", "FP8_BLOCK"}


@dataclass
class Ctx:
    """Where findings go and which file they name."""

    source: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, code: str, message: str, pointer: str | None, severity: Severity = Severity.ERROR
    ) -> None:
        self.findings.append(
            Finding(code, message, Location(self.source, pointer=pointer), severity)
        )


def str_list(value: Any, ctx: Ctx, pointer: str) -> tuple[str, ...]:
    """A list of strings (module names or patterns); QCFG003 otherwise."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    ctx.add("QCFG003", "must be a list of strings", pointer)
    return ()


def int_or_none(value: Any, ctx: Ctx, pointer: str) -> int | None:
    """A positive integer, or None when absent; QCFG003 otherwise."""
    if value is None:
        return None
    if type(value) is int and value > 0:
        return value
    ctx.add("QCFG003", f"must be a positive integer, got {value!r}", pointer)
    return None


def check_patterns(patterns: tuple[str, ...], style: MatchStyle, ctx: Ctx, pointer: str) -> None:
    """QCFG004 for each pattern the matcher refused: invalid, or unsafe to run."""
    for pattern in compile_matcher(patterns, style)[1]:
        if style == "compressed-tensors":
            body = pattern.removeprefix("re:")
        else:  # as compile_matcher wraps it
            body = rf"(?:{pattern})(?:(?<=\.)|(?=\.|$))"
        try:
            re.compile(body)
        except (re.error, OverflowError, RecursionError):
            ctx.add("QCFG004", f"{pattern!r} is not a valid regular expression", pointer)
        else:
            message = (
                f"{pattern!r} nests repetition (or repeats an alternation): matching it can take"
                " exponential time, so it is not used; write it without the nested repeat"
            )
            ctx.add("QCFG004", message, pointer)


def producer_field(value: Any, ctx: Ctx, pointer: str) -> tuple[str | None, str | None]:
    """The producer's name and version (`{"name": ..., "version": ...}`)."""
    if value is None:
        return None, None
    if isinstance(value, dict):
        name, version = value.get("name"), value.get("version")
        if (name is None or isinstance(name, str)) and (
            version is None or isinstance(version, str)
        ):
            return name, version
    ctx.add("QCFG003", 'must be {"name": str, "version": str}', pointer)
    return None, None


def algo_format(algo: str) -> QuantFormat | None:
    """The format of a ModelOpt quant_algo, or None when publisher does not know it."""
    upper = algo.upper()
    if upper in ("NVFP4", "W4A16_NVFP4", "NVFP4_AWQ", "NVFP4_SVD"):
        return "nvfp4"
    if upper == "FP8":
        return "fp8"
    if upper in ("FP8_PER_CHANNEL_PER_TOKEN", "FP8_PC_PT"):
        return "fp8_channel"
    if upper in _FP8_BLOCK_ALGOS:
        return "fp8_block"
    if upper == MIXED_ALGO:
        return "mixed"
    return None


def modelopt_format(algo: str | None, ctx: Ctx, pointer: str) -> QuantFormat:
    """The format of a ModelOpt quant_algo; an unknown one is "other" (QCFG005)."""
    if algo is None:
        return "none"
    fmt = algo_format(algo)
    if fmt is None:
        msg = f"quant_algo {algo!r} is not one publisher knows"
        ctx.add("QCFG005", msg, pointer, Severity.WARNING)
        return "other"
    return fmt


@dataclass
class _EntryProblems:
    """Malformed table entries, grouped: one finding per kind of problem, not per module."""

    keys: dict[tuple[str, str, Severity], list[str]] = field(default_factory=dict)

    def add(self, code: str, text: str, module: str, severity: Severity = Severity.ERROR) -> None:
        self.keys.setdefault((code, text, severity), []).append(module)

    def report(self, ctx: Ctx, pointer: str) -> None:
        for (code, text, severity), modules in self.keys.items():
            rest = len(modules) - 1
            more = f" (and {rest:,} more {'entry' if rest == 1 else 'entries'})" if rest else ""
            message = f"quantized_layers entry {modules[0]!r} {text}{more}"
            ctx.add(code, message, f"{pointer}.{modules[0]}", severity)


def _layer_entry(module: str, entry: Any, problems: _EntryProblems) -> QuantLayer:
    """One `quantized_layers` entry; malformed or unknown ones become format "other"."""
    if not isinstance(entry, dict):
        problems.add("QCFG003", 'must be an object such as {"quant_algo": "NVFP4"}', module)
        return QuantLayer(module, "", "other")
    algo = entry.get("quant_algo")
    if algo is None:
        problems.add("QCFG002", "has no quant_algo", module)
        return QuantLayer(module, "", "other")
    if not isinstance(algo, str):
        problems.add("QCFG003", "has a quant_algo that is not a string", module)
        return QuantLayer(module, "", "other")
    size = entry.get("group_size")
    if size is not None and not (type(size) is int and size > 0):
        problems.add("QCFG003", "has a group_size that is not a positive integer", module)
        size = None
    fmt = algo_format(algo)
    if fmt not in LAYER_FORMATS:
        text = f"has quant_algo {algo!r}, which publisher does not check"
        problems.add("QCFG005", text, module, Severity.WARNING)
        return QuantLayer(module, algo, "other", size)
    if fmt == "nvfp4" and size not in (None, _NVFP4_GROUP):
        text = f"has NVFP4 group_size {size}; NVFP4 scales blocks of {_NVFP4_GROUP} values"
        problems.add("QCFG007", text, module, Severity.WARNING)
    return QuantLayer(module, algo, fmt, size)


def _layer_table(value: Any, ctx: Ctx, pointer: str) -> tuple[QuantLayer, ...] | None:
    """A MIXED_PRECISION config's `quantized_layers`, or None when it is missing or unusable."""
    if value is None:
        msg = f"{MIXED_ALGO} needs `quantized_layers` (module name → {{quant_algo: ...}})"
        ctx.add("QCFG002", msg, pointer)
        return None
    if not isinstance(value, dict):
        msg = f"must be an object of module name → {{quant_algo: ...}}, not {_json_type(value)}"
        ctx.add("QCFG003", msg, pointer)
        return None
    problems = _EntryProblems()
    layers = tuple(_layer_entry(module, entry, problems) for module, entry in value.items())
    problems.report(ctx, pointer)
    return layers


def _json_type(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def with_table(cfg: QuantConfig, table: Any, ctx: Ctx, pointer: str) -> QuantConfig:
    """`cfg` with its per-layer table when it is MIXED_PRECISION."""
    if cfg.format != "mixed":
        return cfg
    layers = _layer_table(table, ctx, pointer)
    return replace(cfg, layers=layers, layers_source=cfg.source if layers is not None else None)


def check_nvfp4_group(cfg: QuantConfig, ctx: Ctx, pointer: str) -> None:
    """QCFG007 when an NVFP4 config's group size is not 16."""
    if cfg.format == "nvfp4" and cfg.group_size not in (None, _NVFP4_GROUP):
        msg = f"NVFP4 scales blocks of {_NVFP4_GROUP} values; group_size is {cfg.group_size}"
        ctx.add("QCFG007", msg, pointer, Severity.WARNING)


def block_shape(value: Any, ctx: Ctx, pointer: str) -> tuple[int, ...] | None:
    """A block shape (a list of positive integers), or None when absent; QCFG003 otherwise."""
    if value is None:
        return None
    if isinstance(value, list) and value and all(type(v) is int and v > 0 for v in value):
        return tuple(value)
    ctx.add("QCFG003", f"must be a list of positive integers, got {value!r}", pointer)
    return None
