"""Run every benchmark in bench/ and write its figures into bench/README.md (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ["bench_cli.py", "--readme"],
    ["bench_render.py", "--readme"],
    ["bench_headers.py", "--readme"],
    ["bench_validate.py", "--readme"],
    ["bench_phases.py", "--readme"],
    ["bench_precision_map.py", "--readme"],
    ["bench_scale.py", "--readme"],
    ["bench_remote_audit.py", "--readme"],
    ["bench_push.py", "--readme"],
    ["bench_verify.py", "--readme"],
    ["fuzz_headers.py", "--readme"],
    ["bench_card_corpus.py", "--readme"],
]


def main() -> int:
    failed = []
    for script, *args in BENCHES:
        if not (HERE / script).exists():
            continue
        print(f"== {script}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent).returncode:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
