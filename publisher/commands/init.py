"""`publisher init CHECKPOINT [-o SPEC]`: write a starting spec from a checkpoint."""

from __future__ import annotations

import argparse
import os
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
    from publisher.checkpoint.init_spec import DEFAULT_SCHEMA_REF, starting_spec
    from publisher.checkpoint.reader import read_checkpoint

    if args.output is not None and args.output.exists():
        raise InputError(
            "already exists; choose another name or remove it first", where=str(args.output)
        )
    inventory, _ = read_checkpoint(args.checkpoint)
    name = args.name or args.checkpoint.resolve().name
    schema_ref = schema_reference(args.output) if args.output else DEFAULT_SCHEMA_REF
    text = starting_spec(name, inventory, audit_inventory(inventory), schema_ref)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    if os.path.lexists(args.output):  # a FIFO, a device or a dangling link too
        raise InputError(
            "already exists; choose another name or remove it first", where=str(args.output)
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}; next: publisher lint {args.output}")
    return EXIT_OK


SCHEMA_FILE = Path("schema") / "model-spec.schema.json"


def schema_reference(output: Path) -> str:
    """The spec schema as a reference that resolves from `output`'s folder: the nearest
    schema/model-spec.schema.json above it, else the schema's published id."""
    from publisher.spec.schema import SCHEMA_ID

    folder = output.parent.resolve()
    for parent in (folder, *folder.parents):
        candidate = parent / SCHEMA_FILE
        if candidate.is_file():
            return Path(os.path.relpath(candidate, folder)).as_posix()
    return SCHEMA_ID
