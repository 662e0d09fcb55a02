"""Benchmark: render all five shipped specs in one process (lint + card), as a whole process.

Target (issue 3): under 0.35 s wall on the 2-core machine, importing no torch or transformers.

    .venv/bin/python bench/bench_render.py [--repeat 10] [--readme]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bytecode_env, machine_line, summary, time_command, write_section

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys, time
start = time.perf_counter()
from pathlib import Path
from publisher.card.pipeline import render_spec
imported = time.perf_counter()
for spec in sorted(Path('model_specs').glob('*.yaml')):
    assert render_spec(spec).text
done = time.perf_counter()
heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')]
assert not heavy, heavy
print(f"{imported - start:.4f} {done - imported:.4f}")
"""


def run_inside() -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=bytecode_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    imports, rendering = done.stdout.split()
    return float(imports), float(rendering)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    ours = time_command([sys.executable, "-c", SCRIPT], args.repeat, cwd=ROOT)
    bare = time_command([sys.executable, "-c", "pass"], args.repeat, cwd=ROOT)
    inside = [run_inside() for _ in range(args.repeat)]
    imports = statistics.median(i for i, _ in inside)
    rendering = statistics.median(r for _, r in inside)
    body = (
        "`bench/bench_render.py`: one process that lints and renders all five specs in "
        "`model_specs/`, timed whole (interpreter start, imports and exit included) after one "
        "warm-up run, and inside the process (imports, then the five renders).\n\n"
        "| Measure | Wall time, median |\n|---|---|\n"
        f"| whole process, render all five specs | {summary(ours)} |\n"
        f"| inside it: imports (pydantic, jinja2, PyYAML, publisher) | {imports:.3f} s |\n"
        f"| inside it: lint + render of the five specs | {rendering:.3f} s |\n"
        f"| empty Python process, for scale | {summary(bare)} |\n\n"
        f"Target: under 0.35 s. Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Rendering cards", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
