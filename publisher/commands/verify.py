"""`publisher verify ORG/NAME[@REV] | DIR`: check the signature and every file's SHA-256."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.commands.common import add_format_option, printable, render_text
from publisher.errors import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from publisher.provenance.verify import Verification

NAME = "verify"
HELP = (
    "verify model.sig and every file's SHA-256, in a Hub repo (no weights downloaded) or a folder"
)
EPILOG = (
    "Trust exactly one of: --key PUBLIC.pem, --certificate-chain ROOT.pem, or "
    "--identity ID --issuer URL (keyless Sigstore; a release signed in GitHub Actions has the "
    "workflow URL as identity and https://token.actions.githubusercontent.com as issuer). "
    "Exit 0 verified, 1 a file changed, added or missing or the signature does not verify, "
    "2 unusable input, 3 Hub failure."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("target", help="a Hub repo ORG/NAME[@REVISION], or a local folder")
    parser.add_argument("--revision", help="branch, tag or commit of the Hub repo (default main)")
    group = parser.add_argument_group("whom to trust (one)")
    group.add_argument("--key", type=Path, metavar="PUBLIC.pem", help="the signer's public key")
    group.add_argument(
        "--certificate-chain",
        type=Path,
        metavar="ROOT.pem",
        action="append",
        default=[],
        help="trusted root (and intermediate) certificates (repeatable)",
    )
    group.add_argument("--identity", help="the Sigstore signing identity (e.g. a workflow URL)")
    group.add_argument("--issuer", help="the OIDC issuer of --identity")
    add_format_option(parser)


def _is_folder(target: str) -> bool:
    try:
        return Path(target).is_dir()
    except (OSError, ValueError):
        return False


def run(args: argparse.Namespace) -> int:
    from publisher.provenance.keys import TrustAnchor

    anchor = TrustAnchor(
        public_key=args.key,
        certificate_chain=tuple(args.certificate_chain),
        identity=args.identity,
        issuer=args.issuer,
    )
    if _is_folder(args.target) or args.target.startswith((".", "/")):
        from publisher.provenance.verify import verify_folder

        result = verify_folder(Path(args.target), anchor)
    else:
        from publisher.provenance.remote import split_target, verify_repo

        repo_id, revision = split_target(args.target, args.revision)
        result = verify_repo(repo_id, revision, anchor)
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_report(result))
    return EXIT_OK if result.ok else EXIT_FINDINGS


def render_report(result: Verification) -> str:
    text = render_text(result.findings) if result.findings else ""
    where = printable(result.target)
    if result.commit:
        where += f" ({result.commit[:7]})"
    signer = f"signed by {printable(result.signer)}" if result.signer else "no signature"
    if result.ok:
        text += f"verified {where}: {result.files} file(s) match the signature, {signer}\n"
    else:
        text += f"NOT verified {where}: {signer}\n"
    if result.commit is not None:
        text += f"downloaded {result.downloaded_bytes} bytes (signature and small files only)\n"
    return text
