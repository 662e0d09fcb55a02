"""The command-line skin over the library: parse arguments, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import os
import sys
from types import ModuleType
from typing import Any, TextIO

from publisher import __version__
from publisher.commands import COMMAND_MODULES
from publisher.errors import EXIT_INPUT, PublisherError
from publisher.report import printable

EXIT_INTERNAL = 4


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default), never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"publisher: error: {message}\n")
        raise SystemExit(EXIT_INPUT)


def command_name(module_name: str) -> str:
    """`check_card` → `check-card`: each command module's NAME (a test keeps them equal)."""
    return module_name.replace("_", "-")


def _chosen_command(argv: list[str]) -> str | None:
    """The command a command line names: its first word that is not an option."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    known = {command_name(m) for m in COMMAND_MODULES}
    return first if first in known else None


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"publisher.commands.{name}")


class _PipeSafeStdout:
    """stdout that survives its reader going away (`publisher push … | head`): once a write
    fails with a broken pipe, the rest of the output is dropped and the command still ends
    with its own exit code (a blocked push stays 1, not 0)."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        self.closed_by_reader = True
        try:  # point fd 1 at /dev/null so the interpreter's own flush at exit is quiet too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `only` (a command name), only that command's module is imported
    and configured, and the others are listed by name (their help is not shown then anyway)."""
    parser = _Parser(
        prog="publisher",
        description="Specs to checked Hugging Face model repositories: "
        "lint specs, render cards, validate checkpoints, push to the Hub.",
        epilog="Exit codes: 0 ok, 1 findings, 2 unusable input or usage, 3 Hub or network failure.",
    )
    parser.add_argument("--version", action="version", version=f"publisher {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        if only is not None and command_name(module_name) != only:
            sub.add_parser(command_name(module_name))
            continue
        module = _load(module_name)
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(command)
        command.set_defaults(_run=module.run)
    return parser


GC_THRESHOLD = (50_000, 20, 100)
"""A run of publisher is short and what it builds (pydantic schemas, a spec's tree, a header's
tensor table) lives until it ends, so the default threshold (700) makes the cyclic collector walk
the same live objects again and again. Collecting rarely keeps memory bounded for the servers."""


def entry() -> None:
    """The `publisher` console script: run one command in this process, then exit."""
    gc.set_threshold(*GC_THRESHOLD)
    # publisher uses no pydantic plugins; looking for them reads every installed package's
    # entry points (about 30 ms in an environment with torch and transformers) on first use.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    status = main()
    gc.freeze()  # nothing is left to collect: spare the exit a walk over every live object
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (the library's way in, used by the tests)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--"]:  # `hf extensions exec publisher -- ARGS` passes its `--` on
        argv = argv[1:]
    parser = build_parser(_chosen_command(argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the command's own usage, not the top level's (`render --ouput`)
        _command_parser(parser, args).error(_unknown_message(unknown, parser, args))
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return EXIT_INPUT
    caller_stdout = sys.stdout
    sys.stdout = _PipeSafeStdout(caller_stdout)
    try:
        return _run(run, args)
    finally:
        sys.stdout = caller_stdout  # fd 1 is /dev/null by now if the reader went away


def _run(run: Any, args: argparse.Namespace) -> int:
    """Run the command; errors become one line and their exit code."""
    try:
        status = int(run(args))
        sys.stdout.flush()  # a reader gone away shows here, and keeps the status
        return status
    except PublisherError as error:
        sys.stderr.write(f"publisher: error: {printable(error)}\n")  # one line, always
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("publisher: interrupted\n")
        return 130
    except BrokenPipeError:  # a stream other than stdout: nothing more to say
        return EXIT_INPUT
    except Exception as error:  # a bug: say so in one line, keep the traceback for debugging
        if os.environ.get("PUBLISHER_DEBUG"):
            raise
        sys.stderr.write(
            f"publisher: internal error: {type(error).__name__}: {printable(error)} "
            "(this is a bug; set PUBLISHER_DEBUG=1 for the traceback)\n"
        )
        return EXIT_INTERNAL


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The sub-parser of the command on the line, else the top-level parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and args.command:
            return action.choices.get(args.command, parser)
    return parser


def _unknown_message(
    unknown: list[str], parser: argparse.ArgumentParser, args: argparse.Namespace
) -> str:
    """'unrecognized arguments: --ouput (did you mean --output?)'."""
    import difflib

    command = _command_parser(parser, args)
    options = [o for a in command._actions for o in a.option_strings if o.startswith("--")]
    text = "unrecognized arguments: " + " ".join(unknown)
    for word in unknown:
        close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1)
        if word.startswith("--") and close:
            text += f" (did you mean {close[0]}?)"
            break
    return text
