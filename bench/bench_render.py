"""Benchmark: render all five shipped specs in one process (lint + card), as a whole process.

Target (issue 3): under 0.35 s wall on the 2-core machine, importing no torch or transformers.

    .venv/bin/python bench/bench_render.py [--repeat 10] [--readme]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine_line, summary, time_command, write_section

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
from pathlib import Path
from publisher.card.pipeline import render_spec
for spec in sorted(Path('model_specs').glob('*.yaml')):
    assert render_spec(spec).text
heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')]
assert not heavy, heavy
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    ours = time_command([sys.executable, "-c", SCRIPT], args.repeat, cwd=ROOT)
    bare = time_command([sys.executable, "-c", "pass"], args.repeat, cwd=ROOT)
    body = (
        "`bench/bench_render.py`: one process that lints and renders all five specs in "
        "`model_specs/`, timed whole (interpreter start included), after one warm-up run.\n\n"
        "| Process | Wall time, median |\n|---|---|\n"
        f"| render all five specs | {summary(ours)} |\n"
        f"| empty Python process, for scale | {summary(bare)} |\n\n"
        f"Target: under 0.35 s. Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Rendering cards", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
