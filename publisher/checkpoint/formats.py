"""Per-format tensor rules: the names, dtypes and shapes a module's tensors take on disk.

Pure data and small functions (no torch): used to WRITE synthetic checkpoints and to VALIDATE
real ones. Facts behind the tables (measured with ModelOpt 0.47 / transformers 5.23, or read
from compressed-tensors' source) are in `publisher/testkit/FACTS.md`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal, NamedTuple

Shape = tuple[int, ...]
ModuleKind = Literal["linear", "router", "embedding", "conv", "norm", "param"]
ShapeRule = Literal[
    "weight", "packed_fp4", "group_scales", "scalar", "one", "block_scales", "channel_scales",
    "channel_column", "mx_blocks", "mx_scales", "fused_packed", "fused_group_scales",
]  # fmt: skip

SOURCE = "SOURCE"  # placeholder dtype: the checkpoint's unquantized dtype (BF16 here)

NVFP4_GROUP = 16
FP8_BLOCK = (128, 128)  # transformers' default when a block-FP8 config gives no weight_block_size
MX_BLOCK = 32  # MXFP4: 32 FP4 values share one E8M0 (power-of-two) scale ...
MX_BLOCK_BYTES = MX_BLOCK // 2  # ... and are packed two per byte: 16 bytes a block
QUANTIZED_PRECISIONS: tuple[str, ...] = ("nvfp4", "mxfp4", "fp8")
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
    """One stored tensor of a quantized module: `<module><joiner><suffix>`.

    `role` says in a few words what the tensor holds (cards and messages quote it).
    """

    suffix: str
    dtype: str
    shape: ShapeRule
    role: str = ""


@dataclass(frozen=True)
class FormatRule:
    """How a quantized module of this format is stored.

    `precision` is what the spec calls it (nvfp4 | mxfp4 | fp8 | bf16). `kinds` are the module
    kinds the format quantizes: Linears, and for MXFP4 as gpt-oss ships it also the fused
    expert parameters (`mlp.experts.gate_up_proj`, logical [experts, in, out]), whose tensors
    are named `<param>_blocks` / `<param>_scales` (`joiner` "_"). `transposed`: the logical
    parameter is [.., in, out] while the stored blocks are [.., out, in/32, 16]. `fused`
    names the rule a fused expert parameter follows when this format quantizes one (ModelOpt
    NVFP4 on gpt-oss); a tensor rule with suffix "" is the parameter itself.
    """

    name: str
    description: str
    tensors: tuple[TensorRule, ...]
    group_size: int | None = None  # in_features must divide by it
    block: tuple[int, int] | None = None  # (rows, cols) of a 2-D scale block
    precision: str = "bf16"
    label: str = "BF16"
    kinds: frozenset[str] = frozenset({"linear"})
    joiner: str = "."
    transposed: bool = False
    fused: str | None = None  # the format a fused expert parameter of this precision takes


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
            TensorRule("weight", "U8", "packed_fp4", "two FP4 (E2M1) values packed in each byte"),
            TensorRule("weight_scale", "F8_E4M3", "group_scales", "one scale per group"),
            TensorRule("weight_scale_2", "F32", "scalar", "the tensor's global scale"),
            TensorRule("input_scale", "F32", "scalar", "the calibrated activation scale"),
        ),
        group_size=NVFP4_GROUP,
        precision="nvfp4",
        label="NVFP4",
        fused="modelopt_nvfp4_fused",
    ),
    "modelopt_nvfp4_fused": FormatRule(
        "modelopt_nvfp4_fused",
        "ModelOpt 0.47 NVFP4 of a fused expert parameter [experts, in, out] (gpt-oss, measured):"
        " the parameter itself packed U8 along in, one scale_2 and input scale for all experts",
        (
            TensorRule("", "U8", "fused_packed", "two FP4 (E2M1) values packed in each byte"),
            TensorRule("weight_scale", "F8_E4M3", "fused_group_scales", "one scale per group"),
            TensorRule("weight_scale_2", "F32", "scalar", "the global scale of all experts"),
            TensorRule("input_scale", "F32", "scalar", "the calibrated activation scale"),
        ),
        group_size=NVFP4_GROUP,
        precision="nvfp4",
        label="NVFP4",
        kinds=frozenset({"param"}),
        joiner="_",
        transposed=True,
    ),
    "ct_nvfp4": FormatRule(
        "ct_nvfp4",
        "compressed-tensors nvfp4-pack-quantized; global scales = 1 / ModelOpt's",
        (
            TensorRule(
                "weight_packed", "U8", "packed_fp4", "two FP4 (E2M1) values packed in each byte"
            ),
            TensorRule("weight_scale", "F8_E4M3", "group_scales", "one scale per group"),
            TensorRule("weight_global_scale", "F32", "one", "the tensor's global scale"),
            TensorRule("input_global_scale", "F32", "one", "the calibrated activation scale"),
        ),
        group_size=NVFP4_GROUP,
        precision="nvfp4",
        label="NVFP4",
    ),
    "mxfp4": FormatRule(
        "mxfp4",
        "MXFP4 as gpt-oss is released (quant_method mxfp4): fused experts as U8 blocks and"
        " U8 E8M0 scales, one scale per 32 values",
        (
            TensorRule("blocks", "U8", "mx_blocks", "32 FP4 (E2M1) values in 16 bytes a block"),
            TensorRule("scales", "U8", "mx_scales", "one E8M0 exponent per block of 32"),
        ),
        group_size=MX_BLOCK,
        precision="mxfp4",
        label="MXFP4",
        kinds=frozenset({"param"}),
        joiner="_",
        transposed=True,
    ),
    "fp8": FormatRule(
        "fp8",
        "ModelOpt FP8 per-tensor (weight and static input scale, F32 scalars)",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", "F32", "scalar", "one scale for the whole weight"),
            TensorRule("input_scale", "F32", "scalar", "the calibrated activation scale"),
        ),
        precision="fp8",
        label="FP8 (per-tensor scales)",
    ),
    "ct_fp8": FormatRule(
        "ct_fp8",
        "compressed-tensors float-quantized, strategy tensor: scales [1] in the model dtype",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", SOURCE, "one", "one scale for the whole weight"),
            TensorRule("input_scale", SOURCE, "one", "the calibrated activation scale"),
        ),
        precision="fp8",
        label="FP8 (per-tensor scales)",
    ),
    "fp8_channel": FormatRule(
        "fp8_channel",
        "ModelOpt FP8_PER_CHANNEL_PER_TOKEN: F32 weight scales [out], activations scaled per"
        " token at run time",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", "F32", "channel_scales", "one scale per output channel"),
        ),
        precision="fp8",
        label="FP8 (per-channel scales)",
    ),
    "ct_fp8_channel": FormatRule(
        "ct_fp8_channel",
        "compressed-tensors float-quantized, strategy channel (FP8_DYNAMIC): weight scales"
        " [out, 1] in the model dtype, activations scaled per token at run time",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale", SOURCE, "channel_column", "one scale per output channel"),
        ),
        precision="fp8",
        label="FP8 (per-channel scales)",
    ),
    "fp8_block": FormatRule(
        "fp8_block",
        "block FP8 (DeepSeek-V3 / Kimi-K2 native, transformers FineGrainedFP8): F32"
        " weight_scale_inv per block, block size from quantization_config.weight_block_size",
        (
            TensorRule("weight", "F8_E4M3", "weight"),
            TensorRule("weight_scale_inv", "F32", "block_scales", "one scale per block"),
        ),
        block=FP8_BLOCK,
        precision="fp8",
        label="FP8 (block scales)",
    ),
}
# The storage key of a block-FP8 format with another block: "fp8_block:64x64".
BLOCK_SEPARATOR = ":"


def block_format(fmt: str, block: Iterable[int] | None) -> str:
    """The storage key of `fmt` with scale blocks of `block` (rows, cols); `fmt` itself when
    it has no blocks, `block` is None or equals the format's default."""
    rule = format_rule(fmt)
    if rule.block is None or block is None:
        return rule.name
    dims = tuple(block)
    if len(dims) != 2 or any(type(d) is not int or d <= 0 for d in dims):
        raise FormatError(f"a scale block is [rows, cols] of positive integers, got {list(dims)}")
    if dims == rule.block:
        return rule.name
    return f"{rule.name}{BLOCK_SEPARATOR}{dims[0]}x{dims[1]}"


# The suffixes a stored module's tensors carry besides `bias`, from the rules above.
WEIGHT_SUFFIXES = frozenset({"weight", "weight_packed"})
SCALE_SUFFIXES = (
    frozenset(t.suffix for r in FORMATS.values() if r.joiner == "." for t in r.tensors)
    - WEIGHT_SUFFIXES
)


def format_rule(fmt: str) -> FormatRule:
    """The rule for `fmt` (a FORMATS key, or a block_format key), or FormatError naming the
    known formats."""
    rule = FORMATS.get(fmt)
    if rule is not None:
        return rule
    return _blocked_rule(fmt)


@lru_cache(maxsize=64)
def _blocked_rule(fmt: str) -> FormatRule:
    base, _, dims = fmt.partition(BLOCK_SEPARATOR)
    rule = FORMATS.get(base)
    if rule is None or rule.block is None or not dims:
        raise FormatError(f"unknown format {fmt!r}; known: {sorted(FORMATS)}") from None
    rows, _, cols = dims.partition("x")
    if not (rows.isdigit() and cols.isdigit() and int(rows) > 0 and int(cols) > 0):
        raise FormatError(f"unknown format {fmt!r}: a block is written ROWSxCOLS, e.g. 128x128")
    return replace(rule, name=fmt, block=(int(rows), int(cols)))


SHAPE_TEXT: dict[str, str] = {
    "weight": "[out, in]",
    "packed_fp4": "[out, in/2]",
    "group_scales": "[out, in/{group}]",
    "scalar": "[] (a scalar)",
    "one": "[1]",
    "block_scales": "[ceil(out/{rows}), ceil(in/{cols})]",
    "channel_scales": "[out]",
    "channel_column": "[out, 1]",
    "mx_blocks": "[experts, out, in/32, 16]",
    "fused_packed": "[experts, in/2, out]",
    "fused_group_scales": "[experts, in/{group}, out]",
    "mx_scales": "[experts, out, in/32]",
}


def tensor_facts(fmt: str, source_dtype: str = "BF16") -> list[tuple[str, str, str, str]]:
    """(stored name, dtype, shape, role) of each tensor a module X takes in `fmt`, for cards:
    e.g. ("X.weight_scale_inv", "F32", "[ceil(out/128), ceil(in/128)]", "one scale per block")."""
    rule = format_rule(fmt)
    rows, cols = rule.block or (0, 0)
    return [
        (
            f"X{rule.joiner}{t.suffix}",
            source_dtype if t.dtype == SOURCE else t.dtype,
            SHAPE_TEXT[t.shape].format(group=rule.group_size, rows=rows, cols=cols),
            t.role,
        )
        for t in rule.tensors
    ]


def precision_of(fmt: str) -> str:
    """The spec precision (nvfp4 | mxfp4 | fp8 | bf16) a storage format holds."""
    return format_rule(fmt).precision


def _out_in(weight_shape: Shape, fmt: FormatRule | None = None) -> tuple[int, int]:
    """(out, in) of a Linear weight, or of the last two dims of a fused (transposed) param."""
    if fmt is not None and fmt.transposed and len(weight_shape) >= 2:
        return weight_shape[-1], weight_shape[-2]  # fused experts: [.., in, out]
    if len(weight_shape) != 2:
        raise FormatError(f"a quantized Linear weight must be 2-D, got {list(weight_shape)}")
    return weight_shape[0], weight_shape[1]


def rule_shape(rule: ShapeRule, fmt: FormatRule, weight_shape: Shape) -> Shape:
    """The stored shape a tensor rule gives for a module of logical `weight_shape`."""
    if rule == "scalar":
        return ()
    if rule == "one":
        return (1,)
    out, inp = _out_in(weight_shape, fmt)
    if rule == "weight":
        return (out, inp)
    if rule == "packed_fp4":
        return (out, inp // 2)
    if rule == "channel_scales":
        return (out,)
    if rule == "channel_column":
        return (out, 1)
    if rule == "group_scales":
        assert fmt.group_size is not None
        return (out, inp // fmt.group_size)
    lead = tuple(weight_shape[:-2])
    if rule == "fused_packed":  # the [.., in, out] layout kept, two values a byte along in
        return (*lead, inp // 2, out)
    if rule == "fused_group_scales":
        assert fmt.group_size is not None
        return (*lead, inp // fmt.group_size, out)
    if rule == "mx_blocks":
        return (*lead, out, inp // MX_BLOCK, MX_BLOCK_BYTES)
    if rule == "mx_scales":
        return (*lead, out, inp // MX_BLOCK)
    assert fmt.block is not None  # block_scales
    return (math.ceil(out / fmt.block[0]), math.ceil(inp / fmt.block[1]))


def check_quantizable(weight_shape: Shape, fmt: str) -> None:
    """Raise FormatError if a module of `weight_shape` cannot be stored as `fmt`.

    NVFP4 needs in_features % 16 == 0: ModelOpt 0.47 calibrates such a layer (it pads) but
    its export then fails with AssertionError "Weight shape is not divisible for block size
    for block quantization." MXFP4 needs in_features % 32 == 0 (whole blocks).
    """
    rule = format_rule(fmt)
    _, inp = _out_in(weight_shape, rule)
    if rule.group_size and inp % rule.group_size:
        raise FormatError(
            f"{fmt}: in_features {inp} is not a multiple of the group size {rule.group_size}"
        )


FUSED_NDIM = 3  # a parameter a format quantizes is a fused stack: [experts, in, out]


def quantizes(fmt: str, kind: str, shape: Shape | None = None) -> bool:
    """Whether `fmt` stores a module of `kind` (and logical `shape`) quantized, else it stays
    in the source dtype. Parameters qualify only as fused stacks of 3+ dims (gpt-oss's
    `experts.gate_up_proj`, never its `gate_up_proj_bias` or `self_attn.sinks`)."""
    rule = storage_rule(fmt, kind)
    if rule.precision == "bf16" or kind not in rule.kinds:
        return False
    return kind != "param" or (shape is not None and len(shape) >= FUSED_NDIM)


def storage_rule(fmt: str, kind: str) -> FormatRule:
    """The rule a module of `kind` follows in `fmt` (a fused parameter: the format's `fused`)."""
    rule = format_rule(fmt)
    if kind == "param" and rule.fused is not None:
        return format_rule(rule.fused)
    return rule


def expected_tensors(
    module: str,
    kind: str,
    weight_shape: Shape,
    has_bias: bool,
    fmt: str,
    source_dtype: str = "BF16",
) -> list[TensorSpec]:
    """The tensors `module` is stored as in `fmt`.

    The kinds a format quantizes (`FormatRule.kinds`: Linears; for MXFP4 also fused expert
    parameters) take its tensors; every other kind (and fmt "bf16") keeps `weight` (and
    `bias`) in `source_dtype`. For kind "param" `module` is the full tensor name (`A_log`).
    A quantized Linear's bias stays in `source_dtype`, shape [out].
    """
    if kind not in MODULE_KINDS:
        raise FormatError(f"unknown module kind {kind!r}; known: {list(MODULE_KINDS)}")
    quantized = quantizes(fmt, kind, tuple(weight_shape))
    if kind == "param" and not quantized:
        return [TensorSpec(module, source_dtype, tuple(weight_shape))]
    rule = storage_rule(fmt, kind) if quantized else format_rule("bf16")
    if quantized:
        check_quantizable(weight_shape, rule.name)
    specs = [
        TensorSpec(
            f"{module}{rule.joiner}{t.suffix}" if t.suffix else module,
            source_dtype if t.dtype == SOURCE else t.dtype,
            tuple(weight_shape) if not quantized else rule_shape(t.shape, rule, weight_shape),
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
    """Which dot-joined format a module's stored suffixes match exactly (bias ignored)."""
    found = frozenset(suffixes) - {"bias"}
    matches = [
        name
        for name, rule in FORMATS.items()
        if rule.joiner == "." and found == quantized_suffixes(name)
    ]
    if len(matches) == 1:
        return matches[0]
    return None  # fp8, ct_fp8 and the per-channel ones share suffixes: shape/dtype tell


def param_formats() -> tuple[FormatRule, ...]:
    """Formats that store a parameter as `<param>_<suffix>` tensors (MXFP4's fused experts)."""
    return tuple(rule for rule in FORMATS.values() if rule.joiner != ".")


def param_of(tensor_name: str) -> str | None:
    """The parameter a `<param>_<suffix>` tensor of a param format belongs to
    (`...experts.gate_up_proj_blocks` → `...experts.gate_up_proj`), else None."""
    for rule in param_formats():
        for t in rule.tensors:
            tail = f"{rule.joiner}{t.suffix}"
            if t.suffix and tensor_name.endswith(tail):
                return tensor_name[: -len(tail)]
    return None


def logical_weight_shape(fmt: str, stored_weight_shape: Shape) -> Shape:
    """The unquantized [out, in] of a Linear, from its stored (possibly packed) weight."""
    out, inp = _out_in(stored_weight_shape)
    packed = any(t.shape == "packed_fp4" for t in format_rule(fmt).tensors)
    return (out, inp * 2) if packed else (out, inp)


def transposed_shape(fmt: str, kind: str, weight_shape: Shape) -> Shape | None:
    """The shape a module's main stored tensor has when it was written with out and in
    swapped (NVFP4 [in/2, out] instead of [out, in/2]); None when swapping changes nothing."""
    if not quantizes(fmt, kind, weight_shape) or len(weight_shape) != 2:
        return None
    rule = format_rule(fmt)
    main = rule_shape(rule.tensors[0].shape, rule, weight_shape)
    if len(main) != 2 or main[0] == main[1]:
        return None
    if rule.tensors[0].shape == "packed_fp4":
        out, inp = weight_shape
        return (inp // 2, out)
    return (main[1], main[0])


@lru_cache(maxsize=4096)
def tensor_nbytes(dtype: str, shape: Shape) -> int:
    """Bytes a tensor's data takes in a safetensors file (sizes from inventory.DTYPE_BITS)."""
    from publisher.checkpoint.inventory import expected_nbytes  # (msgspec: not for cards)

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
