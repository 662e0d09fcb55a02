"""`publisher sign DIR`: sign every file a push of DIR would publish (writes DIR/model.sig)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from publisher.commands.common import add_format_option, printable
from publisher.commands.signing_options import add_signing_options, signing_material
from publisher.errors import EXIT_OK

NAME = "sign"
HELP = "sign a folder's files (OpenSSF model signing, one SHA-256 per file) into model.sig"
EPILOG = (
    "Examples: publisher sign ./repo --key signing-key.pem; "
    "publisher sign ./repo --key leaf-key.pem --certificate leaf.pem --certificate-chain ca.pem; "
    "publisher sign ./repo --sigstore (keyless, in GitHub Actions). "
    "Verify with publisher verify ./repo or publisher verify ORG/NAME after pushing."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("folder", type=Path, help="the folder to sign (what will be published)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write the signature (default: FOLDER/model.sig, which a push publishes)",
    )
    add_signing_options(parser)
    add_format_option(parser)


def run(args: argparse.Namespace) -> int:
    from publisher.provenance.sign import sign_folder

    result = sign_folder(args.folder, signing_material(args), args.output)
    if args.format == "json":
        data = {
            "signature": str(result.path),
            "signer": result.signer,
            "files": dict(sorted(result.digests.items())),
            "not_signed": [{"path": p, "reason": r} for p, r in result.not_signed],
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    for path, sha256 in sorted(result.digests.items()):
        sys.stdout.write(f"{sha256}  {printable(path)}\n")
    for path, reason in result.not_signed:
        sys.stdout.write(f"not signed (a push would not publish it): {printable(path)}: {reason}\n")
    sys.stdout.write(
        f"signed {len(result.digests)} file(s) as {printable(result.signer)}: {result.path}\n"
    )
    return EXIT_OK
