"""`publisher schema`: print the JSON Schema of the model spec (editors use it to complete specs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "schema"
HELP = "print the JSON Schema of the model spec"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from publisher.spec.schema import schema_json

    text = schema_json()
    if args.output:
        from publisher.commands.common import write_atomically

        write_atomically(args.output, text)  # only ever replaces a regular file
    else:
        sys.stdout.write(text)
    return 0
