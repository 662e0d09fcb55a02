"""Benchmark: where the time of `validate` and `audit` goes, phase by phase, on the full-size
Qwen3.5-35B-A3B NVFP4 header set (124,576 tensors in 5 sparse shards), beside the floor that
any Python reader of these headers pays.

Every phase is timed in its own fresh process (imports are measured cold, as the CLI meets
them; the bytecode cache is warm, as for an installed package), 7 rounds in turns, medians:

    interpreter start       `python -c pass`
    imports                 what `publisher validate` / `audit` import before reading
    decode floor            the 5 headers and the index read and decoded by msgspec into
                            plain structs: no checks, no names shared, nothing kept
    read + integrity        `check_checkpoint`: the headers, index and configs read into the
                            inventory, every byte-range, index and header check
    spec comparison         `validate_inventory` (the spec linted and derived beforehand)
    audit classification    `audit_inventory` on the inventory already read

    .venv/bin/python bench/bench_phases.py [--repeat 7] [--readme]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_validate import sparse_35b
from benchlib import bytecode_env, machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "model_specs" / "Qwen3.5-35B-A3B-NVFP4.yaml"
SECTION = "Where validation's time goes"

# Each phase prints the seconds it took, measured inside a fresh process.
TIMER = "import time as _t\n_start = _t.perf_counter()\n"
DONE = "print(_t.perf_counter() - _start)\n"
SETUP = (
    "from pathlib import Path\n"
    "from publisher.checkpoint.header import gc_paused\n"
    "from publisher.checkpoint.integrity import check_checkpoint\n"
)


def phases(folder: Path) -> dict[str, str]:
    spec = str(SPEC)
    return {
        "interpreter start": "",
        "imports (validate)": TIMER
        + "import publisher.cli, publisher.api, publisher.checkpoint.validate, "
        "publisher.checkpoint.integrity, publisher.spec.lint\n" + DONE,
        "imports of pydantic, PyYAML and msgspec alone": TIMER
        + "import pydantic, yaml, msgspec\n"
        + DONE,
        "imports (audit)": TIMER
        + "import publisher.cli, publisher.api, publisher.checkpoint.audit, "
        "publisher.checkpoint.integrity, publisher.spec.derive\n" + DONE,
        "decode floor (msgspec, no checks)": (
            "import msgspec, struct\nfrom pathlib import Path\n"
            "class T(msgspec.Struct, gc=False):\n"
            "    dtype: str\n    shape: tuple[int, ...]\n    data_offsets: tuple[int, int]\n"
            + TIMER
            + f"folder = Path({str(folder)!r})\n"
            "decode = msgspec.json.Decoder(dict[str, T]).decode\n"
            "for shard in sorted(folder.glob('*.safetensors')):\n"
            "    with open(shard, 'rb') as f:\n"
            "        n = struct.unpack('<Q', f.read(8))[0]; header = bytearray(f.read(n))\n"
            "    cut = header.index(b'},') + 1; header[cut] = ord('{')\n"
            "    decode(memoryview(header)[cut:])\n"
            "msgspec.json.decode((folder / 'model.safetensors.index.json').read_bytes())\n" + DONE
        ),
        "read + integrity (check_checkpoint)": SETUP
        + TIMER
        + f"check_checkpoint(Path({str(folder)!r}))\n"
        + DONE,
        "spec comparison (validate_inventory)": SETUP
        + "from publisher.checkpoint.validate import validate_inventory\n"
        "from publisher.spec.lint import derive_inventory, lint_path\n"
        f"loaded = lint_path(Path({spec!r}))\n"
        "profile, model = derive_inventory(loaded.spec)\n"
        f"inventory, found = check_checkpoint(Path({str(folder)!r}))\n"
        + TIMER
        + "validate_inventory(loaded.spec, profile, model, inventory, spec_file='s', "
        "read_findings=found)\n" + DONE,
        "audit classification (audit_inventory)": SETUP
        + "from publisher.checkpoint.audit import audit_inventory\n"
        f"inventory, found = check_checkpoint(Path({str(folder)!r}))\n"
        + TIMER
        + "with gc_paused():\n    audit_inventory(inventory)\n"
        + DONE,
    }


def run_in_turns(codes: dict[str, str], repeat: int) -> dict[str, list[float]]:
    """Seconds per phase: the process's own figure, or the whole process for `start`."""
    import time

    env = bytecode_env()
    for code in codes.values():  # warm the page and bytecode caches
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
        )
    times: dict[str, list[float]] = {label: [] for label in codes}
    for _ in range(repeat):
        for label, code in codes.items():
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            whole = time.perf_counter() - start
            times[label].append(float(done.stdout.split()[-1]) if code else whole)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    with sparse_35b() as (folder, written):
        times = run_in_turns(phases(folder), args.repeat)
    median = {label: statistics.median(t) for label, t in times.items()}
    floor = (
        median["interpreter start"]
        + median["imports (validate)"]
        + median["decode floor (msgspec, no checks)"]
    )
    rows = "\n".join(
        f"| {label} | {statistics.median(t):.3f} s | {min(t):.3f} s |" for label, t in times.items()
    )
    body = (
        f"`bench/bench_phases.py`: the phases of `validate` and `audit` on the Qwen3.5-35B-A3B "
        f"NVFP4 header set ({written['tensors']:,} tensors), each phase timed inside its own fresh "
        f"process, {args.repeat} rounds in turns, medians. The decode floor is what any Python "
        "reader of these headers pays before checking anything: msgspec decoding the five "
        "headers and the index into plain structs.\n\n"
        "| Phase | Median | Best |\n|---|---|---|\n"
        f"{rows}\n\nInterpreter start, validate's imports and the decode floor alone add up to "
        f"{floor:.2f} s, before any check; compare safetensors' whole listing in "
        f"bench_validate.py's table. Machine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
