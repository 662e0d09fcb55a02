"""`publisher preview SPEC [--serve [--port N]]`: see the card before anything is pushed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK

NAME = "preview"
HELP = "preview a spec's card in the terminal, or as a local Hub-like page (--serve)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the model spec (YAML)")
    parser.add_argument("--serve", action="store_true", help="serve an HTML preview on 127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=8766, help="port for --serve (default 8766; 0 picks one)"
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="DIR",
        help="with --serve: show the checkpoint's precision map beside the card, and the card"
        " as push renders it with that checkpoint",
    )


def run(args: argparse.Namespace) -> int:
    from publisher.errors import InputError

    if not args.spec.is_file():
        what = "is a folder; preview takes one spec file" if args.spec.is_dir() else "not found"
        raise InputError(what, where=str(args.spec), fix="pass the path of a spec (.yaml)")
    if args.checkpoint is not None and not args.serve:
        raise InputError("--checkpoint shows the precision map in the served page: add --serve")
    if args.checkpoint is not None and not args.checkpoint.is_dir():
        raise InputError("checkpoint folder not found", where=str(args.checkpoint))
    if args.serve:
        server = _server(args.spec, args.port, args.checkpoint)
        print(
            f"previewing {args.spec} at {server.url} (reloads when the spec or a template changes; Ctrl-C stops)"
        )
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
        return EXIT_OK
    from rich.console import Console
    from rich.markdown import Markdown

    from publisher.api import render_card as render_spec
    from publisher.card.html import split_frontmatter
    from publisher.commands.common import render_text

    result = render_spec(args.spec)
    console = Console()
    if result.text is None:
        sys.stdout.write(render_text(result.findings))
        return EXIT_INPUT if result.unusable else EXIT_FINDINGS
    meta, body = split_frontmatter(result.text)
    for key, value in meta.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        console.print(f"{key}: {shown}", style="dim", markup=False, highlight=False)
    console.print(Markdown(body))
    if result.findings:
        sys.stdout.write(render_text(result.findings))
    return EXIT_OK


def _server(spec: Path, port: int, checkpoint: Path | None = None) -> Any:
    """The preview server on `port`; a port in use is a usage error that says what to do."""
    import errno

    from publisher.card.preview import PreviewServer
    from publisher.errors import UsageError

    try:
        return PreviewServer(spec, port, checkpoint=checkpoint)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on 127.0.0.1 is already in use",
                fix="pass --port N for another port, or --port 0 to pick a free one",
            ) from None
        if error.errno in (errno.EACCES, errno.EPERM):
            raise UsageError(
                f"not allowed to listen on port {port}", fix="pass --port 1024 or above, or 0"
            ) from None
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
