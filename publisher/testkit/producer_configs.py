"""The quantization configs producers write, and ModelOpt's module exclusions: for BUILDING test
checkpoints (sparse headers, converted layouts), never for checking real ones.

Moved here from checkpoint/formats.py, which keeps only what validation reads. Facts behind the
values are in FACTS.md in this directory.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from fnmatch import translate
from functools import lru_cache
from typing import Any

from publisher.checkpoint.formats import FP8_BLOCK, NVFP4_GROUP, FormatError

# --- ModelOpt 0.47 NVFP4_DEFAULT_CFG / FP8_DEFAULT_CFG: quantizers it disables -------------
# modelopt_recipes/configs/ptq/units/default_disabled_quantizers.yaml, matched with fnmatch
# against quantizer names such as "<module>.weight_quantizer". nn.Embedding / BatchNorm /
# LeakyReLU are disabled by parent class instead (embeddings are never "linear" here).
MODELOPT_047_DISABLED: tuple[str, ...] = (
    "*block_sparse_moe.gate*", "*linear_attn.conv1d*", "*self_attention.conv1d*",
    "*linear_attn.in_proj_a*", "*linear_attn.in_proj_b*", "*lm_head*", "*mixer.conv1d*",
    "*mlp.gate.*", "*mlp.shared_expert_gate.*", "*output_layer*", "*proj_out.*", "*router*",
    "mtp.*", "output.*", "*embed_vision*", "*vision_tower*", "*visual*", "*vision_model*",
    "*multi_modal_projector*",
)  # fmt: skip


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns) or "(?!)")


def modelopt_disables(module: str, patterns: Iterable[str] = MODELOPT_047_DISABLED) -> bool:
    """True if a ModelOpt-style pattern list disables `module`'s weight quantizer.

    Patterns are fnmatch globs (case-sensitive) on `<module>.weight_quantizer`.
    """
    return _compiled(tuple(patterns)).match(f"{module}.weight_quantizer") is not None


class _Prefixes:
    """Answers "does any quantized module name start with p?" by bisection."""

    def __init__(self, names: Iterable[str]) -> None:
        self.sorted = sorted(set(names))
        self.exact = set(self.sorted)

    def any_startswith(self, prefix: str) -> bool:
        i = bisect_left(self.sorted, prefix)
        return i < len(self.sorted) and self.sorted[i].startswith(prefix)

    def blocks(self, wildcard: str) -> bool:
        if wildcard.endswith("*"):
            return self.any_startswith(wildcard[:-1])
        return wildcard in self.exact


def _dot_wildcard_candidates(name: str) -> Iterable[list[str]]:
    for i, ch in enumerate(name):
        if ch == ".":
            yield [name[:i] + "*"]
            yield [name[:i], name[:i] + ".*"]
    yield [name]


def summarize_excluded(unquantized: Iterable[str], quantized: Iterable[str]) -> list[str]:
    """ModelOpt's `exclude_modules`: unquantized modules folded into prefix wildcards.

    A wildcard is cut only at a dot and never covers a quantized module (so the vision tower
    becomes "model.visual*" while "lm_head" stays exact). Same result as ModelOpt 0.47's
    `_prefix_wildcard_summarize_exclude_modules`, checked against a real export in the tests.
    """
    taken = _Prefixes(quantized)
    chosen: set[str] = set()
    for name in unquantized:
        for group in _dot_wildcard_candidates(name):
            if any(taken.blocks(w) for w in group):
                continue
            if not all(w in chosen for w in group):
                chosen.add(group[-1])  # [p*] -> p*; [p, p.*] -> ModelOpt emits only p.*
            break
    return sorted(chosen)


# --- quantization configs as the producers write them --------------------------------------
MODELOPT_VERSION = "0.47.0"
CT_LAYOUT_VERSION = "0.13.0"  # compressed-tensors version string seen in published NVFP4 configs


def _modelopt_algo(fmt: str) -> str:
    algos = {"modelopt_nvfp4": "NVFP4", "fp8": "FP8", "fp8_channel": "FP8_PER_CHANNEL_PER_TOKEN"}
    if fmt not in algos:
        raise FormatError(f"{fmt!r} is not a ModelOpt format; use one of {sorted(algos)}")
    return algos[fmt]


def modelopt_hf_quant_config(fmt: str, exclude_modules: list[str]) -> dict[str, Any]:
    """`hf_quant_config.json` exactly as ModelOpt 0.47's export_hf_checkpoint writes it."""
    quantization: dict[str, Any] = {"quant_algo": _modelopt_algo(fmt), "kv_cache_quant_algo": None}
    if fmt == "modelopt_nvfp4":
        quantization["group_size"] = NVFP4_GROUP
    quantization["exclude_modules"] = list(exclude_modules)
    return {
        "producer": {"name": "modelopt", "version": MODELOPT_VERSION},
        "quantization": quantization,
    }


def modelopt_mixed_hf_quant_config(layers: Mapping[str, str]) -> dict[str, Any]:
    """`hf_quant_config.json` of a ModelOpt 0.47 MIXED_PRECISION export: every quantized
    module (name → "modelopt_nvfp4" | "fp8") in `quantized_layers`, and no `exclude_modules`."""
    table: dict[str, dict[str, Any]] = {}
    for module, fmt in layers.items():
        entry: dict[str, Any] = {"quant_algo": _modelopt_algo(fmt)}
        if fmt == "modelopt_nvfp4":
            entry["group_size"] = NVFP4_GROUP
        table[module] = entry
    return {
        "producer": {"name": "modelopt", "version": MODELOPT_VERSION},
        "quantization": {
            "quant_algo": "MIXED_PRECISION",
            "kv_cache_quant_algo": None,
            "quantized_layers": table,
        },
    }


def modelopt_config_json_quantization(hf_quant_config: Mapping[str, Any]) -> dict[str, Any]:
    """`config.json` `quantization_config` that ModelOpt derives from `hf_quant_config.json`."""
    details = hf_quant_config["quantization"]
    algo = details["quant_algo"]
    if algo == "FP8_PER_CHANNEL_PER_TOKEN":  # measured: no config_groups for this algorithm
        return {
            "ignore": list(details.get("exclude_modules") or []),
            "quant_algo": algo,
            "producer": dict(hf_quant_config["producer"]),
            "quant_method": "modelopt",
        }
    args: dict[str, Any] = {"dynamic": False, "num_bits": 8, "type": "float"}
    if algo == "NVFP4":
        group = details.get("group_size", NVFP4_GROUP)
        args = {"dynamic": False, "num_bits": 4, "type": "float", "group_size": group}
    group0 = {"input_activations": dict(args), "weights": dict(args), "targets": ["Linear"]}
    return {
        "config_groups": {"group_0": group0},
        "ignore": list(details.get("exclude_modules") or []),
        "quant_algo": algo,
        "producer": dict(hf_quant_config["producer"]),
        "quant_method": "modelopt",
    }


def _ct_args(num_bits: int, strategy: str, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actorder": None, "block_structure": None, "dynamic": False, "group_size": None,
        "num_bits": num_bits, "observer": "memoryless_minmax", "observer_kwargs": {},
        "scale_dtype": None, "strategy": strategy, "symmetric": True, "type": "float",
        "zp_dtype": None,
    }  # fmt: skip
    args.update(extra)
    return args


def _ct_group(fmt: str) -> tuple[str, dict[str, Any]]:
    if fmt == "ct_nvfp4":
        nvfp4 = {"group_size": NVFP4_GROUP, "scale_dtype": "torch.float8_e4m3fn"}
        weights = _ct_args(4, "tensor_group", **nvfp4)
        inputs = _ct_args(4, "tensor_group", **nvfp4, dynamic="local", observer="static_minmax")
        return "nvfp4-pack-quantized", {"weights": weights, "input_activations": inputs}
    if fmt == "ct_fp8":
        weights = _ct_args(8, "tensor")
        inputs = _ct_args(8, "tensor", observer="static_minmax")
        return "float-quantized", {"weights": weights, "input_activations": inputs}
    if fmt == "ct_fp8_channel":  # the FP8_DYNAMIC preset: per-channel weights, per-token inputs
        weights = _ct_args(8, "channel")
        inputs = _ct_args(8, "token", dynamic=True, observer=None)
        return "float-quantized", {"weights": weights, "input_activations": inputs}
    raise FormatError(
        f"{fmt!r} is not a compressed-tensors format (ct_nvfp4, ct_fp8, ct_fp8_channel)"
    )


def ct_quantization_config(fmt: str, ignore: list[str]) -> dict[str, Any]:
    """`config.json` `quantization_config` in compressed-tensors' serialized shape.

    `ignore` lists explicit module names of Linear-typed modules left unquantized (routers
    count as Linear), as compressed-tensors' QuantizationConfig.from_pretrained builds it.
    """
    compression, args = _ct_group(fmt)
    group = {
        "format": compression,
        "input_activations": args["input_activations"],
        "output_activations": None,
        "targets": ["Linear"],
        "weights": args["weights"],
    }
    return {
        "config_groups": {"group_0": group},
        "format": compression,
        "global_compression_ratio": None,
        "ignore": list(ignore),
        "kv_cache_scheme": None,
        "quant_method": "compressed-tensors",
        "quantization_status": "compressed",
        "sparsity_config": {},
        "transform_config": {},
        "version": CT_LAYOUT_VERSION,
    }


def fp8_block_quantization_config(
    modules_to_not_convert: list[str], block: tuple[int, int] = FP8_BLOCK
) -> dict[str, Any]:
    """`quantization_config` of a block-FP8 checkpoint (transformers FineGrainedFP8Config;
    DeepSeek-V3's config.json adds `"fmt": "e4m3"`)."""
    return {
        "quant_method": "fp8",
        "activation_scheme": "dynamic",
        "weight_block_size": list(block),
        "modules_to_not_convert": list(modules_to_not_convert),
    }


def mxfp4_quantization_config(modules_to_not_convert: list[str]) -> dict[str, Any]:
    """`quantization_config` of gpt-oss as released (transformers Mxfp4Config.to_dict)."""
    return {"modules_to_not_convert": list(modules_to_not_convert), "quant_method": "mxfp4"}
