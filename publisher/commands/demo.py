"""`publisher demo`: the main job end to end on embedded defaults (no network, no downloads)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "demo"
HELP = "run the main job end to end: specs → cards → a real NVFP4 export → validate → push to a local Hub"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir", type=Path, default=Path(".demo"), help="where the demo writes (default .demo/)"
    )


def run(args: argparse.Namespace) -> int:
    from publisher.demo import run_demo, specs_root

    return run_demo(args.workdir.resolve(), specs_root(Path.cwd()))
