"""Who signs and whom a verification trusts: a private key, a certificate chain, or a Sigstore
identity (keyless, OIDC), turned into model-signing signers and verifiers.

| Signing | Verifying |
|---|---|
| `--key PRIVATE.pem` (EC P-256/384/521) | `--key PUBLIC.pem` |
| `--key PRIVATE.pem --certificate CERT.pem --certificate-chain CA.pem…` | `--certificate-chain ROOT.pem…` |
| `--sigstore` (GitHub Actions: the job's OIDC token; elsewhere a browser sign-in) | `--identity ID --issuer URL` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from publisher.errors import HubError, InputError, UsageError

if TYPE_CHECKING:
    from model_signing._signing.signing import Signature, Signer, Verifier

Method = Literal["key", "certificate", "sigstore"]
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class SigningMaterial:
    """How to sign. `password_env` names an environment variable holding the key's password
    (a password on the command line would land in the shell history)."""

    private_key: Path | None = None
    password_env: str | None = None
    certificate: Path | None = None
    certificate_chain: tuple[Path, ...] = ()
    sigstore: bool = False
    use_staging: bool = False

    @property
    def method(self) -> Method:
        if self.sigstore:
            return "sigstore"
        return "certificate" if self.certificate is not None else "key"

    def check(self) -> None:
        if self.sigstore and (self.private_key or self.certificate):
            raise UsageError("--sigstore signs keylessly: leave out --key and --certificate")
        if not self.sigstore and self.private_key is None:
            raise UsageError(
                "say how to sign: --key PRIVATE.pem (optionally with --certificate and "
                "--certificate-chain), or --sigstore for keyless signing"
            )
        if self.certificate_chain and self.certificate is None:
            raise UsageError(
                "--certificate-chain goes with --certificate (the signing certificate)"
            )
        for path in (self.private_key, self.certificate, *self.certificate_chain):
            if path is not None and not path.is_file():
                raise InputError("no such file", where=str(path))

    def password(self) -> str | None:
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise UsageError(f"--password-env {self.password_env}: that variable is not set")
        return value


@dataclass(frozen=True)
class TrustAnchor:
    """What a verification trusts: exactly one of a public key, a certificate chain, or a
    Sigstore identity with its issuer."""

    public_key: Path | None = None
    certificate_chain: tuple[Path, ...] = field(default_factory=tuple)
    identity: str | None = None
    issuer: str | None = None
    use_staging: bool = False

    @property
    def method(self) -> Method:
        if self.identity is not None:
            return "sigstore"
        return "certificate" if self.certificate_chain else "key"

    def check(self) -> None:
        chosen = [
            self.public_key is not None,
            bool(self.certificate_chain),
            self.identity is not None or self.issuer is not None,
        ]
        if sum(chosen) != 1:
            raise UsageError(
                "say whom to trust, once: --key PUBLIC.pem, --certificate-chain ROOT.pem, or "
                "--identity ID --issuer URL (a keyless Sigstore signer)"
            )
        if (self.identity is None) != (self.issuer is None):
            raise UsageError(
                "--identity and --issuer go together (in GitHub Actions the issuer is "
                f"{GITHUB_ISSUER})"
            )
        for path in (self.public_key, *self.certificate_chain):
            if path is not None and not path.is_file():
                raise InputError("no such file", where=str(path))


def make_signer(material: SigningMaterial) -> Signer:
    """A model-signing signer; unusable keys are an InputError (exit 2) naming the file."""
    material.check()
    if material.sigstore:
        from model_signing._signing import sign_sigstore

        return sign_sigstore.Signer(use_ambient_credentials=True, use_staging=material.use_staging)
    assert material.private_key is not None
    try:
        if material.certificate is not None:
            from model_signing._signing import sign_certificate

            return sign_certificate.Signer(
                material.private_key, material.certificate, list(material.certificate_chain)
            )
        from model_signing._signing import sign_ec_key

        return sign_ec_key.Signer(material.private_key, material.password())
    except (ValueError, TypeError) as error:
        raise InputError(
            f"cannot sign with this key: {error}",
            where=str(material.private_key),
            fix="give an unencrypted PEM EC private key (P-256, P-384 or P-521), or its "
            "password with --password-env VAR",
        ) from None


def make_verifier(anchor: TrustAnchor) -> Verifier:
    anchor.check()
    if anchor.method == "sigstore":
        from model_signing._signing import sign_sigstore

        assert anchor.identity is not None and anchor.issuer is not None
        try:  # fetches Sigstore's trust root (TUF) over the network
            return sign_sigstore.Verifier(
                identity=anchor.identity, oidc_issuer=anchor.issuer, use_staging=anchor.use_staging
            )
        except Exception as error:
            raise HubError(
                f"cannot load Sigstore's trust root: {type(error).__name__}: {error}",
                fix="keyless verification needs Sigstore's TUF repository "
                "(tuf-repo-cdn.sigstore.dev); check the network or proxy",
            ) from None
    try:
        if anchor.method == "certificate":
            from model_signing._signing import sign_certificate

            return sign_certificate.Verifier(list(anchor.certificate_chain))
        from model_signing._signing import sign_ec_key

        assert anchor.public_key is not None
        return sign_ec_key.Verifier(anchor.public_key)
    except ValueError as error:
        where = anchor.public_key or anchor.certificate_chain[0]
        raise InputError(
            f"cannot verify with this file: {error}",
            where=str(where),
            fix="give a PEM EC public key (--key) or PEM certificates (--certificate-chain)",
        ) from None


def parse_signature(data: bytes, method: Method) -> Signature:
    """A signature file's bundle (not yet verified). Raises ValueError when unreadable."""
    import json
    import tempfile

    try:
        json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON ({error})") from None
    with tempfile.TemporaryDirectory(prefix="publisher-sig-") as tmp:
        path = Path(tmp) / "model.sig"
        path.write_bytes(data)
        try:
            if method == "sigstore":
                from model_signing._signing import sign_sigstore

                return sign_sigstore.Signature.read(path)
            from model_signing._signing import sign_sigstore_pb

            return sign_sigstore_pb.Signature.read(path)
        except Exception as error:  # the parsers raise KeyError, TypeError, ValueError...
            raise ValueError(
                f"not a model-signing bundle ({type(error).__name__}: {error})"
            ) from None


def signature_bytes(signature: Signature) -> bytes:
    """The signature file's content, as model-signing writes it."""
    bundle = signature.bundle  # type: ignore[attr-defined]
    return str(bundle.to_json()).encode("utf-8")
