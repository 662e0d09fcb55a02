"""Sign what is published: every file of a folder a push would send (or the files of a push
itself), one whole-file SHA-256 each, in an OpenSSF model-signing bundle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from publisher.errors import HubError, InputError
from publisher.provenance.identity import describe_signer
from publisher.provenance.keys import SigningMaterial, make_signer, signature_bytes
from publisher.provenance.manifest import (
    SIGNATURE_FILE,
    build_manifest,
    hash_folder_files,
    is_ignored,
)


@dataclass(frozen=True)
class SignResult:
    signature: bytes
    digests: dict[str, str]
    signer: str
    path: Path | None = None
    not_signed: tuple[tuple[str, str], ...] = ()  # (path, why): files a push would not publish


def folder_files(folder: Path) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """(repo path, file) of every file a push of `folder` would publish, without the
    signature and the git files model-signing leaves out; and (path, why) of the rest."""
    from publisher.hub.plan import collect_folder

    found, skipped = collect_folder(folder)
    files = [(rel, path) for rel, path in found if not is_ignored(rel)]
    rest = [(s.path, s.reason) for s in skipped if not is_ignored(s.path.rstrip("/"))]
    return files, rest


def sign_digests(
    digests: Mapping[str, str], material: SigningMaterial, model_name: str
) -> SignResult:
    """Sign {repo path: sha256}; returns the signature file's bytes."""
    from model_signing._signing.signing import Payload

    signer = make_signer(material)
    payload = Payload(build_manifest(digests, model_name))
    try:
        signature = signer.sign(payload)
    except Exception as error:  # Sigstore: no OIDC token, Fulcio or Rekor unreachable...
        if material.sigstore:
            raise HubError(
                f"keyless signing failed: {type(error).__name__}: {error}",
                fix="in GitHub Actions give the job `permissions: id-token: write`; elsewhere "
                "sign in through the browser, or sign with --key",
            ) from None
        raise
    data = signature_bytes(signature)
    return SignResult(data, dict(digests), describe_signer(data))


def sign_folder(folder: Path, material: SigningMaterial, output: Path | None = None) -> SignResult:
    """Sign every file of `folder` that a push would publish and write the signature (by
    default `folder/model.sig`, replaced atomically)."""
    material.check()
    files, rest = folder_files(folder)
    if not files:
        raise InputError("no files to sign", where=str(folder))
    name = folder.resolve().name
    result = sign_digests(hash_folder_files(files), material, name)
    target = output or folder / SIGNATURE_FILE
    _write_atomically(target, result.signature)
    return SignResult(result.signature, result.digests, result.signer, target, tuple(rest))


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` through a fresh temporary file beside it (O_EXCL: a planted link
    cannot redirect the write)."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
