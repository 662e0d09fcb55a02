"""The command-line skin over the library: parse arguments, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

from publisher import __version__
from publisher.commands import COMMAND_MODULES
from publisher.commands.common import printable
from publisher.errors import EXIT_INPUT, PublisherError

EXIT_INTERNAL = 4


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default), never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"publisher: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"publisher.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="publisher",
        description="Specs to checked Hugging Face model repositories: "
        "lint specs, render cards, validate checkpoints, push to the Hub.",
        epilog="Exit codes: 0 ok, 1 findings, 2 unusable input or usage, 3 Hub or network failure.",
    )
    parser.add_argument("--version", action="version", version=f"publisher {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        module = _load(module_name)
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(run(args))
    except PublisherError as error:
        sys.stderr.write(f"publisher: error: {printable(error)}\n")  # one line, always
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("publisher: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: say so in one line, keep the traceback for debugging
        if os.environ.get("PUBLISHER_DEBUG"):
            raise
        sys.stderr.write(
            f"publisher: internal error: {type(error).__name__}: {printable(error)} "
            "(this is a bug; set PUBLISHER_DEBUG=1 for the traceback)\n"
        )
        return EXIT_INTERNAL
