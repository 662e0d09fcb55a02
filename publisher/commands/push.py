"""`publisher push SPEC [CHECKPOINT] [--repo ID]`: publish the card, the validated checkpoint
and its audit manifest to the Hub in one commit (or show the plan with --dry-run)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from publisher.commands.common import add_format_option
from publisher.commands.signing_options import add_signing_options, optional_signing_material
from publisher.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK

if TYPE_CHECKING:
    from publisher.hub.push_types import PushResult

NAME = "push"
HELP = "publish a spec's card and a validated checkpoint to the Hub in one commit"
EPILOG = (
    "The token comes from HF_TOKEN or `hf auth login` (there is no --token option: it would "
    "land in your shell history). Against the local Hub (`publisher hub serve`), also set "
    "HF_ENDPOINT and HF_HUB_DISABLE_XET=1 as it prints. Only what a model repository holds "
    "is published (the card, configs, tokenizer and chat template, safetensors shards and "
    "index, the audit, LICENSE/NOTICE, pictures the card shows); anything else only with "
    "--include PATTERN, and .env, keys, .git/ and caches never. Links are judged by their "
    "target. A token-like string in any text file to publish stops the push (PUSH101). The "
    "plan lists what was skipped and what --include admitted."
)

Advance = Callable[[int], None]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("spec", type=Path, help="the model spec (YAML)")
    parser.add_argument(
        "checkpoint", type=Path, nargs="?", help="the exported checkpoint folder (validated)"
    )
    parser.add_argument("--repo", metavar="ID", help="the Hub repository (default: the spec's)")
    parser.add_argument(
        "--revision", metavar="BRANCH", help="branch to push to (created if missing)"
    )
    parser.add_argument(
        "--create-pr",
        action="store_true",
        help="open a pull request instead of committing; run again, it commits to the open pull "
        "request it opened for this spec, or sends nothing if that one already holds the push",
    )
    parser.add_argument(
        "--private", action="store_true", help="create the repository private (if it is new)"
    )
    parser.add_argument(
        "--tag", metavar="vX.Y.Z", type=version_tag, help="tag the pushed commit (v<semver>)"
    )
    parser.add_argument("-m", "--message", help="commit title (default names spec and tool)")
    parser.add_argument(
        "--delete",
        metavar="PATTERN",
        action="append",
        default=[],
        help="delete remote files matching this fnmatch pattern that the push does not "
        "publish (repeatable); other remote files are always kept",
    )
    parser.add_argument(
        "--include",
        metavar="PATTERN",
        action="append",
        default=[],
        help="also publish files matching this fnmatch pattern (repeatable), beyond what a "
        "model repository holds; the plan marks each file it admits",
    )
    parser.add_argument("--dry-run", action="store_true", help="show the plan; send nothing")
    add_signing_options(parser, sign_flag=True)
    parser.add_argument(
        "--precision-map",
        action="store_true",
        help="also publish precision_map.svg, drawn from the checkpoint's headers (without"
        " CHECKPOINT: from the weights already on the Hub), and embed it in the card",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every finding of a blocked push (by default many are summarised by code)",
    )
    add_format_option(parser)


def version_tag(value: str) -> str:
    """`--tag`: v<semver> (v1.0.0, v1.2.0-rc.1), as release tags are; `1.0` is refused."""
    from publisher.hub.push_types import is_version_tag

    if not is_version_tag(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a version tag: write v<major>.<minor>.<patch>, e.g. v1.0.0"
        )
    return value


def run(args: argparse.Namespace) -> int:
    from huggingface_hub.utils import disable_progress_bars

    from publisher.api import push
    from publisher.hub.push_report import render_result

    disable_progress_bars()  # ours replace the client's
    result = push(
        args.spec,
        args.checkpoint,
        repo_id=args.repo,
        revision=args.revision,
        create_pr=args.create_pr,
        private=args.private,
        tag=args.tag,
        message=args.message,
        delete=tuple(args.delete),
        dry_run=args.dry_run,
        include=tuple(args.include),
        progress=make_progress(),
        precision_map=args.precision_map,
        signing=optional_signing_material(args),
    )
    if result.status == "blocked":
        return _blocked(result, args.format, verbose=args.verbose)
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_result(result))
    return EXIT_OK


def _blocked(result: PushResult, fmt: str, *, verbose: bool = False) -> int:
    from publisher.commands.common import printable_findings
    from publisher.report import SUMMARY_THRESHOLD, render_json, render_summary, render_text

    if fmt == "json":
        sys.stdout.write(render_json(result.findings, status="blocked"))
    elif verbose or len(result.findings) <= SUMMARY_THRESHOLD:
        sys.stdout.write(render_text(printable_findings(result.findings)))
        sys.stdout.write("push stopped: nothing was sent\n")
    else:
        sys.stdout.write(render_summary(printable_findings(result.findings)))
        sys.stdout.write(
            "push stopped: nothing was sent (--verbose lists every finding; so does --format json)\n"
        )
    return EXIT_INPUT if result.unusable else EXIT_FINDINGS


# ---- progress ---------------------------------------------------------------------------


def make_progress() -> PlainProgress | RichProgress:
    """Bars on a terminal; plain lines in CI or when stderr is not a terminal."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        return RichProgress()
    return PlainProgress(sys.stderr)


class PlainProgress:
    """One line when a step starts (via note) and one when it ends."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Advance]:
        from publisher.hub.plan import human_bytes

        done = [0]
        lock = threading.Lock()
        started = time.perf_counter()

        def advance(n: int) -> None:
            with lock:
                done[0] += n

        yield advance
        if total > 0 or done[0] > 0:
            seconds = time.perf_counter() - started
            self.note(f"{label}: {human_bytes(done[0])} in {seconds:.1f} s")

    def note(self, text: str) -> None:
        self.stream.write(f"publisher: {text}\n")
        self.stream.flush()


class RichProgress:
    """rich progress bars on stderr."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Advance]:
        if total <= 0:
            yield lambda n: None
            return
        from rich import progress as rp

        columns: list[Any] = [
            rp.TextColumn("{task.description}"),
            rp.BarColumn(),
            rp.DownloadColumn(binary_units=True),
            rp.TransferSpeedColumn(),
            rp.TimeRemainingColumn(),
        ]
        with rp.Progress(*columns, console=self.console, transient=True) as bars:
            task_id = bars.add_task(label, total=total)
            yield lambda n: bars.advance(task_id, n)

    def note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)
