"""The card's "Verify this model" section: the exact `publisher verify` command.

When the card is rendered for a signed publish (push --sign, the release run), the signer is
known and the command names it: a keyless release's workflow identity and issuer, or the
fingerprint of the public key. Otherwise the command shows where the signer goes.
"""

from __future__ import annotations

from dataclasses import dataclass

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class CardSigner:
    """Who signs the publish this card is rendered for."""

    identity: str | None = None  # keyless (Sigstore): e.g. the release workflow's URL
    issuer: str | None = None
    key_fingerprint: str | None = None  # key signing: sha256 of the public key PEM
    revision: str | None = None  # the Hub tag the release puts on the commit


@dataclass(frozen=True)
class VerifyView:
    command: str
    note: str


def verify_view(repo_id: str, signer: CardSigner | None) -> VerifyView:
    if signer is not None and signer.identity:
        target = f"{repo_id}@{signer.revision}" if signer.revision else repo_id
        issuer = signer.issuer or GITHUB_ISSUER
        return VerifyView(
            f"publisher verify {target} --identity {signer.identity} --issuer {issuer}",
            "The identity is the release workflow that signed this revision, keylessly (Sigstore).",
        )
    if signer is not None and signer.key_fingerprint:
        target = f"{repo_id}@{signer.revision}" if signer.revision else repo_id
        return VerifyView(
            f"publisher verify {target} --key PUBLIC_KEY.pem",
            f"PUBLIC_KEY.pem is the publisher's public key, sha256 `{signer.key_fingerprint}`.",
        )
    return VerifyView(
        f"publisher verify {repo_id} --identity SIGNER --issuer {GITHUB_ISSUER}",
        "SIGNER is the identity of the release workflow that signed the files, named in the "
        "release's summary (for a key-signed release, use `--key PUBLIC_KEY.pem` instead).",
    )
