"""The compressed-tensors NVFP4 layout of a model, converted from a ModelOpt NVFP4 export.

Per quantized Linear X (llm-compressor is not installed: it pins an older transformers):

    X.weight         U8 [out, in/2]      -> X.weight_packed       (same bytes: same packing)
    X.weight_scale   F8_E4M3 [out, in/16] -> X.weight_scale        (same bytes)
    X.weight_scale_2 F32 []              -> X.weight_global_scale F32 [1] = 1 / weight_scale_2
    X.input_scale    F32 []              -> X.input_global_scale  F32 [1] = 1 / input_scale

Both tools pack two E2M1 codes per byte, element 2k in the low nibble, 2k+1 in the high one;
compressed-tensors' global scale is 448 * 6 / amax, ModelOpt's scale_2 is amax / (6 * 448).
config.json carries compressed-tensors' `quantization_config` with an explicit `ignore` list
of the Linear-typed modules left in BF16. Pure Python except reading config.json's classes.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

from publisher.checkpoint.formats import TensorSpec
from publisher.testkit.producer_configs import ct_quantization_config
from publisher.testkit.sparse import read_safetensors, write_safetensors
from publisher.testkit.tiny import Kind, cache_key, cached_dir, module_inventory

RENAMES = {"weight": "weight_packed", "weight_scale": "weight_scale"}
RECIPROCALS = {"weight_scale_2": "weight_global_scale", "input_scale": "input_global_scale"}


def _reciprocal_f32(raw: bytes) -> bytes:
    (value,) = struct.unpack("<f", raw)
    return struct.pack("<f", 1.0 / value)


def _quantized_modules(names: set[str]) -> set[str]:
    return {n.removesuffix(".weight_scale_2") for n in names if n.endswith(".weight_scale_2")}


def convert_tensor(spec: TensorSpec, raw: bytes, quantized: set[str]) -> tuple[TensorSpec, bytes]:
    """One ModelOpt tensor as compressed-tensors stores it."""
    module, _, leaf = spec.name.rpartition(".")
    if module not in quantized or leaf not in RENAMES | RECIPROCALS:
        return spec, raw
    if leaf in RENAMES:
        return TensorSpec(f"{module}.{RENAMES[leaf]}", spec.dtype, spec.shape), raw
    return TensorSpec(f"{module}.{RECIPROCALS[leaf]}", "F32", (1,)), _reciprocal_f32(raw)


def _model_config(config_dict: dict[str, Any]) -> Any:
    from transformers import AutoConfig

    data = {k: v for k, v in config_dict.items() if k != "quantization_config"}
    return AutoConfig.for_model(**data)


def ignore_list(config_dict: dict[str, Any], quantized: set[str]) -> list[str]:
    """Linear-typed modules (routers included) that stay unquantized, by saved name."""
    modules = module_inventory(_model_config(config_dict))
    return [m.name for m in modules if m.kind in ("linear", "router") and m.name not in quantized]


def modelopt_to_compressed_tensors(
    src_dir: str | os.PathLike[str], dst_dir: str | os.PathLike[str]
) -> Path:
    """Write the compressed-tensors NVFP4 layout of the ModelOpt export in `src_dir`."""
    src, dst = Path(src_dir), Path(dst_dir)
    dst.mkdir(parents=True, exist_ok=True)
    tensors = list(read_safetensors(src / "model.safetensors"))
    quantized = _quantized_modules({spec.name for spec, _ in tensors})
    write_safetensors(
        dst / "model.safetensors", [convert_tensor(s, raw, quantized) for s, raw in tensors]
    )
    config = json.loads((src / "config.json").read_text())
    config["quantization_config"] = ct_quantization_config(
        "ct_nvfp4", ignore_list(config, quantized)
    )
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    generation = src / "generation_config.json"
    if generation.exists():
        (dst / "generation_config.json").write_text(generation.read_text())
    return dst


def cached_compressed_tensors(
    kind: Kind, cache_dir: str | os.PathLike[str], **tiny_kwargs: Any
) -> Path:
    """The compressed-tensors layout of the cached tiny ModelOpt NVFP4 export."""
    from publisher.testkit.modelopt_export import cached_export

    src = cached_export(kind, cache_dir, "nvfp4", **tiny_kwargs)
    key = cache_key(f"ct-nvfp4-{kind}", source=src.name)
    return cached_dir(cache_dir, key, lambda d: modelopt_to_compressed_tensors(src, d))
