"""`publisher render SPEC [-o README.md] [--checkpoint DIR]`: write the model card."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, InputError

NAME = "render"
HELP = "render a spec's model card (README.md with frontmatter)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the model spec (YAML)")
    parser.add_argument("-o", "--output", type=Path, help="write the card here (default: stdout)")
    parser.add_argument(
        "--checkpoint", type=Path, help="the exported checkpoint, to state its measured size"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite an output file that was not written by publisher",
    )


def run(args: argparse.Namespace) -> int:
    from publisher.card.pipeline import checkpoint_facts, render_spec
    from publisher.commands.common import render_text

    checkpoint = checkpoint_facts(args.checkpoint) if args.checkpoint else None
    result = render_spec(args.spec, checkpoint=checkpoint)
    if result.text is None:
        sys.stdout.write(render_text(result.findings))
        return EXIT_INPUT if result.unusable else EXIT_FINDINGS
    if args.output:
        write_card(args.output, result.text, force=args.force)
        print(f"wrote {args.output} ({len(result.text.encode()):,} bytes)")
    else:
        sys.stdout.write(result.text)
    return EXIT_OK


def write_card(path: Path, text: str, *, force: bool) -> None:
    """Write atomically; refuse to replace a hand-written card unless --force."""
    from publisher.card.pipeline import GENERATED_MARK

    if path.is_dir():
        raise InputError("is a directory; give a file name such as README.md", where=str(path))
    if path.exists() and not force:
        existing = path.read_text(encoding="utf-8", errors="replace")
        if existing != text and GENERATED_MARK not in existing:
            raise InputError(
                "exists and was not written by publisher",
                where=str(path),
                fix="pass --force to replace it",
            )
    from publisher.commands.common import write_atomically

    write_atomically(path, text)
