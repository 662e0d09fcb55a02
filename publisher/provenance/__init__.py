"""Signed provenance: sign what is published and verify it, locally or from the Hub's metadata.

The signature is an OpenSSF model-signing bundle (`model.sig`, made with the `model-signing`
package): an in-toto statement listing every published file with the SHA-256 of the whole
file. A whole-file SHA-256 is what the Hub names an LFS object by, so a repository on the Hub
is verified from its file listing (`lfs.oid`) without a weight byte being downloaded.

`model_signing` is imported only inside signing and verification (it pulls in sigstore,
cryptography and protobuf), so the CLI's other commands start as fast as before.
"""
