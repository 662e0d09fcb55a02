"""Normalise a checkpoint's quantization config into one small `QuantConfig`.

Sources, as the exporters write them:

* ModelOpt `hf_quant_config.json`: `{"producer": {"name": "modelopt", "version": ...},
  "quantization": {"quant_algo": "NVFP4", "group_size": 16, "kv_cache_quant_algo": ...,
  "exclude_modules": [...]}}`. `exclude_modules` mixes exact names and fnmatch wildcards.
  `"quant_algo": "MIXED_PRECISION"` instead lists every quantized module with its own algorithm
  in `quantized_layers` (`{module: {"quant_algo": "NVFP4", "group_size": 16}}`) and writes no
  `exclude_modules`: a module the table does not list is unquantized (FACTS.md section 7).
* ModelOpt `config.json` `quantization_config` (modelopt 0.47 `convert_hf_quant_config_format`):
  `quant_method: "modelopt"`, `quant_algo`, `config_groups` (group_size inside `weights`),
  `ignore` (the same fnmatch patterns as `exclude_modules`), `producer`, `kv_cache_scheme`;
  for MIXED_PRECISION also a copy of `quantized_layers`.
* compressed-tensors `config.json` `quantization_config`: `quant_method: "compressed-tensors"`,
  `format` (`nvfp4-pack-quantized`, `float-quantized`, ...), `config_groups` whose `weights`
  give `num_bits`/`type`/`group_size`/`strategy`/`block_structure`, and `ignore`: exact
  module names or `re:` regexes matched with `re.match`.
* FP8 (`quant_method: "fp8"`, transformers FineGrainedFP8 / vLLM): `weight_block_size` for
  block-wise scales; `modules_to_not_convert` (alias `ignored_layers`) matched as transformers
  does: a regex anchored at the start up to a module boundary, or a suffix.

`config.json` is what transformers and vLLM read first, so it wins when both exist; the two
are cross-checked. The per-layer table is taken from `hf_quant_config.json` when it has one
(ModelOpt writes it there first; config.json's is a copy). Malformed configs yield `QCFG`
findings, never exceptions.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

from publisher.checkpoint.inventory import CheckpointInventory
from publisher.findings import Finding, Location, Severity

QuantFormat = Literal["none", "nvfp4", "mxfp4", "fp8", "fp8_channel", "fp8_block", "mixed", "other"]
MatchStyle = Literal["fnmatch", "compressed-tensors", "transformers"]

QCFG_CODES: dict[str, str] = {
    "QCFG001": "quantization config is not a JSON object",
    "QCFG002": "quantization config lacks a required key (quantization, quant_algo, quant_method)",
    "QCFG003": "a quantization config field has the wrong type",
    "QCFG004": "an exclude/ignore pattern is not a valid regular expression",
    "QCFG005": "quantization method or algorithm is not one publisher knows; treated as other",
    "QCFG006": "config.json and hf_quant_config.json disagree",
    "QCFG007": "NVFP4 group size is not 16",
    "QCFG008": "FP8 without weight_block_size: transformers assumes 128x128 blocks, vLLM not",
    "QCFG009": "hf_quant_config.json exists but config.json has no quantization_config",
}

CONFIG_FILE = "config.json"
HF_QUANT_FILE = "hf_quant_config.json"
_NVFP4_GROUP = 16
_FP8_BLOCK_ALGOS = {"FP8_PB_WO", "FP8_PB_REAL", "FP8_BLOCK"}
MIXED_ALGO = "MIXED_PRECISION"
LAYER_FORMATS: frozenset[QuantFormat] = frozenset({"nvfp4", "fp8", "fp8_channel", "fp8_block"})
MX_BLOCK = 32  # MXFP4 scales blocks of 32 values (OCP Microscaling)
# Modules a quant_method's loaders keep unquantized without the config listing them. For
# "fp8" (DeepSeek-V3's config has no ignore list): transformers' FineGrainedFP8 quantizer adds
# the output embedding (lm_head) to modules_to_not_convert, and vLLM's Fp8Config quantizes
# only LinearBase layers, which its ParallelLMHead is not.
IMPLICIT_EXCLUDE: dict[str, tuple[str, ...]] = {"fp8": ("lm_head",)}


class QuantLayer(NamedTuple):
    """One entry of a MIXED_PRECISION `quantized_layers` table."""

    module: str
    algo: str  # as written ("NVFP4", "FP8"); "" when the entry is malformed
    format: QuantFormat  # nvfp4 | fp8 | fp8_block, or "other" (unknown or malformed: unchecked)
    group_size: int | None = None


@dataclass(frozen=True)
class QuantConfig:
    """What a checkpoint says about its quantization, whoever wrote it.

    `exclude` holds the patterns of modules left unquantized, matched per `match_style`:
    fnmatch (ModelOpt), exact-or-`re:` (compressed-tensors) or transformers' anchored regex.
    `layers` is a MIXED_PRECISION config's per-layer table (None: the config has none);
    `layers_source` the file it was read from.
    """

    format: QuantFormat = "none"
    producer: str | None = None
    producer_version: str | None = None
    algo: str | None = None
    group_size: int | None = None
    weight_block_size: tuple[int, ...] | None = None
    kv_cache: str | None = None
    exclude: tuple[str, ...] = ()
    match_style: MatchStyle = "fnmatch"
    source: str | None = None
    layers: tuple[QuantLayer, ...] | None = None
    layers_source: str | None = None
    implicit_exclude: tuple[str, ...] = ()

    def is_excluded(self, module_name: str) -> bool:
        """True when the config leaves this module (e.g. `model.layers.0.mlp.gate`)
        unquantized: an exclude pattern matches it, a per-layer table does not list it, or
        the loaders of this method never quantize it (`implicit_exclude`)."""
        if self.layers is not None and self.layer(module_name) is None:
            return True
        if module_name in self.implicit_exclude:
            return True
        return self._matcher(module_name)

    def excluded_by_pattern(self, module_name: str) -> bool:
        """True when an exclude/ignore pattern matches the module (the table aside)."""
        return self._matcher(module_name)

    def layer(self, module_name: str) -> QuantLayer | None:
        """The per-layer table's entry for a module, if it lists it."""
        return self._table.get(module_name)

    def layer_counts(self) -> dict[str, int]:
        """Listed modules by quant_algo as written, most first (empty without a table)."""
        counts = Counter(layer.algo or "?" for layer in self.layers or ())
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def layer_summary(self) -> str:
        """E.g. "MIXED_PRECISION: 336 NVFP4, 64 FP8 layers listed"."""
        counts = ", ".join(f"{n:,} {algo}" for algo, n in self.layer_counts().items())
        return f"{self.algo or MIXED_ALGO}: {counts or 'no'} layers listed"

    @cached_property
    def _table(self) -> dict[str, QuantLayer]:
        return {layer.module: layer for layer in self.layers or ()}

    @cached_property
    def _matcher(self) -> Callable[[str], bool]:
        return compile_matcher(self.exclude, self.match_style)[0]


def compile_matcher(
    patterns: tuple[str, ...], style: MatchStyle
) -> tuple[Callable[[str], bool], list[str]]:
    """A predicate for `patterns` under `style`, and the patterns that failed to compile."""
    if style == "fnmatch":
        if not patterns:
            return (lambda _name: False), []
        # ModelOpt lists mostly exact names: a set lookup for those, one regex for the globs.
        literal = {p for p in patterns if not any(ch in p for ch in "*?[")}
        globs = [p for p in patterns if p not in literal]
        joined = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs) or "(?!)")
        return (lambda name: name in literal or joined.match(name) is not None), []
    bad: list[str] = []
    regexes: list[re.Pattern[str]] = []
    exact: set[str] = set()
    suffixes: list[str] = []
    for pattern in patterns:
        body = pattern
        if style == "compressed-tensors":
            if not pattern.startswith("re:"):
                exact.add(pattern)
                continue
            body = pattern.removeprefix("re:")
        else:
            suffixes.append(pattern)
            body = rf"(?:{pattern})(?:(?<=\.)|(?=\.|$))"
        try:
            regexes.append(re.compile(body))
        except (re.error, OverflowError, RecursionError):
            bad.append(pattern)
            continue
        if may_backtrack(body):
            regexes.pop()
            bad.append(pattern)

    def match(name: str) -> bool:
        if name in exact or any(name.endswith(s) for s in suffixes):
            return True
        return any(r.match(name) for r in regexes)

    return match, bad


def may_backtrack(pattern: str) -> bool:
    """Whether a regex nests unbounded repetition (`(.*)*x`, `(a+)+`) or repeats an
    alternation (`(a|aa)+`): Python's engine can take exponential time on such patterns, and a
    checkpoint's config (even one read from someone else's Hub repo) must not hang a check."""
    try:
        import re._parser as sre_parse  # the stdlib's own regex parser
    except ImportError:  # pragma: no cover - other Python versions
        return False
    from re._constants import BRANCH, MAX_REPEAT, MAXREPEAT, MIN_REPEAT

    def walk(items: Any, inside_repeat: bool) -> bool:
        for op, arg in items:
            if op in (MAX_REPEAT, MIN_REPEAT):
                _low, high, sub = arg
                unbounded = high == MAXREPEAT or high > 100
                if unbounded and inside_repeat:
                    return True
                if walk(sub, inside_repeat or unbounded):
                    return True
            elif op is BRANCH:
                if inside_repeat:
                    return True
                if any(walk(branch, inside_repeat) for branch in arg[1]):
                    return True
            elif isinstance(arg, tuple | list):
                for part in arg:
                    if isinstance(part, sre_parse.SubPattern | list) and walk(part, inside_repeat):
                        return True
        return False

    try:
        return walk(sre_parse.parse(pattern), False)
    except Exception:  # compiled fine a moment ago; be safe
        return True


@dataclass
class _Ctx:
    """Where findings go and which file they name."""

    source: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, code: str, message: str, pointer: str | None, severity: Severity = Severity.ERROR
    ) -> None:
        self.findings.append(
            Finding(code, message, Location(self.source, pointer=pointer), severity)
        )


def _str_list(value: Any, ctx: _Ctx, pointer: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    ctx.add("QCFG003", "must be a list of strings", pointer)
    return ()


def _int_or_none(value: Any, ctx: _Ctx, pointer: str) -> int | None:
    if value is None:
        return None
    if type(value) is int and value > 0:
        return value
    ctx.add("QCFG003", f"must be a positive integer, got {value!r}", pointer)
    return None


def _check_patterns(patterns: tuple[str, ...], style: MatchStyle, ctx: _Ctx, pointer: str) -> None:
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


def _producer(value: Any, ctx: _Ctx, pointer: str) -> tuple[str | None, str | None]:
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


def _algo_format(algo: str) -> QuantFormat | None:
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


def _modelopt_format(algo: str | None, ctx: _Ctx, pointer: str) -> QuantFormat:
    if algo is None:
        return "none"
    fmt = _algo_format(algo)
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

    def report(self, ctx: _Ctx, pointer: str) -> None:
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
    fmt = _algo_format(algo)
    if fmt not in LAYER_FORMATS:
        text = f"has quant_algo {algo!r}, which publisher does not check"
        problems.add("QCFG005", text, module, Severity.WARNING)
        return QuantLayer(module, algo, "other", size)
    if fmt == "nvfp4" and size not in (None, _NVFP4_GROUP):
        text = f"has NVFP4 group_size {size}; NVFP4 scales blocks of {_NVFP4_GROUP} values"
        problems.add("QCFG007", text, module, Severity.WARNING)
    return QuantLayer(module, algo, fmt, size)


def _layer_table(value: Any, ctx: _Ctx, pointer: str) -> tuple[QuantLayer, ...] | None:
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


def _with_table(cfg: QuantConfig, table: Any, ctx: _Ctx, pointer: str) -> QuantConfig:
    """`cfg` with its per-layer table when it is MIXED_PRECISION."""
    if cfg.format != "mixed":
        return cfg
    layers = _layer_table(table, ctx, pointer)
    return replace(cfg, layers=layers, layers_source=cfg.source if layers is not None else None)


def _check_nvfp4_group(cfg: QuantConfig, ctx: _Ctx, pointer: str) -> None:
    if cfg.format == "nvfp4" and cfg.group_size not in (None, _NVFP4_GROUP):
        msg = f"NVFP4 scales blocks of {_NVFP4_GROUP} values; group_size is {cfg.group_size}"
        ctx.add("QCFG007", msg, pointer, Severity.WARNING)


def from_hf_quant_config(
    data: Any, *, source: str = HF_QUANT_FILE
) -> tuple[QuantConfig, list[Finding]]:
    """Normalise ModelOpt's `hf_quant_config.json`."""
    ctx = _Ctx(source)
    if not isinstance(data, dict):
        ctx.add("QCFG001", "hf_quant_config.json must be a JSON object", None)
        return QuantConfig(source=source), ctx.findings
    quant = data.get("quantization")
    if not isinstance(quant, dict):
        code = "QCFG002" if quant is None else "QCFG003"
        ctx.add(code, "needs a `quantization` object", "quantization")
        return QuantConfig(source=source), ctx.findings
    producer, version = _producer(data.get("producer"), ctx, "producer")
    algo = quant.get("quant_algo")
    if algo is not None and not isinstance(algo, str):
        ctx.add("QCFG003", "must be a string", "quantization.quant_algo")
        algo = None
    kv = quant.get("kv_cache_quant_algo")
    exclude = _str_list(quant.get("exclude_modules"), ctx, "quantization.exclude_modules")
    _check_patterns(exclude, "fnmatch", ctx, "quantization.exclude_modules")
    cfg = QuantConfig(
        format=_modelopt_format(algo, ctx, "quantization.quant_algo"),
        producer=producer or "modelopt",
        producer_version=version,
        algo=algo,
        group_size=_int_or_none(quant.get("group_size"), ctx, "quantization.group_size"),
        kv_cache=kv if isinstance(kv, str) else None,
        exclude=exclude,
        match_style="fnmatch",
        source=source,
    )
    _check_nvfp4_group(cfg, ctx, "quantization.group_size")
    cfg = _with_table(cfg, quant.get("quantized_layers"), ctx, "quantization.quantized_layers")
    return cfg, ctx.findings


def _group_weights(qc: dict[str, Any], ctx: _Ctx) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, weights) for each config group that quantizes weights."""
    groups = qc.get("config_groups")
    if groups is None:
        return []
    if not isinstance(groups, dict):
        ctx.add(
            "QCFG003", "must be an object of config groups", "quantization_config.config_groups"
        )
        return []
    out = []
    for name, group in groups.items():
        pointer = f"quantization_config.config_groups.{name}"
        weights = group.get("weights") if isinstance(group, dict) else None
        if isinstance(group, dict) and weights is None:
            continue
        if not isinstance(weights, dict):
            ctx.add("QCFG003", "config group needs a `weights` object", pointer)
            continue
        out.append((f"{pointer}.weights", weights))
    return out


def _group_format(weights: dict[str, Any], fmt: str | None) -> QuantFormat:
    bits, kind = weights.get("num_bits"), weights.get("type")
    if bits == 4 and kind == "float" and (fmt in (None, "nvfp4-pack-quantized")):
        return "nvfp4"
    if bits == 8 and kind == "float":
        block = weights.get("strategy") == "block" or weights.get("block_structure")
        if block:
            return "fp8_block"
        return "fp8_channel" if weights.get("strategy") == "channel" else "fp8"
    return "other"


def _block(value: Any, ctx: _Ctx, pointer: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and value and all(type(v) is int and v > 0 for v in value):
        return tuple(value)
    ctx.add("QCFG003", f"must be a list of positive integers, got {value!r}", pointer)
    return None


def _merge_groups(
    qc: dict[str, Any], ctx: _Ctx
) -> tuple[QuantFormat, int | None, tuple[int, ...] | None]:
    """One format, group size and block shape over all config groups ("mixed" if they differ)."""
    top = qc.get("format") if isinstance(qc.get("format"), str) else None
    formats: set[QuantFormat] = set()
    sizes: set[int] = set()
    blocks: set[tuple[int, ...]] = set()
    for pointer, weights in _group_weights(qc, ctx):
        group_fmt = weights.get("format") if isinstance(weights.get("format"), str) else top
        formats.add(_group_format(weights, group_fmt))
        size = _int_or_none(weights.get("group_size"), ctx, f"{pointer}.group_size")
        if size is not None:
            sizes.add(size)
        block = _block(weights.get("block_structure"), ctx, f"{pointer}.block_structure")
        if block is not None:
            blocks.add(block)
    if not formats:
        return "none", None, None
    fmt: QuantFormat = formats.pop() if len(formats) == 1 else "mixed"
    return (
        fmt,
        sizes.pop() if len(sizes) == 1 else None,
        blocks.pop() if len(blocks) == 1 else None,
    )


def _from_modelopt(qc: dict[str, Any], ctx: _Ctx, source: str) -> QuantConfig:
    producer, version = _producer(qc.get("producer"), ctx, "quantization_config.producer")
    algo = qc.get("quant_algo") if isinstance(qc.get("quant_algo"), str) else None
    if algo is None:
        ctx.add("QCFG002", "modelopt config needs `quant_algo`", "quantization_config.quant_algo")
    _, size, _ = _merge_groups(qc, ctx)
    exclude = _str_list(qc.get("ignore"), ctx, "quantization_config.ignore")
    _check_patterns(exclude, "fnmatch", ctx, "quantization_config.ignore")
    kv = qc.get("kv_cache_scheme")
    cfg = QuantConfig(
        format=_modelopt_format(algo, ctx, "quantization_config.quant_algo"),
        producer=producer or "modelopt",
        producer_version=version,
        algo=algo,
        group_size=size,
        kv_cache=kv if isinstance(kv, str) else ("FP8" if isinstance(kv, dict) else None),
        exclude=exclude,
        match_style="fnmatch",
        source=source,
    )
    return _with_table(cfg, qc.get("quantized_layers"), ctx, "quantization_config.quantized_layers")


def _from_compressed_tensors(qc: dict[str, Any], ctx: _Ctx, source: str) -> QuantConfig:
    fmt, size, block = _merge_groups(qc, ctx)
    ignore = _str_list(qc.get("ignore"), ctx, "quantization_config.ignore")
    _check_patterns(ignore, "compressed-tensors", ctx, "quantization_config.ignore")
    version = qc.get("version")
    top = qc.get("format")
    return QuantConfig(
        format=fmt,
        producer="compressed-tensors",
        producer_version=version if isinstance(version, str) else None,
        algo=top if isinstance(top, str) else None,
        group_size=size,
        weight_block_size=block,
        exclude=ignore,
        match_style="compressed-tensors",
        source=source,
    )


def _from_fp8(qc: dict[str, Any], ctx: _Ctx, source: str) -> QuantConfig:
    pointer = "quantization_config.weight_block_size"
    block = _block(qc.get("weight_block_size"), ctx, pointer)
    if "weight_block_size" not in qc:
        msg = "no weight_block_size: transformers assumes [128, 128] blocks, vLLM per-tensor"
        ctx.add("QCFG008", msg, pointer, Severity.WARNING)
    key = "modules_to_not_convert" if "modules_to_not_convert" in qc else "ignored_layers"
    skip = _str_list(qc.get(key), ctx, f"quantization_config.{key}")
    _check_patterns(skip, "transformers", ctx, f"quantization_config.{key}")
    return QuantConfig(
        implicit_exclude=IMPLICIT_EXCLUDE["fp8"],
        format="fp8_block" if block else "fp8",
        producer="fp8",
        algo="fp8",
        weight_block_size=block,
        exclude=skip,
        match_style="transformers",
        source=source,
    )


def _from_mxfp4(qc: dict[str, Any], ctx: _Ctx, source: str) -> QuantConfig:
    """gpt-oss as released: `{"quant_method": "mxfp4", "modules_to_not_convert": [...]}`
    (transformers' Mxfp4Config.to_dict); blocks of 32 are fixed by the format."""
    skip = _str_list(
        qc.get("modules_to_not_convert"), ctx, "quantization_config.modules_to_not_convert"
    )
    _check_patterns(skip, "transformers", ctx, "quantization_config.modules_to_not_convert")
    return QuantConfig(
        format="mxfp4",
        producer="mxfp4",
        algo="MXFP4",
        group_size=MX_BLOCK,
        exclude=skip,
        match_style="transformers",
        source=source,
    )


_BUILDERS: dict[str, Callable[[dict[str, Any], _Ctx, str], QuantConfig]] = {
    "modelopt": _from_modelopt,
    "compressed-tensors": _from_compressed_tensors,
    "fp8": _from_fp8,
    "mxfp4": _from_mxfp4,
}


def from_config_json(
    config: Any, *, source: str = CONFIG_FILE
) -> tuple[QuantConfig | None, list[Finding]]:
    """Normalise `config.json`'s `quantization_config`; None when it has none."""
    ctx = _Ctx(source)
    if not isinstance(config, dict) or config.get("quantization_config") is None:
        return None, []
    qc = config["quantization_config"]
    if not isinstance(qc, dict):
        ctx.add("QCFG001", "`quantization_config` must be an object", "quantization_config")
        return QuantConfig(format="other", source=source), ctx.findings
    method = qc.get("quant_method")
    if not isinstance(method, str):
        ctx.add("QCFG002", "needs a `quant_method` string", "quantization_config.quant_method")
        return QuantConfig(format="other", source=source), ctx.findings
    builder = _BUILDERS.get(method)
    if builder is None:
        msg = f"quant_method {method!r} is not one publisher knows"
        ctx.add("QCFG005", msg, "quantization_config.quant_method", Severity.WARNING)
        return QuantConfig(
            format="other", producer=method, algo=method, source=source
        ), ctx.findings
    cfg = builder(qc, ctx, source)
    _check_nvfp4_group(cfg, ctx, "quantization_config.config_groups")
    return cfg, ctx.findings


def _disagreements(primary: QuantConfig, secondary: QuantConfig) -> list[str]:
    out = []
    if primary.format != secondary.format:
        out.append(f"format {primary.format} vs {secondary.format}")
    if None not in (primary.group_size, secondary.group_size) and (
        primary.group_size != secondary.group_size
    ):
        out.append(f"group_size {primary.group_size} vs {secondary.group_size}")
    if primary.match_style == secondary.match_style and set(primary.exclude) != set(
        secondary.exclude
    ):
        only_p = sorted(set(primary.exclude) - set(secondary.exclude))[:5]
        only_s = sorted(set(secondary.exclude) - set(primary.exclude))[:5]
        out.append(
            f"excluded modules differ (only in config.json: {only_p}; only in"
            f" hf_quant_config.json: {only_s})"
        )
    if primary.layers is not None and secondary.layers is not None:
        out += _table_differences(primary.layers, secondary.layers)
    return out


def _table_differences(
    primary: tuple[QuantLayer, ...], secondary: tuple[QuantLayer, ...]
) -> list[str]:
    """How two `quantized_layers` tables differ (config.json's vs hf_quant_config.json's)."""
    ours = {layer.module: (layer.algo, layer.group_size) for layer in primary}
    theirs = {layer.module: (layer.algo, layer.group_size) for layer in secondary}
    parts = []
    for label, names in (
        ("only in config.json", sorted(set(ours) - set(theirs))),
        ("only in hf_quant_config.json", sorted(set(theirs) - set(ours))),
        (
            "with another quant_algo/group_size",
            sorted(n for n in ours.keys() & theirs.keys() if ours[n] != theirs[n]),
        ),
    ):
        if names:
            parts.append(f"{len(names):,} {label} (e.g. {names[:3]})")
    return [f"quantized_layers differ: {'; '.join(parts)}"] if parts else []


def load_quant_config(
    config: Mapping[str, Any] | None,
    hf_quant_config: Any = None,
    *,
    config_source: str = CONFIG_FILE,
    hf_source: str = HF_QUANT_FILE,
) -> tuple[QuantConfig, list[Finding]]:
    """One `QuantConfig` from `config.json` (preferred) and/or `hf_quant_config.json`,
    with findings for malformed fields and for the two files disagreeing."""
    primary, findings = from_config_json(config, source=config_source)
    if hf_quant_config is None:
        return primary or QuantConfig(source=config_source if config else None), findings
    secondary, more = from_hf_quant_config(hf_quant_config, source=hf_source)
    findings += more
    if primary is None:
        if config is not None and secondary.format != "none":
            msg = (
                f"{hf_source} says {secondary.algo}, but config.json has no"
                " quantization_config: transformers and vLLM will load it as unquantized"
            )
            findings.append(
                Finding(
                    "QCFG009",
                    msg,
                    Location(config_source, pointer="quantization_config"),
                    Severity.WARNING,
                )
            )
        return secondary, findings
    for diff in _disagreements(primary, secondary):
        findings.append(
            Finding("QCFG006", diff, Location(config_source, pointer="quantization_config"))
        )
    return _table_from(primary, secondary), findings


def _table_from(primary: QuantConfig, secondary: QuantConfig) -> QuantConfig:
    """config.json's config with hf_quant_config.json's per-layer table when it has one."""
    if primary.format != "mixed" or primary.producer != "modelopt" or secondary.layers is None:
        return primary
    return replace(primary, layers=secondary.layers, layers_source=secondary.layers_source)


def quant_config_of(inv: CheckpointInventory) -> tuple[QuantConfig, list[Finding]]:
    """The quantization config of an inventoried checkpoint (its parsed config files)."""
    root = Path(inv.root)
    return load_quant_config(
        inv.configs.get(CONFIG_FILE),
        inv.configs.get(HF_QUANT_FILE),
        config_source=str(root / CONFIG_FILE),
        hf_source=str(root / HF_QUANT_FILE),
    )
