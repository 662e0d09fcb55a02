"""Benchmark: read a 160-shard checkpoint's headers from a Hub with 50 ms latency per request.

A LocalHub (in this process) serves a 160-shard checkpoint (index, config.json, 600 tensors
per shard, so headers of ~80 KiB, longer than a default 64 KiB first range; DeepSeek-V3 ships
163 shards of ~560 tensors), answering each request after `hub.latency` seconds. Contestants,
run round-robin `--repeat` times each in this process (imports done once, beforehand):

  publisher   publisher.hub.remote.read_remote_checkpoint + integrity.check_inventory
  hf_hub      HfApi.get_safetensors_metadata (already reads shards in parallel)

Requests are counted from the local Hub's request log. huggingface_hub's file cache is
emptied before each of its runs, so both start cold (it downloads the index through it).

    .venv/bin/python bench/bench_remote_audit.py            # prints a table
    .venv/bin/python bench/bench_remote_audit.py --readme   # and writes it into bench/README.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import machine_line, write_section

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECTION = "Remote checkpoint audit"
SHARDS = 160
TENSORS_PER_SHARD = 600
DATA_PER_SHARD = TENSORS_PER_SHARD * 256
LATENCY = 0.05
REPO = "bench/remote-audit"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_shard(path: Path, index: int) -> dict[str, str]:
    """A valid safetensors file: TENSORS_PER_SHARD BF16 tensors filling DATA_PER_SHARD."""
    each = DATA_PER_SHARD // TENSORS_PER_SHARD // 2 * 2
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    names = []
    for t in range(TENSORS_PER_SHARD):
        name = f"model.layers.{index}.mlp.experts.{t}.down_proj.weight"
        header[name] = {
            "dtype": "BF16",
            "shape": [each // 2],
            "data_offsets": [t * each, (t + 1) * each],
        }
        names.append(name)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(raw)) + raw)
        out.write(os.urandom(each * TENSORS_PER_SHARD))
    return dict.fromkeys(names, path.name)


def build_checkpoint(folder: Path) -> None:
    weight_map: dict[str, str] = {}
    for i in range(SHARDS):
        weight_map.update(
            _write_shard(folder / f"model-{i + 1:05d}-of-{SHARDS:05d}.safetensors", i)
        )
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text(json.dumps({"model_type": "bench"}))


def _count(hub: object, run: Callable[[], object]) -> tuple[float, int, int]:
    """Wall seconds, requests to the repo, and the most requests any one shard took."""
    hub.requests.clear()  # type: ignore[attr-defined]
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    paths = [r.path for r in hub.requests if REPO in r.path]  # type: ignore[attr-defined]
    shards = [p for p in paths if p.endswith(".safetensors") and "/resolve/" in p]
    per_shard = max((shards.count(p) for p in set(shards)), default=0)
    return seconds, len(paths), per_shard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--readme", action="store_true", help="write the table into bench/README.md"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="publisher-bench-remote-"))
    try:
        body = run_bench(work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(body)
    if args.readme:
        write_section(SECTION, body)


def run_bench(work: Path, repeat: int) -> str:
    port = _free_port()
    os.environ.update(
        HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HUB_DISABLE_XET="1", HF_HOME=str(work / "hf-home"),
        HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1",
    )  # fmt: skip
    from huggingface_hub import HfApi, constants

    from publisher.checkpoint.integrity import check_inventory
    from publisher.hub.remote import read_remote_checkpoint
    from publisher.localhub.server import DEMO_TOKEN, LocalHub

    folder = work / "ckpt"
    folder.mkdir()
    build_checkpoint(folder)
    with LocalHub(work / "hub", port=port) as hub:
        api = HfApi(endpoint=hub.endpoint, token=DEMO_TOKEN)
        api.create_repo(REPO)
        api.upload_folder(repo_id=REPO, folder_path=folder)

        def ours() -> None:
            inventory, stats = read_remote_checkpoint(REPO, token=DEMO_TOKEN)
            findings = check_inventory(inventory)
            assert len(inventory.tensors) == SHARDS * TENSORS_PER_SHARD, findings
            assert stats.max_requests_per_shard == 1 and stats.requests == SHARDS + 3

        def theirs() -> None:
            shutil.rmtree(constants.HF_HUB_CACHE, ignore_errors=True)
            meta = api.get_safetensors_metadata(REPO)
            assert len(meta.weight_map) == SHARDS * TENSORS_PER_SHARD

        ours(), theirs()  # warm-up: connections, agent registry
        hub.latency = LATENCY
        results: dict[str, list[tuple[float, int, int]]] = {"ours": [], "theirs": []}
        for _ in range(repeat):
            results["ours"].append(_count(hub, ours))
            results["theirs"].append(_count(hub, theirs))
    return _table(results, repeat, folder)


def _table(results: dict[str, list[tuple[float, int, int]]], repeat: int, folder: Path) -> str:
    header_kib = (
        sum(struct.unpack("<Q", p.read_bytes()[:8])[0] for p in folder.glob("*.safetensors"))
        / SHARDS
        / 1024
    )
    rows = []
    labels = {
        "ours": "publisher `read_remote_checkpoint` + `check_inventory`",
        "theirs": "huggingface_hub `get_safetensors_metadata`",
    }
    for key, label in labels.items():
        walls = [r[0] for r in results[key]]
        requests, per_shard = results[key][0][1], max(r[2] for r in results[key])
        rows.append(
            f"| {label} | {statistics.median(walls):.3f} | {min(walls):.3f} | {requests} | {per_shard} |"
        )
    ratio = statistics.median(r[0] for r in results["ours"]) / statistics.median(
        r[0] for r in results["theirs"]
    )
    return "\n".join(
        [
            f"`bench/bench_remote_audit.py`: a {SHARDS}-shard checkpoint ({TENSORS_PER_SHARD} tensors "
            f"and {DATA_PER_SHARD // 2**10} KiB per shard, headers of {header_kib:.0f} KiB) on the local "
            f"Hub, every request answered after {LATENCY * 1000:.0f} ms. Each contestant runs {repeat} "
            "times, round-robin, in one process; huggingface_hub's file cache is emptied before each "
            "of its runs. Requests are counted in the Hub's request log.",
            "",
            "| Contestant | Median wall (s) | Best wall (s) | Requests | Max requests per shard |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"publisher / huggingface_hub median wall: {ratio:.2f}x (below 1 is faster). publisher's "
            f"{results['ours'][0][1]} requests: one range per shard, the file listing (sizes, and "
            "the stray-file check), the index and config.json. Before issue 15 the first range was "
            "a fixed 64 KiB + 8, and headers over 64 KiB took two requests per shard. publisher "
            "lists the revision's files with their sizes in one request, fetches the index and the "
            "configs in parallel, then each shard header with one range request sized from the "
            "index (the shard's tensor count x the names' average length + 112 bytes, at least "
            "64 KiB + 8; a second only for a longer header), 8 shards at a time; "
            "huggingface_hub checks that "
            "two files exist (HEAD each), downloads the index through its cache (HEAD + GET), "
            "then reads every shard's first 100 kB in parallel.",
            "",
            f"Machine: {machine_line()}.",
        ]
    )


if __name__ == "__main__":
    main()
