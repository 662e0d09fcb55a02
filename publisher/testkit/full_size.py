"""Full-size sparse header sets of published models of any transformers architecture,
including the next-token (MTP) layers transformers itself does not build.

Facts come from the published config.json, kept in `publisher/testkit/published/NAME.json`
(its `_source` says where from). Names and shapes come from transformers' meta-device model
(`AutoModelForCausalLM.from_config`), with the names `save_pretrained` writes; the
`num_nextn_predict_layers` MTP layers are added as DeepSeek-V3's README_WEIGHTS.md lays them
out: a copy of a decoder layer at index num_hidden_layers + k, plus `embed_tokens`, `enorm`,
`hnorm`, `eh_proj` [hidden, 2 x hidden] and `shared_head.{norm,head}`. Shards are holes
(`sparse.write_sparse_shard`): real headers, no data on disk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from publisher.checkpoint.formats import TensorSpec, tensor_nbytes
from publisher.testkit.sparse import (
    DEFAULT_SHARD_BYTES,
    PrecisionPlan,
    SparseCheckpoint,
    plan_tensors,
    quantization_files,
    shard_name,
    split_shards,
    write_sparse_shard,
)
from publisher.testkit.tiny import ModuleInfo

# Stored dtypes that differ from the checkpoint's BF16 (fnmatch on tensor names): the
# DeepSeek router's score-correction bias is F32.
DTYPE_OVERRIDES: tuple[tuple[str, str], ...] = (("*.e_score_correction_bias", "F32"),)
# Kept unquantized in the native block-FP8 releases: the embedding-sized heads of the MTP
# layer, like lm_head (routers are not Linears there: never quantized).
NATIVE_FP8_KEEP: tuple[str, ...] = ("*lm_head*", "*shared_head.head*")


def published_config(name: str) -> dict[str, Any]:
    """The stored config.json facts of a published model (`deepseek_v3`, `kimi_k2`)."""
    folder = resources.files("publisher.testkit") / "published"
    path = folder / f"{name}.json"
    if not path.is_file():
        known = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))
        raise ValueError(f"no published config {name!r}; known: {known}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("_source", None)
    return data


def transformers_config(data: Mapping[str, Any]) -> Any:
    """A transformers config for config.json `data` (quantization_config left out)."""
    from transformers import AutoConfig

    fields = {
        k: v for k, v in data.items() if k not in ("model_type", "quantization_config", "_source")
    }
    return AutoConfig.for_model(str(data["model_type"]), **fields)


_SAVED: dict[str, list[ModuleInfo]] = {}


def saved_modules(config: Any) -> list[ModuleInfo]:
    """Every module `save_pretrained` writes for a causal LM `config`, with kind and shape
    (remembered per config: building the meta model of a 671B model takes seconds)."""
    key = f"{config.model_type}:{config.to_json_string(use_diff=False)}"
    if key not in _SAVED:
        _SAVED[key] = _saved_modules(config)
    return list(_SAVED[key])


def _saved_modules(config: Any) -> list[ModuleInfo]:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    from publisher.testkit.tiny import _module_kind, _natural_key

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    kinds = {name: _module_kind(module) for name, module in model.named_modules()}
    state = remove_tied_weights_from_state_dict(model.state_dict(), model)
    state = revert_weight_conversion(model, state)
    grouped: dict[str, dict[str, tuple[int, ...]]] = {}
    params: list[ModuleInfo] = []
    for tensor, value in state.items():
        prefix, _, leaf = tensor.rpartition(".")
        if leaf in ("weight", "bias"):
            grouped.setdefault(prefix, {})[leaf] = tuple(value.shape)
        else:
            params.append(ModuleInfo(tensor, "param", tuple(value.shape), False))
    modules = [
        ModuleInfo(name, kinds.get(name, "linear"), leaves["weight"], "bias" in leaves)
        for name, leaves in grouped.items()
    ]
    return sorted(modules + params, key=lambda m: _natural_key(m.name))


def nextn_modules(modules: Sequence[ModuleInfo], config: Mapping[str, Any]) -> list[ModuleInfo]:
    """The MTP layers config.json announces (`num_nextn_predict_layers`), as stored."""
    count = int(config.get("num_nextn_predict_layers") or 0)
    layers = int(config["num_hidden_layers"])
    hidden, vocab = int(config["hidden_size"]), int(config["vocab_size"])
    last = f"model.layers.{layers - 1}."
    extra: list[ModuleInfo] = []
    for k in range(count):
        prefix = f"model.layers.{layers + k}."
        extra += [
            m._replace(name=prefix + m.name[len(last) :])
            for m in modules
            if m.name.startswith(last)
        ]
        extra += [
            ModuleInfo(prefix + "embed_tokens", "embedding", (vocab, hidden), False),
            ModuleInfo(prefix + "enorm", "norm", (hidden,), False),
            ModuleInfo(prefix + "hnorm", "norm", (hidden,), False),
            ModuleInfo(prefix + "eh_proj", "linear", (hidden, 2 * hidden), False),
            ModuleInfo(prefix + "shared_head.norm", "norm", (hidden,), False),
            ModuleInfo(prefix + "shared_head.head", "linear", (vocab, hidden), False),
        ]
    return extra


def _stored_dtype(spec: TensorSpec) -> TensorSpec:
    for pattern, dtype in DTYPE_OVERRIDES:
        if fnmatchcase(spec.name, pattern):
            return spec._replace(dtype=dtype)
    return spec


def write_published_sparse(
    out_dir: str | os.PathLike[str],
    name: str,
    fmt: str = "fp8_block",
    plan: PrecisionPlan | None = None,
    shard_bytes: float = DEFAULT_SHARD_BYTES,
    config_overrides: Mapping[str, Any] | None = None,
    with_mtp: bool = True,
) -> SparseCheckpoint:
    """Write a published model's full-size checkpoint as sparse shards, its index and its
    config.json. Default: the native block-FP8 release (its published quantization_config),
    every decoder Linear quantized, heads and routers kept BF16. Another `fmt` (e.g.
    "modelopt_nvfp4" with plan "modelopt-default") writes that producer's configs instead.
    `with_mtp=False`: the MTP layers config.json announces are not in the files (exports
    through transformers drop them)."""
    data = {**published_config(name), **dict(config_overrides or {})}
    config = transformers_config(data)
    modules = saved_modules(config)
    if with_mtp:
        modules += nextn_modules(modules, data)
    plan = plan or PrecisionPlan("native-fp8", NATIVE_FP8_KEEP, "native block-FP8 release")
    planned = plan_tensors(modules, plan, fmt)
    tensors = [_stored_dtype(spec) for spec in planned.tensors]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups = split_shards(tensors, shard_bytes)
    names = [shard_name(i + 1, len(groups)) for i in range(len(groups))]
    for shard, group in zip(names, groups, strict=True):
        write_sparse_shard(out / shard, group)
    total = sum(tensor_nbytes(s.dtype, s.shape) for s in tensors)
    files = list(names)
    if len(groups) > 1:
        weight_map = {s.name: n for n, g in zip(names, groups, strict=True) for s in g}
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
        files.append("model.safetensors.index.json")
    if fmt != "fp8_block":  # not the native release: the producer's own configs
        qcfg, hfq = quantization_files(fmt, planned)
        data = {k: v for k, v in data.items() if k != "quantization_config"}
        if qcfg is not None:
            data["quantization_config"] = qcfg
        if hfq is not None:
            (out / "hf_quant_config.json").write_text(json.dumps(hfq, indent=4))
            files.append("hf_quant_config.json")
    (out / "config.json").write_text(json.dumps(data, indent=2) + "\n")
    files.append("config.json")
    return SparseCheckpoint(out, names, len(tensors), total, len(planned.quantized), files)


__all__ = [
    "nextn_modules",
    "published_config",
    "saved_modules",
    "transformers_config",
    "write_published_sparse",
]
