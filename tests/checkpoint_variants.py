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
