"""Verify a signature and compare what it signed with the files actually there: a local folder
here, a Hub repository in remote.py. Every difference is a finding naming the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.findings import Finding, Location, has_errors
from publisher.provenance import codes
from publisher.provenance.identity import describe_signer, signature_method
from publisher.provenance.keys import TrustAnchor, make_verifier, parse_signature
from publisher.provenance.manifest import (
    IGNORED,
    SIGNATURE_FILE,
    every_file,
    hash_folder_files,
    is_ignored,
    serialization_problem,
    signed_digests,
)


@dataclass
class Verification:
    """What a verification found. `ok` only when the signature verified and every file
    matched."""

    target: str
    findings: list[Finding] = field(default_factory=list)
    signer: str | None = None
    files: int = 0
    signed: int = 0
    revision: str | None = None
    commit: str | None = None
    downloaded_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "verified": self.ok,
            "signer": self.signer,
            "revision": self.revision,
            "commit": self.commit,
            "files": self.files,
            "signed_files": self.signed,
            "downloaded_bytes": self.downloaded_bytes,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class SignedFiles:
    digests: dict[str, str]
    ignored: tuple[str, ...]


def check_signature(
    data: bytes, anchor: TrustAnchor, where: str
) -> tuple[SignedFiles | None, list[Finding]]:
    """The files a signature signs, when it verifies against `anchor`; else a finding."""
    anchor.check()
    location = Location(file=where)
    made_with = signature_method(data)
    if made_with is not None and made_with != anchor.method:
        option = _OPTION[made_with]
        message = f"the signature was made with {_KIND[made_with]}: verify it with {option}"
        return None, [Finding(codes.BAD_SIGNATURE, message, location)]
    verifier = make_verifier(anchor)  # keyless: loads Sigstore's trust root (network)
    try:
        signature = parse_signature(data, anchor.method)
    except ValueError as error:
        return None, [Finding(codes.UNREADABLE, f"unreadable signature: {error}", location)]
    try:
        manifest = verifier.verify(signature)
    except Exception as error:  # every way a check fails: bad bytes, wrong key, broken chain
        reason = str(error) or type(error).__name__
        message = f"the signature does not verify ({_trusted(anchor)}): {reason}"
        return None, [Finding(codes.BAD_SIGNATURE, message, location)]
    parameters = manifest.serialization_type
    problem = serialization_problem(parameters)
    if problem is not None:
        return None, [
            Finding(codes.UNREADABLE, f"cannot check this signature: {problem}", location)
        ]
    ignored = tuple(str(p) for p in parameters.get("ignore_paths", ())) or IGNORED
    return SignedFiles(signed_digests(manifest), (*ignored, SIGNATURE_FILE)), []


_KIND = {"key": "a key", "certificate": "a certificate chain", "sigstore": "Sigstore (keyless)"}
_OPTION = {
    "key": "--key PUBLIC.pem",
    "certificate": "--certificate-chain ROOT.pem",
    "sigstore": "--identity ID --issuer URL",
}


def _trusted(anchor: TrustAnchor) -> str:
    if anchor.method == "sigstore":
        return f"trusting identity {anchor.identity} from {anchor.issuer}"
    if anchor.method == "certificate":
        return "trusting " + ", ".join(str(p) for p in anchor.certificate_chain)
    return f"trusting {anchor.public_key}"


def compare(signed: SignedFiles, actual: Mapping[str, str], file_prefix: str = "") -> list[Finding]:
    """Changed, added and missing files, each named (paths as in the repository)."""
    findings: list[Finding] = []
    present = {p: d for p, d in actual.items() if not is_ignored(p, signed.ignored)}
    for path in sorted(set(present) | set(signed.digests)):
        location = Location(file=file_prefix + path)
        want, have = signed.digests.get(path), present.get(path)
        if want is None:
            findings.append(
                Finding(codes.ADDED, f"{path} is not covered by the signature (added)", location)
            )
        elif have is None:
            findings.append(Finding(codes.MISSING, f"{path} is signed but missing", location))
        elif want != have:
            findings.append(
                Finding(
                    codes.CHANGED,
                    f"{path} changed: sha256 {have[:12]}…, signed {want[:12]}…",
                    location,
                )
            )
    return findings


def verify_folder(folder: Path, anchor: TrustAnchor) -> Verification:
    """Verify `folder/model.sig` and every file in the folder (a file the signature does not
    cover is reported, even one a push would not publish: it is there, unsigned)."""
    from publisher.errors import InputError

    anchor.check()
    if not folder.is_dir():
        raise InputError("not a folder", where=str(folder))
    result = Verification(str(folder))
    sig_path = folder / SIGNATURE_FILE
    prefix = f"{folder}/"
    if not sig_path.is_file():
        result.findings.append(
            Finding(
                codes.NO_SIGNATURE,
                f"no {SIGNATURE_FILE} in the folder",
                Location(file=prefix + SIGNATURE_FILE),
            )
        )
        return result
    data = sig_path.read_bytes()
    result.signer = describe_signer(data)
    signed, result.findings = check_signature(data, anchor, prefix + SIGNATURE_FILE)
    if signed is None:
        return result
    actual = hash_folder_files(every_file(folder))
    result.files, result.signed = len(actual), len(signed.digests)
    result.findings += compare(signed, actual, prefix)
    return result
