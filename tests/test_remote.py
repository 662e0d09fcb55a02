"""Reading a checkpoint on the (local) Hub from its headers: range requests, no weights."""

from __future__ import annotations

import json
import re
import struct
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from safetensors.numpy import save_file

from publisher.checkpoint.integrity import check_checkpoint, check_inventory
from publisher.checkpoint.reader import read_checkpoint
from publisher.errors import EXIT_HUB, HubError
from publisher.hub.remote import FIRST_RANGE, read_remote_checkpoint
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from tests import hub_fixtures

if TYPE_CHECKING:
    from huggingface_hub import HfApi

local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api

SHARDS = [f"model-{i:05d}-of-00004.safetensors" for i in range(1, 5)]
BIG = SHARDS[2]  # its header is longer than the default first range
LONG_METADATA = SHARDS[3]  # its header is longer than its 3 tensors let the index predict


@pytest.fixture
def hub_repo_id(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50].strip("-")
    return f"tester/{name}-{uuid.uuid4().hex[:8]}"


def _tensors(shard: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(shard)
    if SHARDS[shard] == BIG:  # ~3,000 entries: a header of well over 64 KiB
        return {
            f"model.layers.{i}.mlp.experts.{j}.down_proj.weight_scale": np.zeros(2, np.float32)
            for i in range(60)
            for j in range(50)
        }
    return {
        f"model.layers.{shard}.self_attn.q_proj.weight": rng.random((16, 8)).astype(np.float16),
        f"model.layers.{shard}.mlp.gate_proj.weight": rng.integers(0, 255, (512, 512), np.uint8),
        f"model.layers.{shard}.input_layernorm.weight": rng.random(8).astype(np.float32),
    }


@pytest.fixture
def sharded(tmp_path: Path) -> Path:
    """A 4-shard checkpoint with index, config.json and hf_quant_config.json."""
    folder = tmp_path / "ckpt"
    folder.mkdir()
    weight_map: dict[str, str] = {}
    total = 0
    for i, name in enumerate(SHARDS):
        tensors = _tensors(i)
        metadata = {"format": "pt"}
        if name == LONG_METADATA:
            metadata["notes"] = "x" * 70_000
        save_file(tensors, str(folder / name), metadata=metadata)
        weight_map.update(dict.fromkeys(tensors, name))
        total += sum(t.nbytes for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen3_5", "hidden_size": 8}))
    (folder / "hf_quant_config.json").write_text(json.dumps({"quantization": {"quant_algo": None}}))
    return folder


def _upload(api: HfApi, repo_id: str, folder: Path) -> str:
    api.create_repo(repo_id)
    return api.upload_folder(repo_id=repo_id, folder_path=folder).oid


def _shard_gets(hub: LocalHub, repo_id: str) -> dict[str, list[str | None]]:
    gets: dict[str, list[str | None]] = {}
    for request in hub.requests:
        if request.method == "GET" and request.path.endswith(".safetensors"):
            gets.setdefault(request.path.rsplit("/", 1)[-1], []).append(request.range)
    return gets


def _repo_requests(hub: LocalHub, repo_id: str) -> list[str]:
    return [r.path for r in hub.requests if repo_id in r.path]


def test_the_remote_inventory_equals_the_local_one(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, sharded: Path
) -> None:
    commit = _upload(hub_api, hub_repo_id, sharded)

    remote, stats = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)
    local, local_findings = read_checkpoint(sharded)

    assert remote.tensors == local.tensors  # names, dtypes, shapes, shards, byte ranges
    assert list(remote.shards) == list(local.shards) == SHARDS
    for name in SHARDS:
        theirs, ours = remote.shards[name], local.shards[name]
        assert (theirs.file_size, theirs.header_length) == (ours.file_size, ours.header_length)
        assert theirs.metadata == ours.metadata
        assert ours.metadata is not None and ours.metadata["format"] == "pt"
    assert remote.configs == local.configs and set(remote.configs) == {
        "config.json",
        "hf_quant_config.json",
    }
    assert remote.index is not None and local.index is not None
    assert remote.index.weight_map == local.index.weight_map
    assert remote.index.total_size == local.index.total_size
    assert stats.commit == commit and stats.findings == local_findings == []
    assert check_inventory(remote) == [] and check_inventory(local) == []


def test_each_shard_header_costs_one_range_request_sized_from_the_index(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, sharded: Path
) -> None:
    """A shard of 3,000 tensors (a header of ~240 KiB) is read in one request: the index says
    how many tensors it holds. Only a header longer than that predicts (70 KB of metadata)
    takes a second request for the rest."""
    _upload(hub_api, hub_repo_id, sharded)
    hub.requests.clear()

    _, stats = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)

    gets = _shard_gets(hub, hub_repo_id)
    assert {name: len(ranges) for name, ranges in gets.items()} == {
        SHARDS[0]: 1,
        SHARDS[1]: 1,
        BIG: 1,
        LONG_METADATA: 2,
    }
    assert all(r is not None for ranges in gets.values() for r in ranges)  # no whole shard
    assert gets[SHARDS[0]][0] == f"bytes=0-{FIRST_RANGE - 1}"  # a small header: the least
    big_header = struct.unpack("<Q", (sharded / BIG).read_bytes()[:8])[0]
    big_range = int(gets[BIG][0].rpartition("-")[2]) + 1
    assert 8 + big_header <= big_range < 2 * (8 + big_header)  # enough, and not wasteful
    assert gets[LONG_METADATA][0] == f"bytes=0-{FIRST_RANGE - 1}"
    assert stats.shard_requests == {name: len(gets[name]) for name in SHARDS}
    assert stats.max_requests_per_shard == 2
    # listing + index + 2 configs + 5 shard ranges, nothing else
    assert stats.requests == len(_repo_requests(hub, hub_repo_id)) == 9
    weights = sum((sharded / name).stat().st_size for name in SHARDS)
    assert stats.bytes_read < weights


def test_a_single_file_checkpoint_needs_one_range_request(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, tmp_path: Path
) -> None:
    folder = tmp_path / "single"
    folder.mkdir()
    save_file({"w": np.ones((256, 256), np.float32)}, str(folder / "model.safetensors"))
    _upload(hub_api, hub_repo_id, folder)
    hub.requests.clear()

    inventory, stats = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)

    assert list(inventory.tensors) == ["w"] and inventory.tensors["w"].shape == (256, 256)
    assert _shard_gets(hub, hub_repo_id) == {"model.safetensors": [f"bytes=0-{FIRST_RANGE - 1}"]}
    assert stats.requests == 2  # the listing and one range


def test_broken_files_give_the_same_findings_as_on_disk(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, sharded: Path
) -> None:
    broken = sharded / SHARDS[1]
    data = bytearray(broken.read_bytes())
    data[:8] = struct.pack("<Q", 10**12)  # a header length beyond the file
    broken.write_bytes(bytes(data))
    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    index["weight_map"]["ghost.weight"] = "model-missing.safetensors"
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    (sharded / "config.json").write_text("{not json")
    _upload(hub_api, hub_repo_id, sharded)

    remote, stats = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)
    _, local_findings = check_checkpoint(sharded)

    remote_findings = check_inventory(remote)  # includes those met while reading
    assert sorted(stats.findings, key=str) == sorted(remote.all_read_findings(), key=str)
    assert sorted(f.code for f in remote_findings) == sorted(f.code for f in local_findings)
    assert {"CKPT032", "CKPT040"} <= {f.code for f in remote_findings}
    assert not remote.shards[SHARDS[1]].readable


def test_a_shard_the_hub_will_not_serve_is_a_finding(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, sharded: Path
) -> None:
    _upload(hub_api, hub_repo_id, sharded)
    hub.faults.add(method="GET", path_regex=re.escape(SHARDS[3]), status=404)

    inventory, stats = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)

    assert [f.code for f in stats.findings] == ["CKPT039"]
    assert "HTTP 404" in stats.findings[0].message
    assert not inventory.shards[SHARDS[3]].readable and inventory.shards[SHARDS[0]].readable


def test_a_revision_is_read_as_it_was(hub_api: HfApi, hub_repo_id: str, tmp_path: Path) -> None:
    folder = tmp_path / "single"
    folder.mkdir()
    save_file({"old": np.zeros(4, np.float32)}, str(folder / "model.safetensors"))
    first = _upload(hub_api, hub_repo_id, folder)
    hub_api.create_tag(hub_repo_id, tag="v1")
    save_file({"new": np.zeros(4, np.float32)}, str(folder / "model.safetensors"))
    hub_api.upload_folder(repo_id=hub_repo_id, folder_path=folder)

    then, stats = read_remote_checkpoint(hub_repo_id, "v1", token=DEMO_TOKEN)
    now, _ = read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)

    assert list(then.tensors) == ["old"] and stats.commit == first
    assert list(now.tensors) == ["new"]
    assert then.root == f"hf://{hub_repo_id}@v1"


def test_a_missing_repo_or_a_refused_token_is_a_hub_error(hub: LocalHub, hub_repo_id: str) -> None:
    with pytest.raises(HubError, match="not found") as raised:
        read_remote_checkpoint(hub_repo_id, token=DEMO_TOKEN)
    assert raised.value.exit_code == EXIT_HUB

    with pytest.raises(HubError, match="HTTP 401") as raised:
        read_remote_checkpoint(hub_repo_id, token="hf_not_a_valid_token_99")
    assert "hf_not_a_valid_token_99" not in str(raised.value)
