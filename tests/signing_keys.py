"""Key material for the signing tests, generated afresh (nothing is downloaded or stored):
an EC key pair, and a certificate chain root CA → intermediate CA → signing certificate."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path


@dataclass(frozen=True)
class CertificateChain:
    key: Path  # the signing certificate's private key
    certificate: Path  # the signing (leaf) certificate
    intermediate: Path
    root: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def key_pair(folder: Path, name: str = "signing") -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    public = folder / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyPair(_write_key(key, folder / f"{name}.key.pem"), public)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def certificate_chain(folder: Path, name: str = "Publisher Test") -> CertificateChain:
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _certificate(f"{name} Root CA", root_key, None, ca=True)
    mid = _certificate(f"{name} Intermediate CA", mid_key, (f"{name} Root CA", root_key), ca=True)
    leaf = _certificate(f"{name} Signer", leaf_key, (f"{name} Intermediate CA", mid_key), ca=False)
    paths = {}
    for label, cert in (("root", root), ("intermediate", mid), ("signer", leaf)):
        paths[label] = folder / f"{name.replace(' ', '-').lower()}-{label}.crt"
        paths[label].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key = _write_key(leaf_key, folder / f"{name.replace(' ', '-').lower()}-signer.key.pem")
    return CertificateChain(key, paths["signer"], paths["intermediate"], paths["root"])
