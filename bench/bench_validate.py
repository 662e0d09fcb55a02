"""Benchmark: validate and audit the full-size Qwen3.5-35B-A3B NVFP4 checkpoint (about 124,000
tensors in 5 sparse shards: real names and shapes, no weights on disk), side by side with
`safetensors.safe_open` listing every tensor and huggingface_hub's
`get_local_safetensors_metadata`. Each contestant is a whole fresh process; peak memory is the
process's own maximum resident set.

Target (issue 4): `publisher validate` of the MoE under 1.5 s wall as a whole process, and no
slower than safetensors' own listing.

    .venv/bin/python bench/bench_validate.py [--repeat 5] [--readme]
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
        "safetensors safe_open listing": (
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


def run(code: str, repeat: int) -> tuple[list[float], int]:
    times, peak = [], 0
    for _ in range(repeat + 1):  # the first run warms the page cache and is not counted
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=bytecode_env(),
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if done.returncode not in (0,):
            raise SystemExit(
                f"contestant failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        peak = max(peak, int(done.stderr.rsplit("PEAK", 1)[1].split()[0]))
        times.append(elapsed)
    return times[1:], peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="publisher-bench-35b-"))
    try:
        # Written by a child process: this one stays small (no torch), so the contestants it
        # starts do not inherit a large resident set in their peak-memory figures.
        subprocess.run([sys.executable, "-c", WRITE.format(folder=str(folder))], check=True)
        written = json.loads((folder / "written.json").read_text())
        (folder / "written.json").unlink()
        rows = []
        for label, code in contestants(folder).items():
            times, peak_kb = run(code, args.repeat)
            rows.append((label, statistics.median(times), min(times), peak_kb / 1024))
    finally:
        shutil.rmtree(folder)
    table = (
        "| Process | Wall, median | Wall, best | Peak memory |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {label} | {median:.2f} s | {best:.2f} s | {peak:.0f} MB |"
            for label, median, best, peak in rows
        )
    )
    body = (
        f"`bench/bench_validate.py`: the Qwen3.5-35B-A3B NVFP4 layout that ModelOpt's default recipe "
        f"writes ({written['tensors']:,} tensors, {written['shards']} shards, "
        f"{written['bytes'] / 1e9:.1f} GB apparent, sparse: no weights on disk), each contestant a "
        f"fresh process, {args.repeat} timed runs after a warm-up. `publisher validate` checks every "
        "tensor's dtype and shape against `model_specs/Qwen3.5-35B-A3B-NVFP4.yaml`, the index, the "
        "quantization config and config.json; the other two only list names, dtypes and shapes.\n\n"
        f"{table}\n\nTarget: validate under 1.5 s wall. Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Validating a 124,000-tensor checkpoint", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
