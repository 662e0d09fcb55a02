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
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
