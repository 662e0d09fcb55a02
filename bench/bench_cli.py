"""Benchmark: CLI start-up, `publisher --help` against `hf --help`, in one run.

.venv/bin/python bench/bench_cli.py [--repeat 10] [--readme]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine_line, summary, time_command, write_section

BIN = Path(sys.executable).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    hf = shutil.which("hf", path=str(BIN)) or shutil.which("hf")
    rows = [
        ("publisher --help", summary(time_command([str(BIN / "publisher"), "--help"], args.repeat)))
    ]
    if hf:
        rows.append(("hf --help", summary(time_command([hf, "--help"], args.repeat))))
    rows.append(
        (
            "publisher lint model_specs/",
            summary(
                time_command(
                    [str(BIN / "publisher"), "lint"],
                    args.repeat,
                    cwd=Path(__file__).resolve().parents[1],
                )
            ),
        )
    )
    table = "| Command | Wall time, median |\n|---|---|\n" + "\n".join(
        f"| `{c}` | {t} |" for c, t in rows
    )
    body = (
        "`bench/bench_cli.py`: whole processes, started fresh each time, after one warm-up run.\n"
        "`publisher --help` and `lint` import no transformers, torch or huggingface_hub\n"
        "(tests/test_cli_startup.py checks `sys.modules`).\n\n"
        f"{table}\n\nMachine: {machine_line()}."
    )
    print(body)
    if args.readme:
        write_section("CLI start-up", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
