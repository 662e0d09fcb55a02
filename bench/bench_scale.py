"""Benchmark: validate and audit as the tensor count grows, beside safetensors' own listing.

Sparse header sets (ModelOpt NVFP4 default recipe, real names and shapes, no weights on disk),
from about 10,000 to 370,000 tensors:

    ~10k   Qwen3.5-MoE layout, 40 layers x  16 experts
    ~30k   Qwen3.5-MoE layout, 40 layers x  64 experts
    124k   Qwen3.5-MoE layout, 40 layers x 256 experts   (Qwen3.5-35B-A3B itself)
    279k   Kimi-K2 (DeepSeek-V3 architecture: 61 layers, 384 experts, MLA), 117 shards, from
           its public config.json, validated against model_specs/Kimi-K2-Instruct-NVFP4.yaml
    371k   Qwen3.5-MoE layout, 60 layers x 512 experts   (the layout scaled up)

Each Qwen-layout checkpoint gets its spec from `publisher init` (so validate compares every
tensor with a spec that promises exactly this layout). Contestants are whole fresh processes, run in turns
(A, B, C, A, B, C, ...) after one warm-up each, so a busy moment on a shared machine falls on
all of them alike:

    publisher validate SPEC DIR     every check: headers, index, byte ranges, spec, configs
    publisher audit DIR             the same reading, then every module classified
    safetensors listing             `safe_open` + `get_slice` dtype and shape of every tensor

Wall and CPU time (user + system of the child, from wait4) and the child's peak resident set
are measured; CPU time is the figure least disturbed by other load on the machine.

    .venv/bin/python bench/bench_scale.py [--repeat 7] [--sizes 10k,30k,124k,370k] [--readme]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bytecode_env, machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench-scale"
SECTION = "Validation as the checkpoint grows"
SIZES = {"10k": (40, 16), "30k": (40, 64), "124k": (40, 256), "kimi-k2": (0, 0), "370k": (60, 512)}
KIMI_SPEC = ROOT / "model_specs" / "Kimi-K2-Instruct-NVFP4.yaml"
WRITE_KIMI = """
import json, sys
from pathlib import Path
from publisher.testkit.full_size import write_published_sparse
from publisher.testkit.sparse import plan_by_name
folder = Path(sys.argv[1])
w = write_published_sparse(
    folder / "ckpt", "kimi_k2", "modelopt_nvfp4", plan_by_name("modelopt-default"), with_mtp=False
)
(folder / "written.json").write_text(json.dumps({"tensors": w.tensor_count, "shards": len(w.shards)}))
"""

WRITE = """
import json, sys
from pathlib import Path
from publisher.testkit.sparse import write_sparse_checkpoint
from publisher.testkit.tiny import qwen35_35b_a3b_config
folder, layers, experts = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
config = qwen35_35b_a3b_config()
text = config.text_config
text.num_hidden_layers = layers
text.num_experts = experts
text.layer_types = [
    "full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(layers)
]
w = write_sparse_checkpoint(folder / "ckpt", config, plan="modelopt-default", fmt="modelopt_nvfp4")
(folder / "written.json").write_text(json.dumps({"tensors": w.tensor_count, "shards": len(w.shards)}))
"""

LISTING = """
import sys
from pathlib import Path
from safetensors import safe_open
for shard in sorted(Path(sys.argv[1]).glob("*.safetensors")):
    with safe_open(str(shard), "np") as f:
        for name in f.keys():
            s = f.get_slice(name); s.get_dtype(); s.get_shape()
"""


def prepare(size: str) -> tuple[Path, Path, dict[str, int]]:
    """The sparse checkpoint and its spec, written once and kept in .cache/bench-scale."""
    layers, experts = SIZES[size]
    folder = CACHE / (size if size == "kimi-k2" else f"{layers}x{experts}")
    written = folder / "written.json"
    spec = KIMI_SPEC if size == "kimi-k2" else folder / "spec.yaml"
    if not written.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write = [WRITE_KIMI] if size == "kimi-k2" else [WRITE, str(layers), str(experts)]
        subprocess.run([sys.executable, "-c", write[0], str(folder), *write[1:]], check=True)
    if not spec.exists():
        publisher = [sys.executable, "-m", "publisher"]
        subprocess.run(
            [*publisher, "init", str(folder / "ckpt"), "-o", str(spec), "--name", f"Bench-{size}"],
            check=True,
            capture_output=True,
        )
    return folder / "ckpt", spec, json.loads(written.read_text())


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one whole process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    err = child.stderr.read() if child.stderr else b""
    if status != 0:
        raise SystemExit(f"{argv[:4]} failed (status {status}): {err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def contestants(ckpt: Path, spec: Path) -> dict[str, list[str]]:
    publisher = [sys.executable, "-c", "from publisher.cli import entry; entry()"]
    return {
        "validate": [*publisher, "validate", str(spec), str(ckpt)],
        "audit": [*publisher, "audit", str(ckpt)],
        "listing": [sys.executable, "-c", LISTING, str(ckpt)],
    }


def measure(size: str, repeat: int) -> dict[str, object]:
    ckpt, spec, written = prepare(size)
    env = bytecode_env()
    commands = contestants(ckpt, spec)
    for argv in commands.values():  # warm-up: page cache, bytecode cache
        run_once(argv, env)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(run_once(argv, env))
    stats: dict[str, object] = {
        "size": size,
        "tensors": written["tensors"],
        "shards": written["shards"],
    }
    for name, rows in runs.items():
        stats[name] = {
            "wall": statistics.median(r[0] for r in rows),
            "cpu": statistics.median(r[1] for r in rows),
            "peak": max(r[2] for r in rows),
        }
    return stats


def table(results: list[dict[str, object]], repeat: int) -> str:
    lines = [
        "| Tensors (shards) | validate wall / CPU / peak | audit wall / CPU / peak | safetensors listing wall / CPU / peak | validate ÷ listing (wall, CPU, peak) | audit ÷ listing (wall, CPU, peak) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = []
        for name in ("validate", "audit", "listing"):
            s = r[name]
            assert isinstance(s, dict)
            cells.append(f"{s['wall']:.2f} s / {s['cpu']:.2f} s / {s['peak']:.0f} MB")
        base = r["listing"]
        assert isinstance(base, dict)
        ratios = []
        for name in ("validate", "audit"):
            s = r[name]
            assert isinstance(s, dict)
            ratios.append(
                f"{s['wall'] / base['wall']:.2f}, {s['cpu'] / base['cpu']:.2f}, {s['peak'] / base['peak']:.2f}"
            )
        label = f"{r['tensors']:,} ({r['shards']})" + (" Kimi-K2" if r["size"] == "kimi-k2" else "")
        lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    return (
        "`bench/bench_scale.py`: sparse header sets (ModelOpt NVFP4), 10k to 371k tensors: the "
        "Qwen3.5-MoE layout with 16, 64 and 256 experts x 40 layers and 512 x 60, each with the "
        "spec `publisher init` writes for it, and Kimi-K2 in 117 shards (DeepSeek-V3 "
        "architecture from its public config.json, 278,799 tensors) against "
        f"`model_specs/Kimi-K2-Instruct-NVFP4.yaml`. Whole processes, medians of {repeat} runs in turns after a warm-up; "
        "CPU is user + system time of the process, peak its maximum resident set.\n\n"
        + "\n".join(lines)
        + f"\n\nMachine: {machine_line()}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes.split(","):
        results.append(measure(size, args.repeat))
        print(json.dumps(results[-1]), flush=True)
    body = table(results, args.repeat)
    print(body)
    if args.readme:
        write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
