"""Full-size sharded checkpoints whose data regions are holes: real headers, (almost) no disk.

Names and shapes come from the meta-device transformers model (`tiny.module_inventory`);
each module's tensors follow a precision plan and a format (`checkpoint.formats`). Each
shard is an 8-byte header length, the JSON header, then `truncate()` to the full size: the
data is never written, so the file is a sparse hole. Only `write_sparse_checkpoint` touches
torch (through the meta model); everything else here is pure Python.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.checkpoint.formats import (
    QUANTIZER_KINDS,
    TensorSpec,
    expected_tensors,
    format_rule,
    is_shard_name,
    quantizes,
    shard_name,
    tensor_nbytes,
)
from publisher.testkit.producer_configs import (
    MODELOPT_047_DISABLED,
    ct_quantization_config,
    fp8_block_quantization_config,
    modelopt_config_json_quantization,
    modelopt_disables,
    modelopt_hf_quant_config,
    mxfp4_quantization_config,
    summarize_excluded,
)

if TYPE_CHECKING:
    from publisher.testkit.tiny import ModuleInfo

DEFAULT_SHARD_BYTES = 5_000_000_000
SAFETENSORS_METADATA = {"format": "pt"}
# safetensors' Dtype enum order: its writer lays data out by dtype, descending, then by name.
_DTYPE_ENUM = (
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16",
    "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
)  # fmt: skip
DTYPE_ORDER: dict[str, int] = {name: rank for rank, name in enumerate(_DTYPE_ENUM)}


@dataclass(frozen=True)
class PrecisionPlan:
    """Which Linear modules get quantized: all, minus ModelOpt-style disabled patterns.

    Patterns use fnmatch on `<module>.weight_quantizer`, exactly as ModelOpt matches them.
    Non-Linear kinds (embeddings, convs, norms, routers, parameters) are never quantized.
    """

    name: str
    disabled: tuple[str, ...]
    description: str = ""

    def quantizes(self, module: ModuleInfo) -> bool:
        """True if this plan stores `module` quantized."""
        return module.kind == "linear" and not modelopt_disables(module.name, self.disabled)


def _without(*needles: str) -> tuple[str, ...]:
    return tuple(p for p in MODELOPT_047_DISABLED if not any(n in p for n in needles))


PLANS: dict[str, PrecisionPlan] = {
    plan.name: plan
    for plan in (
        PrecisionPlan(
            "modelopt-default",
            MODELOPT_047_DISABLED,
            "as ModelOpt 0.47 NVFP4_DEFAULT_CFG exports: in_proj_a/b, routers, lm_head, vision BF16",
        ),
        PrecisionPlan(
            "all-deltanet",
            _without("in_proj_a", "in_proj_b"),
            "ModelOpt default, but all five DeltaNet projections quantized",
        ),
        PrecisionPlan(
            "all-deltanet-and-vision",
            _without("in_proj_a", "in_proj_b", "visual"),
            "the 27B card's table: all DeltaNet projections and the vision linears quantized",
        ),
        PrecisionPlan("none", ("*",), "nothing quantized"),
    )
}


def plan_by_name(name: str) -> PrecisionPlan:
    """A built-in plan: modelopt-default, all-deltanet, all-deltanet-and-vision, none."""
    if name not in PLANS:
        raise ValueError(f"unknown plan {name!r}; known: {sorted(PLANS)}")
    return PLANS[name]


@dataclass
class PlannedTensors:
    """The tensors of every module under a plan, plus which modules ended up quantized."""

    tensors: list[TensorSpec]
    quantized: list[str] = field(default_factory=list)
    unquantized_linears: list[str] = field(default_factory=list)  # linear + router kinds
    unquantized_quantizable: list[str] = field(default_factory=list)  # any quantizer-carrier
    logical_parameters: int = 0


def plan_tensors(modules: Iterable[ModuleInfo], plan: PrecisionPlan, fmt: str) -> PlannedTensors:
    """Every module's stored tensors: `fmt` where the plan quantizes, BF16 elsewhere."""
    format_rule(fmt)
    planned = PlannedTensors([])
    for module in modules:
        quantized = quantizes(fmt, module.kind, module.weight_shape) and not modelopt_disables(
            module.name, plan.disabled
        )
        use = fmt if quantized else "bf16"
        planned.tensors += expected_tensors(
            module.name, module.kind, module.weight_shape, module.has_bias, use
        )
        planned.logical_parameters += math.prod(module.weight_shape)
        planned.logical_parameters += module.weight_shape[0] if module.has_bias else 0
        if quantized:
            planned.quantized.append(module.name)
            continue
        if module.kind in ("linear", "router"):
            planned.unquantized_linears.append(module.name)
        if module.kind in QUANTIZER_KINDS:
            planned.unquantized_quantizable.append(module.name)
    return planned


def quantization_files(fmt: str, planned: PlannedTensors) -> tuple[dict | None, dict | None]:
    """(config.json quantization_config, hf_quant_config.json) for `fmt`; None where absent."""
    if fmt == "bf16":
        return None, None
    if fmt in ("modelopt_nvfp4", "fp8", "fp8_channel"):
        excluded = summarize_excluded(planned.unquantized_quantizable, planned.quantized)
        hf_quant = modelopt_hf_quant_config(fmt, excluded)
        return modelopt_config_json_quantization(hf_quant), hf_quant
    if fmt in ("ct_nvfp4", "ct_fp8", "ct_fp8_channel"):
        return ct_quantization_config(fmt, planned.unquantized_linears), None
    rule = format_rule(fmt)
    if rule.precision == "mxfp4":
        return mxfp4_quantization_config(planned.unquantized_linears), None
    if rule.block is None:
        raise ValueError(f"no quantization config writer for {fmt!r}")
    block = (rule.block[0], rule.block[1])
    return fp8_block_quantization_config(planned.unquantized_linears, block), None


def split_shards(tensors: Sequence[TensorSpec], shard_bytes: float) -> list[list[TensorSpec]]:
    """Greedy split in order, as transformers does: a new shard when the next would overflow."""
    shards: list[list[TensorSpec]] = [[]]
    size = 0
    for spec in tensors:
        nbytes = tensor_nbytes(spec.dtype, spec.shape)
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(spec)
        size += nbytes
    return shards


def safetensors_header(
    tensors: Iterable[TensorSpec], metadata: Mapping[str, str] | None = None
) -> tuple[bytes, int]:
    """(length-prefixed header padded to 8 bytes, data size); data laid out as safetensors does.

    Ordered as the safetensors writer orders them (dtype descending, then name), so the
    header is byte-identical to what `safetensors.torch.save_file` writes.
    """
    header: dict[str, Any] = {"__metadata__": dict(metadata or SAFETENSORS_METADATA)}
    offset = 0
    for spec in sorted(tensors, key=lambda s: (-DTYPE_ORDER[s.dtype], s.name)):
        end = offset + tensor_nbytes(spec.dtype, spec.shape)
        header[spec.name] = {
            "dtype": spec.dtype,
            "shape": list(spec.shape),
            "data_offsets": [offset, end],
        }
        offset = end
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw, offset


def write_sparse_shard(path: Path, tensors: Iterable[TensorSpec]) -> int:
    """Write header only and truncate to full size (a hole); returns the file size."""
    head, data_size = safetensors_header(tensors)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + data_size)
    return len(head) + data_size


def write_safetensors(path: Path, tensors: Sequence[tuple[TensorSpec, bytes]]) -> None:
    """Write a real safetensors file from (spec, raw little-endian bytes) pairs."""
    data = {spec.name: raw for spec, raw in tensors}
    head, _ = safetensors_header([spec for spec, _ in tensors])
    layout = json.loads(head[8:])
    layout.pop("__metadata__")
    with open(path, "wb") as f:
        f.write(head)
        for name in sorted(layout, key=lambda n: layout[n]["data_offsets"][0]):
            f.write(data[name])


def read_safetensors_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a safetensors file (with `__metadata__` if present)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header: dict[str, Any] = json.loads(f.read(length))
    return header


def read_safetensors(path: str | os.PathLike[str]) -> Iterator[tuple[TensorSpec, bytes]]:
    """Every tensor of a safetensors file as (spec, raw bytes), in header order."""
    header = read_safetensors_header(path)
    header.pop("__metadata__", None)
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        blob = f.read()[length:]
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        yield TensorSpec(name, entry["dtype"], tuple(entry["shape"])), blob[start:end]


@dataclass
class SparseCheckpoint:
    """What `write_sparse_files` wrote."""

    out_dir: Path
    shards: list[str]
    tensor_count: int
    total_size: int
    quantized_modules: int
    files: list[str]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_sparse_files(
    out_dir: str | os.PathLike[str],
    modules: Sequence[ModuleInfo],
    config_dict: Mapping[str, Any],
    plan: PrecisionPlan,
    fmt: str,
    shard_bytes: float = DEFAULT_SHARD_BYTES,
) -> SparseCheckpoint:
    """Write shards (holes), the index, config.json and (ModelOpt) hf_quant_config.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous(out)
    planned = plan_tensors(modules, plan, fmt)
    groups = split_shards(planned.tensors, shard_bytes)
    names = [shard_name(i + 1, len(groups)) for i in range(len(groups))]
    for name, group in zip(names, groups, strict=True):
        write_sparse_shard(out / name, group)
    files = list(names)
    total = sum(tensor_nbytes(s.dtype, s.shape) for s in planned.tensors)
    if len(groups) > 1:
        weight_map = {s.name: n for n, g in zip(names, groups, strict=True) for s in g}
        metadata = {"total_parameters": planned.logical_parameters, "total_size": total}
        _write_json(
            out / "model.safetensors.index.json", {"metadata": metadata, "weight_map": weight_map}
        )
        files.append("model.safetensors.index.json")
    files += _write_configs(out, config_dict, *quantization_files(fmt, planned))
    return SparseCheckpoint(out, names, len(planned.tensors), total, len(planned.quantized), files)


def _remove_previous(out: Path) -> None:
    """Delete files an earlier write into `out` may have left (shards, index, configs)."""
    for path in out.iterdir():
        ours = {"model.safetensors.index.json", "config.json", "hf_quant_config.json"}
        if path.is_file() and (is_shard_name(path.name) or path.name in ours):
            path.unlink()


def _write_configs(
    out: Path, config_dict: Mapping[str, Any], qcfg: dict | None, hfq: dict | None
) -> list[str]:
    config = dict(config_dict)
    if qcfg is not None:
        config["quantization_config"] = qcfg
    _write_json(out / "config.json", config)
    if hfq is None:
        return ["config.json"]
    (out / "hf_quant_config.json").write_text(json.dumps(hfq, indent=4))
    return ["config.json", "hf_quant_config.json"]


def config_json_dict(config: Any) -> dict[str, Any]:
    """config.json as save_pretrained writes it for a bfloat16 model of `config`."""
    data: dict[str, Any] = json.loads(config.to_json_string(use_diff=True))
    data["architectures"] = list(config.architectures or [])
    data["dtype"] = "bfloat16"
    return dict(sorted(data.items()))


def write_sparse_checkpoint(
    out_dir: str | os.PathLike[str],
    config: Any,
    plan: PrecisionPlan | str = "modelopt-default",
    fmt: str = "modelopt_nvfp4",
    shard_bytes: float = DEFAULT_SHARD_BYTES,
) -> SparseCheckpoint:
    """A full-size sparse checkpoint for a transformers `config` (meta model for the names)."""
    from publisher.testkit.tiny import module_inventory

    plan = plan_by_name(plan) if isinstance(plan, str) else plan
    modules = module_inventory(config)
    return write_sparse_files(out_dir, modules, config_json_dict(config), plan, fmt, shard_bytes)
