"""Small helpers shared by the benchmarks: timing whole commands and updating bench/README.md."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"


def machine_line() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, load average {load}"


def bytecode_env() -> dict[str, str]:
    """The environment with Python's bytecode cache on (in a private folder). Some machines set
    PYTHONDONTWRITEBYTECODE, which makes every process recompile the project's own modules
    while pip-installed packages keep their .pyc files: an unfair start for the project."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(HERE.parent / ".cache" / "bench-pycache")
    return env


def time_command(
    argv: list[str], repeat: int, cwd: Path | None = None, env: dict[str, str] | None = None
) -> list[float]:
    """Wall seconds of `repeat` runs of a whole process (after one warm-up run that also fills
    the bytecode cache)."""
    env = env if env is not None else bytecode_env()
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def time_commands(
    commands: dict[str, list[str]], repeat: int, cwd: Path | None = None
) -> dict[str, list[float]]:
    """Like time_command for several commands, run in turns (A, B, C, A, B, C, …) so that a
    busy moment on a shared machine falls on all of them alike."""
    env = bytecode_env()
    for argv in commands.values():
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, n={len(times)})"


def write_section(title: str, body: str) -> None:
    """Replace (or append) the `## title` section of bench/README.md, keeping the others."""
    heading = f"## {title}"
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    section = f"{heading}\n\n{body.strip()}\n"
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    README.write_text(text, encoding="utf-8")
