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
    _require_profile(inventory.configs.get("config.json"), args.checkpoint)
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


def _require_profile(config: dict[str, object] | None, checkpoint: Path) -> None:
    """InputError naming the profiles there are, when config.json's family has none."""
    from publisher.spec.from_config import profile_name_for
    from publisher.spec.profile import unknown_model_type_message

    if config and profile_name_for(config) is not None:
        return
    model_type = (config or {}).get("model_type")
    raise InputError(
        unknown_model_type_message(str(model_type) if model_type else "(none)"),
        where=str(checkpoint / "config.json"),
    )
