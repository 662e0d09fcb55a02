"""`publisher render SPEC… [-o README.md | --out-dir DIR] [--checkpoint DIR]`: write model cards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, InputError, UsageError
from publisher.findings import Finding, Location

NAME = "render"
HELP = "render model cards (README.md with frontmatter) from specs"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "specs", nargs="+", type=Path, metavar="SPEC", help="model specs (YAML files or folders)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "-o", "--output", type=Path, help="write the one card here (default: stdout)"
    )
    target.add_argument("--out-dir", type=Path, help="write each card to DIR/<spec name>/README.md")
    parser.add_argument(
        "--checkpoint", type=Path, help="the exported checkpoint, to state its measured size"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing: exit 1 with a diff when a card at -o / --out-dir differs from its "
        "spec's render (pre-commit's publisher-render-check)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite an output file that was not written by publisher",
    )


def run(args: argparse.Namespace) -> int:
    from publisher.card.pipeline import checkpoint_facts, render_spec
    from publisher.commands.common import render_text
    from publisher.spec.collect import collect_spec_paths

    spec_paths, missing = collect_spec_paths(args.specs)
    missing += [
        Finding("SPEC005", "is a folder with no spec files (*.yaml) in it", Location(str(path)))
        for path in args.specs
        if path.is_dir() and not any(p.is_relative_to(path) for p in spec_paths)
    ]
    if missing:
        sys.stdout.write(render_text(missing))
        return EXIT_INPUT
    several = len(spec_paths) > 1 or any(path.is_dir() for path in args.specs)
    if several and args.out_dir is None:
        raise UsageError(
            f"{len(spec_paths)} specs give {len(spec_paths)} cards",
            fix="pass --out-dir DIR to write DIR/<spec name>/README.md for each",
        )
    if args.out_dir is not None:
        _refuse_same_names(spec_paths)
    if several and args.checkpoint:
        raise UsageError("--checkpoint belongs to one spec", fix="render that spec on its own")
    if args.check and args.output is None and args.out_dir is None:
        raise UsageError(
            "--check compares with cards already written",
            fix="name them with -o CARD (one spec) or --out-dir DIR (DIR/<spec name>/README.md)",
        )
    checkpoint = checkpoint_facts(args.checkpoint) if args.checkpoint else None
    status = EXIT_OK
    stale = 0
    for spec_path in spec_paths:
        result = render_spec(spec_path, checkpoint=checkpoint)
        if result.text is None:
            sys.stdout.write(render_text(result.findings))
            status = max(status, EXIT_INPUT if result.unusable else EXIT_FINDINGS)
            continue
        output = args.out_dir / spec_path.stem / "README.md" if args.out_dir else args.output
        if output is None:
            sys.stdout.write(result.text)
            continue
        if args.check:
            if not card_matches(output, result.text, spec_path):
                stale += 1
                status = max(status, EXIT_FINDINGS)
            continue
        write_card(output, result.text, force=args.force)
        print(f"wrote {output} ({len(result.text.encode()):,} bytes)")
    if args.check and status == EXIT_OK:
        print(f"{len(spec_paths)} card(s) match their specs")
    elif args.check and stale:
        print(
            f"{stale} card(s) differ from their specs: run the same command without --check "
            "to write them"
        )
    return status


def card_matches(path: Path, text: str, spec_path: Path) -> bool:
    """Whether the card at `path` is what `spec_path` renders to; prints the diff when not."""
    from publisher.card.compare import CardDiff

    try:
        standing: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        standing = None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the card: {error}", where=str(path)) from None
    diff = CardDiff(str(path), f"{path} (rendered from {spec_path})", standing, text)
    if not diff.changed:
        return True
    if standing is None:
        print(f"{path}: no card yet for {spec_path}")
    else:
        sys.stdout.write(diff.unified())
    return False


def _refuse_same_names(spec_paths: list[Path]) -> None:
    """Two specs of one name would write the same DIR/<name>/README.md: refuse before writing."""
    seen: dict[str, Path] = {}
    for path in spec_paths:
        other = seen.setdefault(path.stem, path)
        if other != path:
            raise UsageError(
                f"{other} and {path} would both be written to <out-dir>/{path.stem}/README.md",
                fix="render them in two runs with different --out-dir",
            )


def write_card(path: Path, text: str, *, force: bool) -> None:
    """Write atomically; refuse to replace a hand-written card unless --force."""
    from publisher.card.pipeline import GENERATED_MARK
    from publisher.commands.common import writable_target

    if path.is_dir():
        raise InputError("is a directory; give a file name such as README.md", where=str(path))
    path = writable_target(path)  # before reading it: a FIFO would block, a device never end
    if path.exists() and not force:
        existing = path.read_text(encoding="utf-8", errors="replace")
        if existing != text and GENERATED_MARK not in existing:
            raise InputError(
                "exists and was not written by publisher",
                where=str(path),
                fix="pass --force to replace it",
            )
    from publisher.commands.common import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
