"""The key options shared by `sign` and `push --sign` (and their reading into material)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.provenance.keys import SigningMaterial


def add_signing_options(parser: argparse.ArgumentParser, *, sign_flag: bool = False) -> None:
    group = parser.add_argument_group("signing (OpenSSF model signing)")
    if sign_flag:
        group.add_argument(
            "--sign",
            action="store_true",
            help="sign every published file into model.sig, in the same commit (with --key "
            "or --sigstore)",
        )
    group.add_argument(
        "--key", type=Path, metavar="PRIVATE.pem", help="sign with this EC private key (PEM)"
    )
    group.add_argument(
        "--password-env",
        metavar="VAR",
        help="the environment variable holding the private key's password, if it has one",
    )
    group.add_argument(
        "--certificate",
        type=Path,
        metavar="CERT.pem",
        help="the signing certificate of --key (certificate-chain signing)",
    )
    group.add_argument(
        "--certificate-chain",
        type=Path,
        metavar="CA.pem",
        action="append",
        default=[],
        help="intermediate and root certificates of --certificate (repeatable)",
    )
    group.add_argument(
        "--sigstore",
        action="store_true",
        help="sign keylessly with Sigstore: in GitHub Actions with the job's OIDC token "
        "(permissions: id-token: write), elsewhere through a browser sign-in",
    )


def signing_material(args: argparse.Namespace) -> SigningMaterial:
    from publisher.provenance.keys import SigningMaterial

    return SigningMaterial(
        private_key=args.key,
        password_env=args.password_env,
        certificate=args.certificate,
        certificate_chain=tuple(args.certificate_chain),
        sigstore=args.sigstore,
    )


def optional_signing_material(args: argparse.Namespace) -> SigningMaterial | None:
    """The material for `--sign`, or None without it (key options alone are a usage error:
    signing is never implied)."""
    from publisher.errors import UsageError

    given = args.key or args.certificate or args.certificate_chain or args.sigstore
    if not args.sign:
        if given:
            raise UsageError("--key, --certificate and --sigstore sign only with --sign")
        return None
    material = signing_material(args)
    material.check()
    return material
