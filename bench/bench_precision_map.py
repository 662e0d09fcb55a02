"""Benchmark: what drawing the precision map adds to `publisher audit` of the full-size
Qwen3.5-35B-A3B NVFP4 checkpoint (124,576 tensors in sparse shards: real headers, no weights).

Side by side in one run, each a whole fresh process, in turns (A, B, C, A, B, C, ...):
`publisher audit DIR` (the text report), `publisher audit DIR --format svg -o map.svg` and
`publisher audit DIR --format html -o report.html`. Wall time moves with the load of a shared
machine, so the CPU time of each process (user + system) is recorded too; and the drawing alone
(build_map + draw_svg on the audit's result) is timed in-process, best of many.

Target (issue 16): drawing adds under 0.1 s to the audit; the SVG stays under 200 KB.

    .venv/bin/python bench/bench_precision_map.py [--repeat 7] [--readme]
"""

from __future__ import annotations

import argparse
import json
import resource
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

WRITE = """
import json
from pathlib import Path
from publisher.testkit.sparse import write_sparse_checkpoint
from publisher.testkit.tiny import qwen35_35b_a3b_config
w = write_sparse_checkpoint(Path({folder!r}), qwen35_35b_a3b_config(), plan="modelopt-default", fmt="modelopt_nvfp4")
print(json.dumps({{"tensors": w.tensor_count}}))
"""

IN_PROCESS = """
import json, time
from publisher.checkpoint.integrity import check_checkpoint
from publisher.checkpoint.audit import audit_inventory
from publisher.auditview import build_map, draw_svg
from publisher.auditview.report import audit_page
inventory, _ = check_checkpoint({folder!r})
result = audit_inventory(inventory)
walls, cpus, pages = [], [], []
for _ in range({repeat}):
    wall, cpu = time.perf_counter(), time.process_time()
    svg = draw_svg(build_map(result, title="Qwen3.5-35B-A3B-NVFP4"))
    walls.append(time.perf_counter() - wall)
    cpus.append(time.process_time() - cpu)
    wall = time.perf_counter()
    page = audit_page(result, title="Qwen3.5-35B-A3B-NVFP4")
    pages.append(time.perf_counter() - wall)
print(json.dumps({{"wall": walls, "cpu": cpus, "page": pages, "svg_bytes": len(svg.encode()),
                   "html_bytes": len(page.encode()), "modules": len(result.modules)}}))
"""


def run_cli(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole `publisher` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from publisher.cli import entry; entry()", *args],
        cwd=ROOT,
        env=bytecode_env(),
        capture_output=True,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="publisher-bench-map-"))
    out = Path(tempfile.mkdtemp(prefix="publisher-bench-map-out-"))
    try:
        written = json.loads(
            subprocess.run(
                [sys.executable, "-c", WRITE.format(folder=str(folder))],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        commands = {
            "`publisher audit DIR` (text, no map)": ["audit", str(folder)],
            "`publisher audit DIR --format svg -o map.svg`": [
                "audit", str(folder), "--format", "svg", "-o", str(out / "map.svg"),
            ],
            "`publisher audit DIR --format html -o report.html`": [
                "audit", str(folder), "--format", "html", "-o", str(out / "report.html"),
            ],
        }  # fmt: skip
        for argv_ in commands.values():  # warm-up: page cache and bytecode
            run_cli(argv_)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv_ in commands.items():
                wall, cpu = run_cli(argv_)
                walls[name].append(wall)
                cpus[name].append(cpu)
        inner = json.loads(
            subprocess.run(
                [sys.executable, "-c", IN_PROCESS.format(folder=str(folder), repeat=20)],
                cwd=ROOT,
                env=bytecode_env(),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    finally:
        shutil.rmtree(folder)
        shutil.rmtree(out)
    base = next(iter(commands))
    rows = []
    for name in commands:
        extra_wall = statistics.median(walls[name]) - statistics.median(walls[base])
        extra_cpu = statistics.median(cpus[name]) - statistics.median(cpus[base])
        added = "" if name == base else f"{extra_wall:+.3f} s / {extra_cpu:+.3f} s"
        rows.append(
            f"| {name} | {statistics.median(walls[name]):.3f} s | {min(walls[name]):.3f} s"
            f" | {statistics.median(cpus[name]):.3f} s | {added} |"
        )
    table = (
        "| Process | Wall, median | Wall, best | CPU, median | Added vs text (wall / CPU, medians) |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(rows)
    )
    body = (
        f"`bench/bench_precision_map.py`: the Qwen3.5-35B-A3B NVFP4 layout ({written['tensors']:,}"
        f" tensors, {inner['modules']:,} modules audited, sparse shards), each process fresh, "
        f"{args.repeat} rounds in turns after a warm-up.\n\n{table}\n\n"
        f"The drawing alone, in-process on the audit's result (20 runs): build_map + draw_svg "
        f"{min(inner['wall']) * 1000:.0f} ms best, {statistics.median(inner['wall']) * 1000:.0f} ms"
        f" median wall ({statistics.median(inner['cpu']) * 1000:.0f} ms CPU); the whole HTML page "
        f"{statistics.median(inner['page']) * 1000:.0f} ms median. SVG {inner['svg_bytes'] / 1000:.0f}"
        f" KB, HTML report {inner['html_bytes'] / 1000:.0f} KB.\n\n"
        "Wall time on a shared 2-core machine moves by more than the map costs from one round to"
        " the next; the CPU column (the same work, undisturbed by other processes) and the"
        " in-process figure are the cost of the map.\n\n"
        "Target: the map adds under 0.1 s to the audit and weighs under 200 KB. "
        f"Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Precision map: what drawing adds to an audit", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
