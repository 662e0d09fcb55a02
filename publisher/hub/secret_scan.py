"""Token-like strings in the files a push is about to send: a hit stops the push.

Every small text file (under the Hub's 10 MiB LFS threshold, no NUL byte in its first 8 KiB)
is read line by line and matched against `SECRET_PATTERNS`: Hub tokens, cloud keys, private-key
headers. The finding names the file and the line, never the secret itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CODES: dict[str, str] = {
    "PUSH101": "a file to publish holds a token-like string (a Hub token, a cloud key, a private key)",
}

SCAN_LIMIT = 10 * 1024 * 1024
"""Files this big are stored in LFS and are weights, not text a person typed a key into."""
_BINARY_PROBE = 8192

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("a Hugging Face token", re.compile(rb"\bhf_[A-Za-z0-9]{30,}")),
    ("a Hugging Face API token", re.compile(rb"\bapi_org_[A-Za-z0-9]{30,}")),
    ("an AWS access key id", re.compile(rb"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    (
        "an AWS secret access key",
        re.compile(rb"(?i)aws_?secret_?access_?key\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}"),
    ),
    ("a Google API key", re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}")),
    (
        "a GitHub token",
        re.compile(rb"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    ),
    ("an OpenAI or Anthropic key", re.compile(rb"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{32,}")),
    ("a Slack token", re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    (
        "an Azure storage key",
        re.compile(rb"AccountKey=[A-Za-z0-9+/]{80,}={0,2}"),
    ),
)


@dataclass(frozen=True)
class SecretHit:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: looks like {self.kind}"


def is_text(data: bytes) -> bool:
    return b"\0" not in data[:_BINARY_PROBE]


def scan_bytes(path: str, data: bytes) -> list[SecretHit]:
    """Every token-like string in one file's bytes (one hit per line and kind)."""
    if len(data) >= SCAN_LIMIT or not is_text(data):
        return []
    hits = []
    for number, line in enumerate(data.splitlines(), start=1):
        hits += [SecretHit(path, number, kind) for kind, rx in SECRET_PATTERNS if rx.search(line)]
    return hits


def scan_files(files: Iterable[tuple[str, bytes]]) -> list[SecretHit]:
    """Hits in (repository path, content) pairs, in the order given."""
    hits: list[SecretHit] = []
    for path, data in files:
        hits += scan_bytes(path, data)
    return hits


def findings_for(hits: list[SecretHit], sources: dict[str, str]) -> list[Any]:
    """PUSH101 findings, one per hit: the file on disk (or the generated file's name) and the
    line, never the secret. `sources` maps repository paths to the files they come from."""
    from publisher.findings import Finding, Location

    return [
        Finding(
            "PUSH101",
            f"{hit.path}: line {hit.line} holds what looks like {hit.kind}; nothing was sent",
            Location(sources.get(hit.path, hit.path), hit.line, pointer=hit.path),
        )
        for hit in hits
    ]
