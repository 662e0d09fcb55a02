"""`publisher init CHECKPOINT [-o SPEC]`: write a starting spec from a checkpoint."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.errors import EXIT_OK, InputError

NAME = "init"
HELP = "write a starting spec from a checkpoint's config.json and headers"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="the exported checkpoint folder")
    parser.add_argument(
        "-o", "--output", type=Path, help="write the spec here (default: stdout); never overwrites"
    )
    parser.add_argument("--name", help="model name (default: the folder's name)")


def run(args: argparse.Namespace) -> int:
    from publisher.checkpoint.audit import audit_inventory
    from publisher.checkpoint.init_spec import starting_spec
    from publisher.checkpoint.reader import read_checkpoint

    if args.output is not None and args.output.exists():
        raise InputError(
            "already exists; choose another name or remove it first", where=str(args.output)
        )
    inventory, _ = read_checkpoint(args.checkpoint)
    name = args.name or args.checkpoint.resolve().name
    text = starting_spec(name, inventory, audit_inventory(inventory))
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.output.exists():
        raise InputError(
            "already exists; choose another name or remove it first", where=str(args.output)
        )
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}; next: publisher lint {args.output}")
    return EXIT_OK
