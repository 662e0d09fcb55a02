"""Benchmark: re-push an unchanged 4 GiB checkpoint, publisher push vs `hf upload`.

Writes a checkpoint of real (random-looking, not sparse) data under /tmp: 4 safetensors
shards of 1 GiB, an index and config.json. A LocalHub (in this process) receives it twice:
once through `publisher.hub.push.push` (the card from tests/specs/minimal.yaml plus the
folder, unvalidated: the data is random) and once through the `hf upload` CLI. Then each
tool's re-run of the same, unchanged upload is timed as a whole process, `--repeat` times,
round-robin. Reported per tool: wall time, bytes read by the process (/proc/self/io rchar,
which counts page-cache reads too), bytes publisher hashed, and LFS bytes PUT to the Hub.

    .venv/bin/python bench/bench_push.py            # prints a table
    .venv/bin/python bench/bench_push.py --readme   # and writes it into bench/README.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import machine_line, write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "Push: re-push of an unchanged checkpoint"
SPEC = ROOT / "tests" / "specs" / "minimal.yaml"
SHARDS = 4
SHARD_BYTES = 1024**3
BLOCK = 64 * 1024 * 1024
OURS, THEIRS = "bench/push-publisher", "bench/push-hf-upload"

# Each child prints its /proc/self/io rchar on exit, so both tools are measured alike.
RCHAR = (
    "import atexit, sys\n"
    "def _rchar():\n"
    "    for line in open('/proc/self/io'):\n"
    "        if line.startswith('rchar'):\n"
    "            sys.stderr.write('RCHAR ' + line.split()[1] + '\\n')\n"
    "atexit.register(_rchar)\n"
)
PUSH_CHILD = RCHAR + (
    "import json\n"
    "from pathlib import Path\n"
    "from publisher.hub.push import push\n"
    "r = push(Path(sys.argv[1]), extra_files=Path(sys.argv[2]), repo_id=sys.argv[3])\n"
    "print(json.dumps({'status': r.status, 'hashed': r.hash_stats.hashed_bytes,"
    " 'uploaded': r.uploaded_bytes}))\n"
)
HF_CHILD = RCHAR + (
    "from huggingface_hub.cli.hf import main\n"
    "sys.argv = ['hf', 'upload', sys.argv[1], sys.argv[2], '.']\n"
    "code = main()\n"
    "sys.exit(code)\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_disk(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed * 1.2:
        sys.exit(
            f"bench_push: needs {needed / 2**30:.1f} GiB free in {folder}, has {free / 2**30:.1f}"
        )


def write_checkpoint(folder: Path) -> None:
    """SHARDS valid safetensors files of SHARD_BYTES each, made of real, varied bytes."""
    block = bytearray(os.urandom(BLOCK))
    weight_map = {}
    for i in range(SHARDS):
        name = f"model-{i + 1:05d}-of-{SHARDS:05d}.safetensors"
        payload = SHARD_BYTES - 128  # leaves room for the 8-byte length and the header
        entry = {"dtype": "U8", "shape": [payload], "data_offsets": [0, payload]}
        header = json.dumps({f"w{i}": entry}).encode()
        header += b" " * (-len(header) % 8)
        with (folder / name).open("wb") as out:
            out.write(struct.pack("<Q", len(header)) + header)
            left, n = payload, 0
            while left > 0:
                block[:16] = struct.pack("<QQ", i, n)  # every block differs
                chunk = memoryview(block)[: min(BLOCK, left)]
                out.write(chunk)
                left -= len(chunk)
                n += 1
        weight_map[f"w{i}"] = name
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "bench"}))


def _run(code: str, args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    lines = proc.stderr.splitlines()
    rchar = next(int(line.split()[1]) for line in lines if line.startswith("RCHAR "))
    return seconds, rchar, proc.stdout


def _lfs_put_bytes(hub: object) -> int:
    storage = hub.storage  # type: ignore[attr-defined]
    oids = [r.path.rsplit("/", 1)[-1] for r in hub.requests if r.method == "PUT"]  # type: ignore[attr-defined]
    return sum(storage.object_size(oid) for oid in oids if storage.has_object(oid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--readme", action="store_true", help="write the table into bench/README.md"
    )
    args = parser.parse_args()
    base = Path(tempfile.gettempdir())
    check_disk(base, 2 * SHARDS * SHARD_BYTES)  # the checkpoint and the Hub's copy
    work = Path(tempfile.mkdtemp(prefix="publisher-bench-push-", dir=base))
    try:
        body = run_bench(work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(body)
    if args.readme:
        write_section(SECTION, body)


def run_bench(work: Path, repeat: int) -> str:
    from publisher.localhub.server import DEMO_TOKEN, LocalHub

    folder = work / "ckpt"
    folder.mkdir()
    started = time.perf_counter()
    write_checkpoint(folder)
    print(f"wrote {SHARDS * SHARD_BYTES / 2**30:.0f} GiB in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)  # fmt: skip
    with LocalHub(work / "hub", port=_free_port()) as hub:
        env = {
            **os.environ, **hub.client_env(), "HF_TOKEN": DEMO_TOKEN, "HF_HOME": str(work / "hf"),
            "PUBLISHER_CACHE_DIR": str(work / "cache"), "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }  # fmt: skip
        env.pop("CI", None)
        # Cache bytecode as an installed package has it (this machine may set
        # PYTHONDONTWRITEBYTECODE), in the work dir; the first uploads warm it for both tools.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        ours = [str(SPEC), str(folder), OURS]
        theirs = [THEIRS, str(folder)]
        first = {"ours": _run(PUSH_CHILD, ours, env)[0], "theirs": _run(HF_CHILD, theirs, env)[0]}
        print(f"first uploads: {first}", file=sys.stderr)
        runs: dict[str, list[tuple[float, int, dict[str, int], int]]] = {"ours": [], "theirs": []}
        for _ in range(repeat):
            for key, code, argv in (("ours", PUSH_CHILD, ours), ("theirs", HF_CHILD, theirs)):
                hub.requests.clear()
                seconds, rchar, out = _run(code, argv, env)
                stats = json.loads(out.strip().splitlines()[-1]) if key == "ours" else {}
                runs[key].append((seconds, rchar, stats, _lfs_put_bytes(hub)))
    return _table(runs, first, repeat)


def _table(
    runs: dict[str, list[tuple[float, int, dict[str, int], int]]],
    first: dict[str, float],
    repeat: int,
) -> str:
    gib = SHARDS * SHARD_BYTES / 2**30
    ours_wall = statistics.median(r[0] for r in runs["ours"])
    theirs_wall = statistics.median(r[0] for r in runs["theirs"])
    hashed = max(r[2].get("hashed", 0) for r in runs["ours"])
    statuses = {r[2].get("status") for r in runs["ours"]}

    def row(key: str, label: str, hashed_text: str) -> str:
        wall = statistics.median(r[0] for r in runs[key])
        best = min(r[0] for r in runs[key])
        rchar = statistics.median(r[1] for r in runs[key]) / 2**20
        sent = max(r[3] for r in runs[key])
        return f"| {label} | {wall:.2f} | {best:.2f} | {rchar:,.0f} | {hashed_text} | {sent:,} | {first[key]:.1f} |"

    return "\n".join(
        [
            f"`bench/bench_push.py`: a {gib:.0f} GiB checkpoint of real (random, not sparse) data in "
            f"{SHARDS} safetensors shards, plus index and config.json, pushed to a local Hub once by "
            "each tool; then the re-run of the same, unchanged upload is timed as a whole process, "
            f"{repeat} times each, round-robin. The files are in the page cache, so reading them is "
            "cheap and the difference is hashing. publisher runs `push(spec, extra_files=folder)` "
            "in a fresh interpreter, as the CLI would (`publisher push SPEC CKPT` also validates the "
            "checkpoint against the spec, which random data cannot pass). Both run with bytecode "
            "cached, as installed packages are (a temporary PYTHONPYCACHEPREFIX, warmed by the "
            "first uploads).",
            "",
            "| Re-run of an unchanged upload | Median wall (s) | Best wall (s) | Bytes read by the process (MiB) | Bytes re-hashed | LFS bytes sent | First upload (s) |",
            "|---|---:|---:|---:|---:|---:|---:|",
            row("ours", "`publisher push` (library `push()`: card + folder)", f"{hashed:,}"),
            row("theirs", "`hf upload REPO FOLDER .`", f"all {gib:.0f} GiB (sha256 of every file)"),
            "",
            f"publisher is {theirs_wall / ours_wall:.1f}x faster on the re-run ({ours_wall:.2f} s vs "
            f"{theirs_wall:.2f} s); publisher's result: {', '.join(sorted(map(str, statuses)))}, no "
            "commit. publisher looks each file up in its hash cache by (path, size, mtime_ns, "
            "inode), so nothing unchanged is read, and compares the digests with the remote tree "
            "(one request for the head and every file's sha256 / blob id); `hf upload` hashes every "
            "file before asking the Hub what to send. Both first uploads are shown for scale: the "
            "second one (`hf upload`) finds every object already stored (the local Hub shares LFS "
            "objects across repositories), so it hashes but sends nothing.",
            "",
            f"Machine: {machine_line()}.",
        ]
    )


if __name__ == "__main__":
    main()
