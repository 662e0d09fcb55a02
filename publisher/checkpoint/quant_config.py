"""One `QuantConfig` for a checkpoint: `config.json`'s `quantization_config` and ModelOpt's
`hf_quant_config.json`, each parsed by its producer's reader (`quant_producers`), then
cross-checked.

`config.json` is what transformers and vLLM read first, so it wins when both exist; the two
are cross-checked. The per-layer table is taken from `hf_quant_config.json` when it has one
(ModelOpt writes it there first; config.json's is a copy). Malformed configs yield `QCFG`
findings, never exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from publisher.checkpoint.inventory import CheckpointInventory
from publisher.checkpoint.quant_model import (
    CONFIG_FILE,
    HF_QUANT_FILE,
    IMPLICIT_EXCLUDE,
    LAYER_FORMATS,
    MIXED_ALGO,
    MX_BLOCK,
    QCFG_CODES,
    QuantConfig,
    QuantFormat,
    QuantLayer,
)
from publisher.checkpoint.quant_patterns import MatchStyle, compile_matcher, may_backtrack
from publisher.checkpoint.quant_producers import from_config_json, from_hf_quant_config
from publisher.findings import Finding, Location, Severity

__all__ = [
    "CONFIG_FILE",
    "HF_QUANT_FILE",
    "IMPLICIT_EXCLUDE",
    "LAYER_FORMATS",
    "MIXED_ALGO",
    "MX_BLOCK",
    "QCFG_CODES",
    "MatchStyle",
    "QuantConfig",
    "QuantFormat",
    "QuantLayer",
    "compile_matcher",
    "from_config_json",
    "from_hf_quant_config",
    "load_quant_config",
    "may_backtrack",
    "quant_config_of",
]


def _disagreements(primary: QuantConfig, secondary: QuantConfig) -> list[str]:
    """What config.json and hf_quant_config.json state differently (one QCFG006 each)."""
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
