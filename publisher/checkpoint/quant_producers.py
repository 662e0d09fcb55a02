"""Parse each producer's quantization config into one small `QuantConfig`.

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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from publisher.checkpoint.quant_fields import (
    Ctx,
    block_shape,
    check_nvfp4_group,
    check_patterns,
    int_or_none,
    modelopt_format,
    producer_field,
    str_list,
    with_table,
)
from publisher.checkpoint.quant_model import (
    CONFIG_FILE,
    HF_QUANT_FILE,
    IMPLICIT_EXCLUDE,
    MX_BLOCK,
    QuantConfig,
    QuantFormat,
)
from publisher.findings import Finding, Severity


def from_hf_quant_config(
    data: Any, *, source: str = HF_QUANT_FILE
) -> tuple[QuantConfig, list[Finding]]:
    """Normalise ModelOpt's `hf_quant_config.json`."""
    ctx = Ctx(source)
    if not isinstance(data, dict):
        ctx.add("QCFG001", "hf_quant_config.json must be a JSON object", None)
        return QuantConfig(source=source), ctx.findings
    quant = data.get("quantization")
    if not isinstance(quant, dict):
        code = "QCFG002" if quant is None else "QCFG003"
        ctx.add(code, "needs a `quantization` object", "quantization")
        return QuantConfig(source=source), ctx.findings
    producer, version = producer_field(data.get("producer"), ctx, "producer")
    algo = quant.get("quant_algo")
    if algo is not None and not isinstance(algo, str):
        ctx.add("QCFG003", "must be a string", "quantization.quant_algo")
        algo = None
    kv = quant.get("kv_cache_quant_algo")
    exclude = str_list(quant.get("exclude_modules"), ctx, "quantization.exclude_modules")
    check_patterns(exclude, "fnmatch", ctx, "quantization.exclude_modules")
    cfg = QuantConfig(
        format=modelopt_format(algo, ctx, "quantization.quant_algo"),
        producer=producer or "modelopt",
        producer_version=version,
        algo=algo,
        group_size=int_or_none(quant.get("group_size"), ctx, "quantization.group_size"),
        kv_cache=kv if isinstance(kv, str) else None,
        exclude=exclude,
        match_style="fnmatch",
        source=source,
    )
    check_nvfp4_group(cfg, ctx, "quantization.group_size")
    cfg = with_table(cfg, quant.get("quantized_layers"), ctx, "quantization.quantized_layers")
    return cfg, ctx.findings


def _group_weights(qc: dict[str, Any], ctx: Ctx) -> list[tuple[str, dict[str, Any]]]:
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


def _merge_groups(
    qc: dict[str, Any], ctx: Ctx
) -> tuple[QuantFormat, int | None, tuple[int, ...] | None]:
    """One format, group size and block shape over all config groups ("mixed" if they differ)."""
    top = qc.get("format") if isinstance(qc.get("format"), str) else None
    formats: set[QuantFormat] = set()
    sizes: set[int] = set()
    blocks: set[tuple[int, ...]] = set()
    for pointer, weights in _group_weights(qc, ctx):
        group_fmt = weights.get("format") if isinstance(weights.get("format"), str) else top
        formats.add(_group_format(weights, group_fmt))
        size = int_or_none(weights.get("group_size"), ctx, f"{pointer}.group_size")
        if size is not None:
            sizes.add(size)
        block = block_shape(weights.get("block_structure"), ctx, f"{pointer}.block_structure")
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


def _from_modelopt(qc: dict[str, Any], ctx: Ctx, source: str) -> QuantConfig:
    producer, version = producer_field(qc.get("producer"), ctx, "quantization_config.producer")
    algo = qc.get("quant_algo") if isinstance(qc.get("quant_algo"), str) else None
    if algo is None:
        ctx.add("QCFG002", "modelopt config needs `quant_algo`", "quantization_config.quant_algo")
    _, size, _ = _merge_groups(qc, ctx)
    exclude = str_list(qc.get("ignore"), ctx, "quantization_config.ignore")
    check_patterns(exclude, "fnmatch", ctx, "quantization_config.ignore")
    kv = qc.get("kv_cache_scheme")
    cfg = QuantConfig(
        format=modelopt_format(algo, ctx, "quantization_config.quant_algo"),
        producer=producer or "modelopt",
        producer_version=version,
        algo=algo,
        group_size=size,
        kv_cache=kv if isinstance(kv, str) else ("FP8" if isinstance(kv, dict) else None),
        exclude=exclude,
        match_style="fnmatch",
        source=source,
    )
    return with_table(cfg, qc.get("quantized_layers"), ctx, "quantization_config.quantized_layers")


def _from_compressed_tensors(qc: dict[str, Any], ctx: Ctx, source: str) -> QuantConfig:
    fmt, size, block = _merge_groups(qc, ctx)
    ignore = str_list(qc.get("ignore"), ctx, "quantization_config.ignore")
    check_patterns(ignore, "compressed-tensors", ctx, "quantization_config.ignore")
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


def _from_fp8(qc: dict[str, Any], ctx: Ctx, source: str) -> QuantConfig:
    pointer = "quantization_config.weight_block_size"
    block = block_shape(qc.get("weight_block_size"), ctx, pointer)
    if "weight_block_size" not in qc:
        msg = "no weight_block_size: transformers assumes [128, 128] blocks, vLLM per-tensor"
        ctx.add("QCFG008", msg, pointer, Severity.WARNING)
    key = "modules_to_not_convert" if "modules_to_not_convert" in qc else "ignored_layers"
    skip = str_list(qc.get(key), ctx, f"quantization_config.{key}")
    check_patterns(skip, "transformers", ctx, f"quantization_config.{key}")
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


def _from_mxfp4(qc: dict[str, Any], ctx: Ctx, source: str) -> QuantConfig:
    """gpt-oss as released: `{"quant_method": "mxfp4", "modules_to_not_convert": [...]}`
    (transformers' Mxfp4Config.to_dict); blocks of 32 are fixed by the format."""
    skip = str_list(
        qc.get("modules_to_not_convert"), ctx, "quantization_config.modules_to_not_convert"
    )
    check_patterns(skip, "transformers", ctx, "quantization_config.modules_to_not_convert")
    return QuantConfig(
        format="mxfp4",
        producer="mxfp4",
        algo="MXFP4",
        group_size=MX_BLOCK,
        exclude=skip,
        match_style="transformers",
        source=source,
    )


_BUILDERS: dict[str, Callable[[dict[str, Any], Ctx, str], QuantConfig]] = {
    "modelopt": _from_modelopt,
    "compressed-tensors": _from_compressed_tensors,
    "fp8": _from_fp8,
    "mxfp4": _from_mxfp4,
}


def from_config_json(
    config: Any, *, source: str = CONFIG_FILE
) -> tuple[QuantConfig | None, list[Finding]]:
    """Normalise `config.json`'s `quantization_config`; None when it has none."""
    ctx = Ctx(source)
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
    check_nvfp4_group(cfg, ctx, "quantization_config.config_groups")
    return cfg, ctx.findings
