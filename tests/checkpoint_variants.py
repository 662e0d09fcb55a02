"""Write variants of a real checkpoint: same configs, a tensor list edited by a test.

Each variant is written afresh (header + a sparse hole for the data), never copied.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from publisher.checkpoint.formats import TensorSpec
from publisher.checkpoint.reader import read_checkpoint
from publisher.synth.sparse import write_sparse_shard

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
