"""The normalised quantization config (`QuantConfig`), whoever wrote it, and the names and
codes its readers share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, NamedTuple

from publisher.checkpoint.quant_patterns import MatchStyle, compile_matcher

QuantFormat = Literal["none", "nvfp4", "mxfp4", "fp8", "fp8_channel", "fp8_block", "mixed", "other"]

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
