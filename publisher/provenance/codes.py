"""The finding codes of `publisher sign` and `publisher verify` (SIGN5xx)."""

from __future__ import annotations

CHANGED = "SIGN501"
ADDED = "SIGN502"
MISSING = "SIGN503"
BAD_SIGNATURE = "SIGN504"
NO_SIGNATURE = "SIGN505"
UNREADABLE = "SIGN506"

CODES: dict[str, str] = {
    CHANGED: "a file's SHA-256 differs from the one the signature holds for it",
    ADDED: "a file is not covered by the signature (added after signing)",
    MISSING: "a file the signature covers is absent",
    BAD_SIGNATURE: "the signature does not verify with the given key, certificate chain or identity",
    NO_SIGNATURE: "there is no signature file (model.sig) to verify",
    UNREADABLE: "the signature file is not an OpenSSF model-signing bundle with whole-file SHA-256 digests",
}
