"""Per-format tensor rules: the names, dtypes and shapes a module's tensors take on disk.

Pure data and small functions (no torch): used to WRITE synthetic checkpoints and to VALIDATE
real ones. Facts behind the tables (measured with ModelOpt 0.47 / transformers 5.23, or read
from compressed-tensors' source) are in `publisher/testkit/FACTS.md`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from publisher.checkpoint.inventory import expected_nbytes

Shape = tuple[int, ...]
ModuleKind = Literal["linear", "router", "embedding", "conv", "norm", "param"]
ShapeRule = Literal["weight", "packed_fp4", "group_scales", "scalar", "one", "block_scales"]

SOURCE = "SOURCE"  # placeholder dtype: the checkpoint's unquantized dtype (BF16 here)

NVFP4_GROUP = 16
FP8_BLOCK = (128, 128)
MODULE_KINDS: tuple[ModuleKind, ...] = ("linear", "router", "embedding", "conv", "norm", "param")
QUANTIZER_KINDS: frozenset[ModuleKind] = frozenset({"linear", "router", "embedding", "conv"})


class TensorSpec(NamedTuple):
    """One tensor as stored: safetensors name, dtype string and shape."""

    name: str
    dtype: str
    shape: Shape


class FormatError(ValueError):
    """A module cannot be stored in the requested format (e.g. in_features % group != 0)."""


@dataclass(frozen=True)
class TensorRule:
    """One stored tensor of a quantized Linear: `<module>.<suffix>`."""

    suffix: str
    dtype: str
    shape: ShapeRule


@dataclass(frozen=True)
class FormatRule:
    """How a quantized Linear of this format is stored."""

    name: str
    description: str
    tensors: tuple[TensorRule, ...]
    group_size: int | None = None  # in_features must divide by it
    block: tuple[int, int] | None = None  # (rows, cols) of a 2-D scale block


FORMATS: dict[str, FormatRule] = {
    "bf16": FormatRule(
        "bf16",
        "unquantized",
        (TensorRule("weight", SOURCE, "weight"),),
    ),
    "modelopt_nvfp4": FormatRule(
        "modelopt_nvfp4",
        "ModelOpt NVFP4 (hf_quant_config.json, quant_method modelopt)",
        (
            TensorRule("weight", "U8", "packed_fp4"),
            TensorRule("weight_scale", "F8_E4M3", "group_scales"),
            TensorRule("weight_scale_2", "F32", "scalar"),
            TensorRule("input_scale", "F32", "scalar"),
        ),
        group_size=NVFP4_GROUP,
    ),
    "ct_nvfp4": FormatRule(
        "ct_nvfp4",
        "compressed-tensors nvfp4-pack-quantized; global scales = 1 / ModelOpt's",
        (
            TensorRule("weight_packed", "U8", "packed_fp4"),
            TensorRule("weight_scale", "F8_E4M3", "group_scales"),
            TensorRule("weight_global_scale", "F32", "one"),
            TensorRule("input_global_scale", "F32", "one"),
        ),
        group_size=NVFP4_GROUP,
    ),
    "fp8": FormatRule(
        "fp8",
        "ModelOpt FP8 per-tensor (weight and static input scale, F32 scalars)",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", "F32", "scalar"),
            TensorRule("input_scale", "F32", "scalar"),
        ),
    ),
    "ct_fp8": FormatRule(
        "ct_fp8",
        "compressed-tensors float-quantized, strategy tensor: scales [1] in the model dtype",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", SOURCE, "one"),
            TensorRule("input_scale", SOURCE, "one"),
        ),
    ),
    "fp8_block": FormatRule(
        "fp8_block",
        "block FP8 (transformers FineGrainedFP8 / DeepSeek): weight_scale_inv per 128x128 block",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale_inv", "F32", "block_scales"),
        ),
        block=FP8_BLOCK,
    ),
}


# The suffixes a stored module's tensors carry besides `bias`, from the rules above.
WEIGHT_SUFFIXES = frozenset({"weight", "weight_packed"})
SCALE_SUFFIXES = frozenset(t.suffix for r in FORMATS.values() for t in r.tensors) - WEIGHT_SUFFIXES


def format_rule(fmt: str) -> FormatRule:
    """The rule for `fmt`, or FormatError naming the known formats."""
    try:
        return FORMATS[fmt]
    except KeyError:
        raise FormatError(f"unknown format {fmt!r}; known: {sorted(FORMATS)}") from None


def _out_in(weight_shape: Shape) -> tuple[int, int]:
    if len(weight_shape) != 2:
        raise FormatError(f"a quantized Linear weight must be 2-D, got {list(weight_shape)}")
    return weight_shape[0], weight_shape[1]


def rule_shape(rule: ShapeRule, fmt: FormatRule, weight_shape: Shape) -> Shape:
    """The stored shape a tensor rule gives for a Linear of logical `weight_shape`."""
    if rule == "scalar":
        return ()
    if rule == "one":
        return (1,)
    out, inp = _out_in(weight_shape)
    if rule == "weight":
        return (out, inp)
    if rule == "packed_fp4":
        return (out, inp // 2)
    if rule == "group_scales":
        assert fmt.group_size is not None
        return (out, inp // fmt.group_size)
    assert fmt.block is not None  # block_scales
    return (math.ceil(out / fmt.block[0]), math.ceil(inp / fmt.block[1]))


def check_quantizable(weight_shape: Shape, fmt: str) -> None:
    """Raise FormatError if a Linear of `weight_shape` cannot be stored as `fmt`.

    NVFP4 needs in_features % 16 == 0: ModelOpt 0.47 calibrates such a layer (it pads) but
    its export then fails with AssertionError "Weight shape is not divisible for block size
    for block quantization."
    """
    rule = format_rule(fmt)
    _, inp = _out_in(weight_shape)
    if rule.group_size and inp % rule.group_size:
        raise FormatError(
            f"{fmt}: in_features {inp} is not a multiple of the group size {rule.group_size}"
        )


def expected_tensors(
    module: str,
    kind: str,
    weight_shape: Shape,
    has_bias: bool,
    fmt: str,
    source_dtype: str = "BF16",
) -> list[TensorSpec]:
    """The tensors `module` is stored as in `fmt`.

    Only kind "linear" is quantized; every other kind (and fmt "bf16") keeps `weight` (and
    `bias`) in `source_dtype`. For kind "param" `module` is the full tensor name (`A_log`).
    A quantized Linear's bias stays in `source_dtype`, shape [out].
    """
    if kind not in MODULE_KINDS:
        raise FormatError(f"unknown module kind {kind!r}; known: {list(MODULE_KINDS)}")
    if kind == "param":
        return [TensorSpec(module, source_dtype, tuple(weight_shape))]
    rule = format_rule("bf16" if kind != "linear" else fmt)
    if rule.name != "bf16":
        check_quantizable(weight_shape, fmt)
    specs = [
        TensorSpec(
            f"{module}.{t.suffix}",
            source_dtype if t.dtype == SOURCE else t.dtype,
            tuple(weight_shape) if rule.name == "bf16" else rule_shape(t.shape, rule, weight_shape),
        )
        for t in rule.tensors
    ]
    if has_bias:
        specs.append(TensorSpec(f"{module}.bias", source_dtype, (weight_shape[0],)))
    return specs


def quantized_suffixes(fmt: str) -> frozenset[str]:
    """Suffixes (after the module name) a quantized Linear of `fmt` has, bias excluded."""
    return frozenset(t.suffix for t in format_rule(fmt).tensors)


def detect_format(suffixes: Iterable[str]) -> str | None:
    """Which format a module's stored suffixes match exactly (bias ignored), else None."""
    found = frozenset(suffixes) - {"bias"}
    matches = [name for name, rule in FORMATS.items() if found == quantized_suffixes(name)]
    if len(matches) == 1:
        return matches[0]
    return None  # fp8 and ct_fp8 share suffixes: tell them apart by shape/dtype


def logical_weight_shape(fmt: str, stored_weight_shape: Shape) -> Shape:
    """The unquantized [out, in] of a Linear, from its stored (possibly packed) weight."""
    out, inp = _out_in(stored_weight_shape)
    packed = any(t.shape == "packed_fp4" for t in format_rule(fmt).tensors)
    return (out, inp * 2) if packed else (out, inp)


@lru_cache(maxsize=4096)
def tensor_nbytes(dtype: str, shape: Shape) -> int:
    """Bytes a tensor's data takes in a safetensors file (sizes from inventory.DTYPE_BITS)."""
    nbytes = expected_nbytes(dtype, shape)
    if nbytes is None:
        raise FormatError(f"{dtype} {list(shape)}: unknown dtype, or its bits fill no whole bytes")
    return nbytes


_SHARD_RE = re.compile(r"^model-(\d{5})-of-(\d{5})\.safetensors$")


def shard_name(index: int, count: int) -> str:
    """`model-0000i-of-0000n.safetensors` (1-based), or `model.safetensors` if one shard."""
    if count == 1:
        return "model.safetensors"
    return f"model-{index:05d}-of-{count:05d}.safetensors"


def is_shard_name(name: str) -> bool:
    """True for `model.safetensors` and well-formed `model-i-of-n.safetensors` names."""
    match = _SHARD_RE.match(name)
    if match is None:
        return name == "model.safetensors"
    index, count = int(match[1]), int(match[2])
    return 1 <= index <= count
