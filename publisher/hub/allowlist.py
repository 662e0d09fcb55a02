"""What a push may publish: the files a model repository holds, by what they are.

A file leaves the machine only when its path in the repository matches a row of `ALLOWED`,
when it is an image the card references, or when the user names it with `--include PATTERN`
(the plan shows each such file). Everything else is skipped and listed in the plan, so a
`.env`, a key or a notes file is never published because nobody thought to forbid it.

To admit a new kind of file, add one row to `ALLOWED`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Allowed:
    """One kind of file a model repository holds: a case-sensitive fnmatch pattern on its
    path in the repository (`*` does not cross `/`), and what it is."""

    pattern: str
    what: str


ALLOWED: tuple[Allowed, ...] = (
    # the card and what publisher generates beside it
    Allowed("README.md", "model card"),
    Allowed("quantization_audit.json", "audit manifest"),
    Allowed("precision_map.svg", "picture of the audit"),
    Allowed("model.sig", "model-signing signature"),
    # model and quantization configuration
    Allowed("config.json", "model config"),
    Allowed("generation_config.json", "generation config"),
    Allowed("hf_quant_config.json", "quantization config"),
    Allowed("quantization_config.json", "quantization config"),
    Allowed("recipe.yaml", "quantization recipe"),
    Allowed("preprocessor_config.json", "processor config"),
    Allowed("processor_config.json", "processor config"),
    Allowed("video_preprocessor_config.json", "processor config"),
    # tokenizer and chat template
    Allowed("tokenizer.json", "tokenizer"),
    Allowed("tokenizer_config.json", "tokenizer config"),
    Allowed("tokenizer.model", "tokenizer"),
    Allowed("special_tokens_map.json", "tokenizer"),
    Allowed("added_tokens.json", "tokenizer"),
    Allowed("vocab.json", "tokenizer"),
    Allowed("vocab.txt", "tokenizer"),
    Allowed("merges.txt", "tokenizer"),
    Allowed("spiece.model", "tokenizer"),
    Allowed("chat_template.jinja", "chat template"),
    Allowed("chat_template.json", "chat template"),
    # weights
    Allowed("*.safetensors", "safetensors weights"),
    Allowed("*.safetensors.index.json", "safetensors index"),
    # legal
    Allowed("LICENSE", "license"),
    Allowed("LICENSE.*", "license"),
    Allowed("LICENCE", "license"),
    Allowed("NOTICE", "notice"),
    Allowed("NOTICE.*", "notice"),
    Allowed("USE_POLICY.md", "use policy"),
    # the repository's own attributes (which files are LFS)
    Allowed(".gitattributes", "git attributes"),
)

# Never uploaded, whatever folder they are in and whatever --include says: VCS data, caches,
# and names that say "secret". A second barrier: the allowlist (allowlist.py) decides first.
NEVER_DIRS: dict[str, str] = {
    ".git": "git data",
    ".ssh": "SSH keys folder",
    ".aws": "cloud credentials folder",
    ".gnupg": "GnuPG keys folder",
    "__pycache__": "Python bytecode cache",
    ".cache": "cache folder",
    ".ipynb_checkpoints": "notebook checkpoints",
    ".huggingface": "huggingface_hub local metadata",
}
NEVER_NAMES: dict[str, str] = {
    ".env": "environment file (may hold secrets)",
    ".envrc": "environment file (may hold secrets)",
    ".netrc": "credentials file",
    "_netrc": "credentials file",
    ".npmrc": "credentials file",
    ".yarnrc": "credentials file",
    ".git-credentials": "credentials file",
    ".pypirc": "credentials file",
    ".ds_store": "macOS folder metadata",
    "authorized_keys": "SSH key list",
    "known_hosts": "SSH host list",
}
NEVER_PATTERNS: dict[str, str] = {
    ".env.*": "environment file (may hold secrets)",
    "id_rsa*": "SSH private key",
    "id_dsa*": "SSH private key",
    "id_ecdsa*": "SSH private key",
    "id_ed25519*": "SSH private key",
    "*.pem": "key or certificate",
    "*.key": "private key",
    "*.p12": "key store",
    "*.pfx": "key store",
    "*.pyc": "Python bytecode",
}
# A whole word of the name (so `hf_token`, `token.txt`, `api_key.txt`, but not
# `tokenizer.json` or `special_tokens_map.json`). Names are compared in lower case.
_SECRET_WORD = re.compile(
    r"(?:^|[^a-z0-9])(token|secrets?|credentials?|passwords?|keys?|apikey)(?:[^a-z0-9]|$)"
)


def never_upload_reason(name: str) -> str | None:
    """Why a file of this name must never be uploaded, or None (case-insensitive: `.ENV`
    and `ID_RSA` are what `.env` and `id_rsa` are)."""
    lower = name.lower()
    if lower in NEVER_NAMES:
        return NEVER_NAMES[lower]
    for pattern, reason in NEVER_PATTERNS.items():
        if fnmatch.fnmatchcase(lower, pattern):
            return reason
    if _SECRET_WORD.search(lower):
        return "looks like a credentials file"
    return None


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
"""Files the card may reference as pictures (published only when it does)."""

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def _match(path: str, pattern: str) -> bool:
    """`*` matches within one folder; everything else literally, case-sensitive."""
    regex = "[^/]*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, path) is not None


def allowed_kind(path: str) -> str | None:
    """What the file at this repository path is, if a model repository holds it."""
    return next((row.what for row in ALLOWED if _match(path, row.pattern)), None)


def included_by(path: str, include: Iterable[str]) -> str | None:
    """The first --include pattern that names this path (matched against the whole path,
    `*` crossing folders, as a user types it), or None."""
    return next((p for p in include if fnmatch.fnmatchcase(path, p)), None)


def card_images(card: str) -> frozenset[str]:
    """Repository paths of the pictures a card references (relative links only)."""
    found = set()
    for match in [*_MD_IMAGE.finditer(card), *_HTML_IMAGE.finditer(card)]:
        link = match.group(1).split("#", 1)[0].split("?", 1)[0]
        if not link or "://" in link or link.startswith(("/", "data:", "mailto:")):
            continue
        path = posixpath.normpath(link.removeprefix("./"))
        if path.startswith("../") or path == ".." or not path.lower().endswith(IMAGE_SUFFIXES):
            continue
        found.add(path)
    return frozenset(found)


NOT_ALLOWED = (
    "not a file a model repository holds (config, tokenizer, weights, card, license); "
    "--include PATTERN publishes it"
)
