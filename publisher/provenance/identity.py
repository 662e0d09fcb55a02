"""Who made a signature, read from the signature file itself (shown in reports and the
release summary; trust comes from verification, not from this text)."""

from __future__ import annotations

import base64
import json
from typing import Any

# Fulcio's certificate extensions for the OIDC issuer: v2 (DER UTF8String), v1 (raw string).
_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"


def describe_signer(data: bytes) -> str:
    """`sigstore <identity> (issuer <url>)`, `certificate <subject>` or `public key
    sha256:<fingerprint>`; `unknown` when the file says nothing readable."""
    try:
        material = json.loads(data).get("verificationMaterial") or {}
    except (ValueError, AttributeError):
        return "unknown"
    try:
        if "certificate" in material:
            return _sigstore(_der(material["certificate"]))
        chain = (material.get("x509CertificateChain") or {}).get("certificates") or []
        if chain:
            return f"certificate {_subject(_der(chain[0]))}"
        hint = (material.get("publicKey") or {}).get("hint")
        if hint:
            return f"public key sha256:{hint}"
    except (ValueError, KeyError, TypeError):
        pass
    return "unknown"


def _der(item: dict[str, Any]) -> bytes:
    return base64.b64decode(item["rawBytes"])


def _subject(der: bytes) -> str:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def sigstore_identity(der: bytes) -> tuple[str, str | None]:
    """(identity, issuer) of a Fulcio certificate: its SAN (a workflow URI in GitHub
    Actions, an email for a person) and the OIDC issuer extension."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    identity = ""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.UniformResourceIdentifier) or san.get_values_for_type(
            x509.RFC822Name
        )
        identity = names[0] if names else ""
    except x509.ExtensionNotFound:
        pass
    issuer = None
    for ext in cert.extensions:
        if ext.oid.dotted_string in (_ISSUER_V2, _ISSUER_V1):
            raw = ext.value.value  # UnrecognizedExtension bytes
            issuer = _utf8_string(raw) if ext.oid.dotted_string == _ISSUER_V2 else raw.decode()
            break
    return identity, issuer


def _sigstore(der: bytes) -> str:
    identity, issuer = sigstore_identity(der)
    return f"sigstore {identity or '?'}" + (f" (issuer {issuer})" if issuer else "")


def _utf8_string(raw: bytes) -> str:
    """The text of a DER UTF8String (tag 0x0c, short or long length)."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return raw.decode(errors="replace")
    length, offset = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(raw[2 : 2 + count], "big"), 2 + count
    return raw[offset : offset + length].decode(errors="replace")


def signed_statement_digests(data: bytes) -> dict[str, str] | None:
    """{path: sha256} a signature file claims, read WITHOUT verifying it (a push uses it only
    to tell whether re-signing would change anything); None when unreadable."""
    try:
        bundle = json.loads(data)
        payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        resources = payload["predicate"]["resources"]
        return {r["name"]: r["digest"] for r in resources if r["algorithm"] == "sha256"}
    except (ValueError, KeyError, TypeError):
        return None


def signature_method(data: bytes) -> str | None:
    """ "key", "certificate" or "sigstore": how a signature file says it was made (None when
    it says nothing readable)."""
    try:
        material = json.loads(data).get("verificationMaterial") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(material, dict):
        return None
    if "certificate" in material:
        return "sigstore"
    if "x509CertificateChain" in material:
        return "certificate"
    return "key" if "publicKey" in material else None
