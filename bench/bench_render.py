"""Benchmark: render the cards of all five shipped specs in one process, timed whole.

Target (issue 3): under 0.35 s wall on the 2-core machine, importing no torch or transformers.
Side by side, in turns, in the same run:

- `publisher render model_specs --out-dir DIR`: load, lint and render all five specs (the
  command a maintainer runs);
- the same through the library in one process, with the time split into imports and work;
- huggingface_hub's `ModelCard.from_template` rendering five cards from the same metadata with
  its default template (no spec, no checks): what rendering costs with the Hub client alone;
- the imports alone (pydantic with one model, jinja2's sandbox, PyYAML, huggingface_hub's
  ModelCardData): the floor any tool built on these libraries starts from;
- an empty Python process.

    .venv/bin/python bench/bench_render.py [--repeat 15] [--readme]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bytecode_env, machine_line, summary, time_commands, write_section

ROOT = Path(__file__).resolve().parents[1]
PUBLISHER = str(Path(sys.executable).with_name("publisher"))

INSIDE = """
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

HUB_ONLY = """
from pathlib import Path
from huggingface_hub import ModelCard, ModelCardData
for spec in sorted(Path('model_specs').glob('*.yaml')):
    data = ModelCardData(license='apache-2.0', library_name='transformers',
                         pipeline_tag='image-text-to-text', tags=['nvfp4'])
    card = ModelCard.from_template(data, model_id=spec.stem)
    assert card.content
"""

FLOOR = """
import yaml
from pydantic import BaseModel
class Probe(BaseModel):
    x: int
import jinja2.sandbox
from huggingface_hub import ModelCardData
"""


def run_inside() -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", INSIDE],
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
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as out:
        commands = {
            "cli": [PUBLISHER, "render", "model_specs", "--out-dir", out, "--force"],
            "library": [sys.executable, "-c", INSIDE],
            "hub": [sys.executable, "-c", HUB_ONLY],
            "floor": [sys.executable, "-c", FLOOR],
            "empty": [sys.executable, "-c", "pass"],
        }
        times = time_commands(commands, args.repeat, cwd=ROOT)
        cards = sorted(p.parent.name for p in Path(out).glob("*/README.md"))
    assert len(cards) == 5, cards
    inside = [run_inside() for _ in range(args.repeat)]
    imports = statistics.median(i for i, _ in inside)
    rendering = statistics.median(r for _, r in inside)
    cli = statistics.median(times["cli"])
    verdict = "met" if cli < 0.35 else "NOT met"
    body = (
        "`bench/bench_render.py`: each command is a whole process (interpreter start, imports "
        "and exit included), run in turns after one warm-up run each.\n\n"
        "| Process | Wall time, median |\n|---|---|\n"
        f"| `publisher render model_specs --out-dir DIR`: lint + render all five specs | "
        f"{summary(times['cli'])} |\n"
        f"| the same through the library (`render_spec` × 5) | {summary(times['library'])} |\n"
        f"| — inside it: importing `publisher.card.pipeline` (pydantic, PyYAML, the spec code) | "
        f"{imports:.3f} s |\n"
        "| — inside it: load, lint and render of the five specs (jinja2 and huggingface_hub "
        f"are imported by the first) | {rendering:.3f} s |\n"
        f"| huggingface_hub `ModelCard.from_template`, five cards, default template, no checks | "
        f"{summary(times['hub'])} |\n"
        f"| the imports alone (pydantic + one model, jinja2 sandbox, PyYAML, ModelCardData) | "
        f"{summary(times['floor'])} |\n"
        f"| empty Python process | {summary(times['empty'])} |\n\n"
        f"Target: under 0.35 s for the command: {verdict} ({cli:.3f} s). "
        f"Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("Rendering cards", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
