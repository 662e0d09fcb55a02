"""Signing inside a push: sign exactly the files the push publishes (the generated card and
audit manifest included, by the digests the push already computed) and publish `model.sig`
in the same commit.

Signatures are not deterministic (ECDSA, Sigstore certificates), so a re-push of unchanged
files keeps the signature already on the Hub when it signs exactly these digests and verifies
with the same key or certificate: an unchanged re-push stays a no-op.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from publisher.card.verify_facts import GITHUB_ISSUER, CardSigner
from publisher.hub.plan import LocalFile, Plan, Skipped
from publisher.provenance.identity import signed_statement_digests
from publisher.provenance.keys import SigningMaterial
from publisher.provenance.manifest import SIGNATURE_FILE, is_ignored


@dataclass(frozen=True)
class PushSignature:
    data: bytes
    signer: str
    reused: bool
    signed_files: int


def github_workflow_identity() -> str | None:
    """The identity Fulcio certifies for this GitHub Actions job (its workflow file at the
    ref), or None outside GitHub Actions."""
    ref = os.environ.get("GITHUB_WORKFLOW_REF")
    if os.environ.get("GITHUB_ACTIONS") != "true" or not ref:
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return f"{server}/{ref}"


def card_signer(material: SigningMaterial, revision: str | None) -> CardSigner:
    """Who the card's verify command names, known before signing."""
    if material.sigstore:
        identity = github_workflow_identity()
        return CardSigner(identity=identity, issuer=GITHUB_ISSUER if identity else None,
                          revision=revision)  # fmt: skip
    return CardSigner(key_fingerprint=_public_key_fingerprint(material), revision=revision)


def signed_set(files: Mapping[str, str]) -> dict[str, str]:
    """What a signature covers of {repo path: sha256}: all but model.sig and git files."""
    return {path: sha for path, sha in files.items() if not is_ignored(path)}


def sign_push(
    files: Mapping[str, str],
    material: SigningMaterial,
    model_name: str,
    remote_signature: Callable[[], bytes | None],
) -> PushSignature:
    """The signature to publish with these files: the remote one when it already signs them
    with this key, else a new one."""
    from publisher.provenance.identity import describe_signer
    from publisher.provenance.sign import sign_digests

    digests = signed_set(files)
    existing = remote_signature()
    if existing is not None and _still_valid(existing, digests, material):
        return PushSignature(existing, describe_signer(existing), True, len(digests))
    result = sign_digests(digests, material, model_name)
    return PushSignature(result.signature, result.signer, False, len(digests))


def _still_valid(data: bytes, digests: Mapping[str, str], material: SigningMaterial) -> bool:
    """Whether `data` signs exactly `digests` and verifies with material's public key (a
    keyless signature is never reused: the identity of the next one is not known here)."""
    if material.sigstore or material.private_key is None:
        return False
    if signed_statement_digests(data) != dict(digests):
        return False
    try:
        return _same_certificate(data, material) and _verifies_with_own_key(data, material)
    except Exception:  # anything unreadable: sign afresh
        return False


def _same_certificate(data: bytes, material: SigningMaterial) -> bool:
    """For certificate signing: the signature carries this very signing certificate."""
    if material.certificate is None:
        return True
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    chain = json.loads(data)["verificationMaterial"]["x509CertificateChain"]["certificates"]
    ours = x509.load_pem_x509_certificate(material.certificate.read_bytes())
    return base64.b64decode(chain[0]["rawBytes"]) == ours.public_bytes(serialization.Encoding.DER)


def _public_key(material: SigningMaterial):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    assert material.private_key is not None
    password = material.password()
    key = serialization.load_pem_private_key(
        material.private_key.read_bytes(), password.encode() if password else None
    )
    return key.public_key()


def _public_key_fingerprint(material: SigningMaterial) -> str | None:
    from cryptography.hazmat.primitives import serialization

    try:
        pem = _public_key(material).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError, OSError):
        return None  # the signer reports an unusable key when it signs
    return hashlib.sha256(pem).hexdigest()


def _verifies_with_own_key(data: bytes, material: SigningMaterial) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec
    from model_signing._signing.sign_ec_key import get_ec_key_hash
    from model_signing._signing.sign_sigstore_pb import pae

    public_key = _public_key(material)
    envelope = json.loads(data)["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"])
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    try:
        public_key.verify(signature, pae(payload), ec.ECDSA(get_ec_key_hash(public_key)))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class SignedPush:
    """What signing adds to a push: the files to publish (model.sig among them), why a local
    model.sig was left out, and notes for the person pushing."""

    files: list[LocalFile]
    skipped: list[Skipped]
    signature: PushSignature
    notes: list[str]


def sign_push_files(
    files: list[LocalFile],
    plan: Plan,
    material: SigningMaterial,
    model_name: str,
    download: Callable[[str], bytes],
) -> SignedPush:
    """Sign the files a push publishes plus the remote files it keeps (a verifier checks every
    file of the revision): kept LFS files by the SHA-256 the Hub lists, kept regular files
    fetched and hashed. `plan` is the push's plan without a signature; `download(path)` reads
    a remote file at the plan's head."""
    from publisher.hub.hashcache import digest_bytes

    skipped = [Skipped(f.path, "replaced by the signature of this push") for f in files
               if f.path == SIGNATURE_FILE]  # fmt: skip
    files = [f for f in files if f.path != SIGNATURE_FILE]
    digests = {f.path: f.sha256 for f in files}
    kept = [path for path in plan.kept if not is_ignored(path)]
    for path in kept:
        remote = plan.remote.files[path]
        digests[path] = remote.sha256 or hashlib.sha256(download(path)).hexdigest()
    notes = []
    if kept:
        notes.append(
            f"the signature also covers {len(kept)} file(s) kept on the Hub, by their Hub "
            f"digests: {', '.join(sorted(kept))}"
        )
    has_remote = SIGNATURE_FILE in plan.remote.files and plan.remote.head is not None
    signature = sign_push(
        digests, material, model_name, lambda: download(SIGNATURE_FILE) if has_remote else None
    )
    digest = digest_bytes(signature.data)
    local = LocalFile(
        SIGNATURE_FILE, digest.size, digest.sha256, digest.git_sha1, signature.data[:512],
        content=signature.data, origin="generated",
    )  # fmt: skip
    return SignedPush([*files, local], skipped, signature, notes)
