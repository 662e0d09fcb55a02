"""Benchmark: validate and audit the full-size Qwen3.5-35B-A3B NVFP4 checkpoint (about 124,000
tensors in 5 sparse shards: real names and shapes, no weights on disk), side by side with
`safetensors.safe_open` listing every tensor and huggingface_hub's
`get_local_safetensors_metadata`. Each contestant is a whole fresh process; peak memory is the
process's own maximum resident set.

Contestants run in turns (A, B, C, D, A, B, ...), one warm-up each, so a busy moment on a shared
machine falls on all of them alike; the table gives medians and each publisher command's ratio
to safetensors' listing. Target (issue 15): ratio <= 1.0 in time, <= 1.5 in peak memory.

    .venv/bin/python bench/bench_validate.py [--repeat 7] [--readme]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bytecode_env, machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "model_specs" / "Qwen3.5-35B-A3B-NVFP4.yaml"
PEAK = "import resource, sys; print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"


WRITE = """
import json
from pathlib import Path
from publisher.testkit.sparse import write_sparse_checkpoint
from publisher.testkit.tiny import qwen35_35b_a3b_config
w = write_sparse_checkpoint(Path({folder!r}), qwen35_35b_a3b_config(), plan="modelopt-default", fmt="modelopt_nvfp4")
Path({folder!r}, "written.json").write_text(json.dumps({{"tensors": w.tensor_count, "shards": len(w.shards), "bytes": w.total_size}}))
"""


LISTING = "safetensors safe_open listing"


@contextmanager
def sparse_35b() -> Iterator[tuple[Path, dict[str, int]]]:
    """The 35B-A3B sparse header set in a temporary folder, and what was written (tensors,
    shards, bytes). Written by a child process: this one stays small (no torch), so the
    processes it starts do not inherit a large resident set in their peak-memory figures."""
    folder = Path(tempfile.mkdtemp(prefix="publisher-bench-35b-"))
    try:
        subprocess.run([sys.executable, "-c", WRITE.format(folder=str(folder))], check=True)
        written = json.loads((folder / "written.json").read_text())
        (folder / "written.json").unlink()
        yield folder, written
    finally:
        shutil.rmtree(folder)


def contestants(folder: Path) -> dict[str, str]:
    # the console script's own way in (publisher.cli.entry), peak memory read at exit
    cli = (
        "import atexit, sys\n"
        f"atexit.register(lambda: exec({PEAK!r}))\n"
        "sys.argv = ['publisher', *{args!r}]\n"
        "from publisher.cli import entry\n"
        "entry()\n"
    )
    return {
        "publisher validate (every check)": cli.format(args=["validate", str(SPEC), str(folder)]),
        "publisher audit": cli.format(args=["audit", str(folder)]),
        LISTING: (
            "import json, sys\nfrom pathlib import Path\nfrom safetensors import safe_open\n"
            f"folder = Path({str(folder)!r})\nn = 0\n"
            "for shard in sorted(folder.glob('*.safetensors')):\n"
            "    with safe_open(str(shard), 'np') as f:\n"
            "        for name in f.keys():\n"
            "            s = f.get_slice(name); s.get_dtype(); s.get_shape(); n += 1\n" + PEAK
        ),
        "huggingface_hub get_local_safetensors_metadata": (
            "import sys\nfrom huggingface_hub import get_local_safetensors_metadata\n"
            f"m = get_local_safetensors_metadata({str(folder)!r})\n"
            "n = sum(len(f.tensors) for f in m.files_metadata.values())\n" + PEAK
        ),
    }


def run_once(code: str) -> tuple[float, int]:
    """Wall seconds and peak resident kilobytes of one fresh process running `code`."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=bytecode_env(), capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"contestant failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed, int(done.stderr.rsplit("PEAK", 1)[1].split()[0])


def run_in_turns(codes: dict[str, str], repeat: int) -> dict[str, tuple[list[float], int]]:
    """Each contestant once to warm the page and bytecode caches, then `repeat` rounds in turns."""
    for code in codes.values():
        run_once(code)
    times: dict[str, list[float]] = {label: [] for label in codes}
    peaks: dict[str, int] = dict.fromkeys(codes, 0)
    for _ in range(repeat):
        for label, code in codes.items():
            elapsed, peak = run_once(code)
            times[label].append(elapsed)
            peaks[label] = max(peaks[label], peak)
    return {label: (times[label], peaks[label]) for label in codes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    with sparse_35b() as (folder, written):
        results = run_in_turns(contestants(folder), args.repeat)
    base_times, base_peak = results[LISTING]
    base = statistics.median(base_times)
    rows = []
    for label, (times, peak) in results.items():
        median = statistics.median(times)
        rows.append(
            f"| {label} | {median:.2f} s | {min(times):.2f} s | {peak / 1024:.0f} MB"
            f" | {median / base:.2f}x | {peak / base_peak:.2f}x |"
        )
    table = (
        "| Process | Wall, median | Wall, best | Peak memory | Time vs listing | Memory vs listing |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    body = (
        f"`bench/bench_validate.py`: the Qwen3.5-35B-A3B NVFP4 layout that ModelOpt's default recipe "
        f"writes ({written['tensors']:,} tensors, {written['shards']} shards, "
        f"{written['bytes'] / 1e9:.1f} GB apparent, sparse: no weights on disk), each contestant a "
        f"fresh process, {args.repeat} timed rounds in turns after a warm-up each. `publisher validate` checks every "
        "tensor's dtype and shape against `model_specs/Qwen3.5-35B-A3B-NVFP4.yaml`, the index, the "
        "quantization config and config.json; the other two only list names, dtypes and shapes.\n\n"
        f"{table}\n\nTarget (issue 15): validate and audit at most 1.0x the listing's time and "
        f"1.5x its peak memory. Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Validating a 124,000-tensor checkpoint", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
