"""Write variants of a real checkpoint: same configs, a tensor list edited by a test.

Each variant is written afresh (header + a sparse hole for the data), never copied.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from publisher.checkpoint.formats import TensorSpec, expected_tensors, logical_weight_shape
from publisher.checkpoint.reader import read_checkpoint
from publisher.testkit.producer_configs import modelopt_mixed_hf_quant_config
from publisher.testkit.sparse import write_sparse_shard

Edit = Callable[[dict[str, TensorSpec]], None]
ConfigEdit = Callable[[dict[str, dict[str, Any]]], None]


def write_variant(
    source: Path, target: Path, edit: Edit | None = None, edit_configs: ConfigEdit | None = None
) -> Path:
    inventory, _ = read_checkpoint(source)
    tensors = {
        name: TensorSpec(name, t.dtype, tuple(t.shape)) for name, t in inventory.tensors.items()
    }
    if edit:
        edit(tensors)
    configs = json.loads(json.dumps(inventory.configs))
    if edit_configs:
        edit_configs(configs)
    target.mkdir(parents=True, exist_ok=True)
    write_sparse_shard(target / "model.safetensors", tensors.values())
    for name, data in configs.items():
        (target / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
    return target


def modelopt_converter() -> ModuleType:
    """modelopt 0.47's own hf_quant_config → config.json converter, loaded without torch."""
    modelopt = pytest.importorskip("modelopt")
    path = Path(modelopt.__file__).parent / "torch" / "export" / "convert_hf_config.py"
    spec = importlib.util.spec_from_file_location("_modelopt_convert_hf_config", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Table = dict[str, dict[str, Any]]
FULL_ATTENTION = (
    ".self_attn.q_proj",
    ".self_attn.k_proj",
    ".self_attn.v_proj",
    ".self_attn.o_proj",
)


def nvfp4_modules(tensors: dict[str, TensorSpec]) -> list[str]:
    """Modules stored as ModelOpt NVFP4 (a packed U8 weight beside its weight_scale_2)."""
    return sorted(
        name.removesuffix(".weight_scale_2")
        for name in tensors
        if name.endswith(".weight_scale_2") and tensors[name[: -len("_scale_2")]].dtype == "U8"
    )


def to_fp8(tensors: dict[str, TensorSpec], module: str) -> None:
    """Re-store one ModelOpt NVFP4 Linear as ModelOpt FP8 (per-tensor scales), in place."""
    packed = tensors[f"{module}.weight"].shape
    for suffix in ("weight", "weight_scale", "weight_scale_2", "input_scale"):
        del tensors[f"{module}.{suffix}"]
    shape = logical_weight_shape("modelopt_nvfp4", packed)
    for spec in expected_tensors(module, "linear", shape, False, "fp8"):
        tensors[spec.name] = spec


def write_mixed_variant(
    source: Path,
    target: Path,
    edit_table: Callable[[Table], None] | None = None,
    fp8_suffixes: tuple[str, ...] = FULL_ATTENTION,
    edit: Edit | None = None,
) -> Path:
    """The NVFP4 export re-stored as ModelOpt MIXED_PRECISION: modules ending in `fp8_suffixes`
    in FP8, the rest NVFP4, every one listed in `quantized_layers` (then `edit_table` runs) in
    hf_quant_config.json and, through ModelOpt's own converter, config.json. `edit` then
    changes the tensors."""
    inventory, _ = read_checkpoint(source)
    tensors = {n: TensorSpec(n, t.dtype, tuple(t.shape)) for n, t in inventory.tensors.items()}
    formats = {
        m: "fp8" if m.endswith(fp8_suffixes) else "modelopt_nvfp4" for m in nvfp4_modules(tensors)
    }
    hf_quant = modelopt_mixed_hf_quant_config(formats)
    if edit_table:
        edit_table(hf_quant["quantization"]["quantized_layers"])
    qc = modelopt_converter().convert_hf_quant_config_format(copy.deepcopy(hf_quant))

    def restore(found: dict[str, TensorSpec]) -> None:
        for module in (m for m, fmt in formats.items() if fmt == "fp8"):
            to_fp8(found, module)
        if edit:
            edit(found)

    def reconfigure(configs: dict[str, dict[str, Any]]) -> None:
        configs["hf_quant_config.json"] = hf_quant
        configs["config.json"]["quantization_config"] = qc

    return write_variant(source, target, restore, reconfigure)


REPO_ROOT = Path(__file__).resolve().parent.parent


def copy_export(source: Path, target: Path) -> Path:
    """A real (small) export copied to a folder a test may change."""
    import shutil

    shutil.copytree(source, target)
    (target / ".complete").unlink(missing_ok=True)  # the synth cache's marker, not the export's
    return target


def project_with_templates(root: Path) -> Path:
    """The repository's templates copied beside a model_specs/ and a cards/ folder (templates are
    found from the spec); returns the path for the spec."""
    for source in (REPO_ROOT / "templates").rglob("*.j2"):
        dest = root / "templates" / source.relative_to(REPO_ROOT / "templates")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "model_specs").mkdir()
    (root / "cards").mkdir()
    return root / "model_specs" / "spec.yaml"


def with_tester_repo(spec: Path, target: Path) -> Path:
    """`spec` with its repo id moved under `tester/` (written afresh at `target`)."""
    text = spec.read_text(encoding="utf-8").replace("your-org/Tiny-NVFP4", "tester/Tiny-NVFP4")
    target.write_text(text, encoding="utf-8")
    return target
