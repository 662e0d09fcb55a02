"""The signed file list: repository paths and the SHA-256 of each whole file.

A manifest built here is byte for byte what `model_signing`'s own file serialization makes of
the same folder (method "files", sha256, the signature file and git paths ignored), so a
signature made by publisher verifies with the `model_signing` CLI too, and the other way
round.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_signing.manifest import Manifest

SIGNATURE_FILE = "model.sig"
"""model-signing's default name for the signature, published beside the files it covers."""

GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
"""What model-signing leaves out by default: the Hub writes `.gitattributes` itself."""

IGNORED = (SIGNATURE_FILE, *GIT_PATHS)

LOCAL_ONLY_DIRS = frozenset({".cache", ".huggingface", "__pycache__", ".ipynb_checkpoints"})
"""Folders of local tools (huggingface_hub's download metadata, caches): never in a repository,
so a folder's verification leaves them out."""
_CHUNK = 8 * 1024 * 1024


def is_ignored(path: str, ignored: Iterable[str] = IGNORED) -> bool:
    """Whether a repository path is left out of the signature (the path or a folder of it)."""
    pure = PurePosixPath(path)
    return any(pure.is_relative_to(i) for i in ignored)


def build_manifest(digests: Mapping[str, str], model_name: str) -> Manifest:
    """The model-signing manifest of `digests` ({repo path: sha256 hex})."""
    from model_signing import manifest
    from model_signing._hashing.hashing import Digest

    serialization = manifest._FileSerialization("sha256", False, [Path(p) for p in IGNORED])
    items = [
        manifest.FileManifestItem(
            path=PurePosixPath(path), digest=Digest("sha256", bytes.fromhex(sha256))
        )
        for path, sha256 in sorted(digests.items())
    ]
    return manifest.Manifest(model_name, items, serialization)


def signed_digests(manifest: Manifest) -> dict[str, str]:
    """{path: sha256 hex} of a manifest read from a signature."""
    return {rd.identifier: rd.digest.digest_hex for rd in manifest.resource_descriptors()}


def serialization_problem(parameters: Mapping[str, Any]) -> str | None:
    """Why a signed manifest cannot be checked against whole-file SHA-256 digests, if so."""
    method, hash_type = parameters.get("method"), parameters.get("hash_type")
    if method == "files" and hash_type == "sha256":
        return None
    return (
        f"it was made with serialization {method!r} and hash {hash_type!r}; publisher checks "
        "whole-file SHA-256 digests (method 'files', hash 'sha256'), which the Hub reports "
        "for LFS files"
    )


def sha256_file(path: Path) -> str:
    """The SHA-256 of a whole file, read afresh (never from a cache: this is what is signed
    or verified)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_folder_files(files: Iterable[tuple[str, Path]]) -> dict[str, str]:
    """{repo path: sha256} of files, hashed in parallel (hashlib releases the GIL)."""
    pairs = list(files)
    workers = min(4, os.cpu_count() or 1, max(1, len(pairs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashes = list(pool.map(lambda pair: sha256_file(pair[1]), pairs))
    return {rel: sha for (rel, _), sha in zip(pairs, hashes, strict=True)}


def every_file(folder: Path) -> list[tuple[str, Path]]:
    """(repo path, file) of every file under `folder` that a signature speaks about: all but
    the signature, git files and local tool folders. Linked folders are not followed."""
    root = folder.resolve()
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in LOCAL_ONLY_DIRS
            and not (base / d).is_symlink()
            and not is_ignored(prefix + d)
        )
        for name in sorted(filenames):
            rel = prefix + name
            if not is_ignored(rel) and (base / name).is_file():
                found.append((rel, base / name))
    return found
