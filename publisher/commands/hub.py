"""`publisher hub serve`: run the local Hub-compatible server in the foreground."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from publisher.errors import EXIT_OK, UsageError

NAME = "hub"
HELP = "Run a local Hugging Face Hub-compatible server (for tests and demos)."

DEFAULT_PORT = 8765
DEFAULT_DATA = Path(".publisher-hub")
TOKEN_ENV = "PUBLISHER_HUB_TOKEN"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hub_action", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve a local Hub on 127.0.0.1 until Ctrl+C",
        description="Serve a local Hub on 127.0.0.1 until Ctrl+C. The real huggingface_hub "
        "client talks to it once HF_ENDPOINT points at it (the command prints what to set).",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help=f"where repositories are stored; kept between runs (default: ./{DEFAULT_DATA})",
    )
    serve.add_argument(
        "--token",
        default=None,
        metavar="T",
        help=f"the token writes need (default: ${TOKEN_ENV}, else the demo token "
        "hf_local_publisher_demo)",
    )
    serve.add_argument(
        "--user", default=None, metavar="NAME", help="the user name the token belongs to"
    )


def run(args: argparse.Namespace) -> int:
    return _serve(args) if args.hub_action == "serve" else EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from publisher.localhub.server import DEFAULT_USER, DEMO_TOKEN, LocalHub

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    token = args.token or os.environ.get(TOKEN_ENV) or DEMO_TOKEN
    hub = LocalHub(args.data, port=args.port, tokens={token: args.user or DEFAULT_USER})
    try:
        hub.start()
    except OSError as error:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}",
            fix="choose another --port, or 0 for any free one",
        ) from error
    shown_token = token if token == DEMO_TOKEN else "<the token you gave>"
    _announce(hub.endpoint, args.data, hub.client_env(), shown_token)
    try:
        hub.wait()
    except KeyboardInterrupt:
        sys.stdout.write("Stopping the local Hub.\n")
    finally:
        hub.stop()
    return EXIT_OK


def _announce(endpoint: str, data: Path, env: dict[str, str], shown_token: str) -> None:
    lines = [
        f"Local Hub serving at {endpoint} (data: {data.resolve()})",
        "Point the Hugging Face client at it:",
        *(f"  export {name}={value}" for name, value in env.items()),
        f"  export HF_TOKEN={shown_token}",
        "Press Ctrl+C to stop.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
