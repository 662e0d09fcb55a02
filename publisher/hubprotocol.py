"""The Hub's upload rules, shared by the push client (hub/) and the local Hub (localhub/).

Which files go through LFS, and which a .gitignore leaves out: LFS for paths matching a `filter=lfs` pattern of the revision's .gitattributes (a new repository
gets the Hub's default one), for files of LFS_SIZE_THRESHOLD or more, and for binary content.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

# Files of this size or larger must go through LFS; a regular (inline) file this big is refused.
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
# The .gitattributes the Hub puts in the first commit of a new repository.
DEFAULT_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
    "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
    "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
    "*.zst", "*tfevents*",
)  # fmt: skip
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in DEFAULT_LFS_PATTERNS
).encode()


def lfs_patterns(gitattributes: bytes | None) -> list[str]:
    """The patterns a .gitattributes routes to LFS (the Hub default when there is none)."""
    if gitattributes is None:
        return list(DEFAULT_LFS_PATTERNS)
    patterns = []
    for line in gitattributes.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def matches_pattern(path: str, pattern: str) -> bool:
    """gitattributes/gitignore matching, simplified: no '/' matches the basename, else the path."""
    pattern = pattern.lstrip("/")
    if "/" not in pattern.rstrip("/"):
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.replace("**/", "*").replace("/**", "/*"))


def upload_mode(path: str, size: int, sample: bytes, patterns: Iterable[str]) -> str:
    """'lfs' for files matching an LFS pattern, of LFS_SIZE_THRESHOLD bytes or more, or binary."""
    if size >= LFS_SIZE_THRESHOLD or b"\0" in sample:
        return "lfs"
    return "lfs" if any(matches_pattern(path, pattern) for pattern in patterns) else "regular"


def is_ignored(path: str, gitignore: str | None) -> bool:
    """Whether a .gitignore ignores `path` (no negation; a pattern may name a parent folder)."""
    if not gitignore:
        return False
    candidates = [path] + ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/"))]
    for line in gitignore.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        if any(matches_pattern(candidate, pattern.rstrip("/")) for candidate in candidates):
            return True
    return False
