"""Find mojibake: UTF-8 text that was decoded with a single-byte Windows code page.

`×` is the bytes C3 97 in UTF-8; read as cp1253 they show as `Γ—`, as cp1252 as `Ã—`. So a run
of characters that, encoded back with such a code page, forms one valid UTF-8 character is
almost certainly mojibake, and that character is what the author meant.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Tried in this order; the first that explains a run wins. latin-1 covers the C1 controls that
# strict cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
CODECS: tuple[str, ...] = ("cp1252", "cp1253", "cp1251", "cp1250", "cp1254", "cp1257", "latin-1")
_FALLBACKS: tuple[str, ...] = ("cp1252", "latin-1")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_LATIN_LEADS = frozenset("ÂÃÄÅ")
_REJECTED_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})


@dataclass(frozen=True)
class Mojibake:
    """One garbled sequence: where it starts (0-based column), what it shows, what was meant."""

    column: int
    garbled: str
    intended: str
    codec: str


def find_mojibake(line: str) -> list[Mojibake]:
    """Every mojibake sequence in one line of text, left to right."""
    found: list[Mojibake] = []
    for run in _NON_ASCII_RUN.finditer(line):
        found.extend(_scan_run(run.group(), run.start()))
    return found


def _scan_run(run: str, offset: int) -> list[Mojibake]:
    found: list[Mojibake] = []
    i = 0
    while i < len(run):
        hit = _match_at(run, i) or _truncated_at(run, i)
        if hit is None:
            i += 1
            continue
        length, intended, codec = hit
        found.append(Mojibake(offset + i, run[i : i + length], intended, codec))
        i += length
    return found


def _truncated_at(run: str, i: int) -> tuple[int, str, str] | None:
    """`â€` at the end of a run: the first two bytes of a 3-byte punctuation mark (U+2000-U+20FF)
    whose third byte was lost or turned into ASCII (e.g. `â€"` for an em dash). What was meant
    cannot be told, so `intended` is empty."""
    segment = run[i : i + 2]
    if len(segment) < 2 or i + 2 != len(run):
        return None
    for codec in CODECS:
        raw = b"".join(_encode_char(char, codec) or b"" for char in segment)
        if raw in (b"\xe2\x80", b"\xe2\x81", b"\xe2\x82", b"\xe2\x84", b"\xe2\x86"):
            return 2, "", codec
    return None


def _match_at(run: str, i: int) -> tuple[int, str, str] | None:
    """The longest sequence at `i` that re-encodes to a single UTF-8 character."""
    for length in (4, 3, 2):
        segment = run[i : i + length]
        if len(segment) < length:
            continue
        for codec in CODECS:
            intended = _redecode(segment, codec)
            if intended is not None and _plausible(segment, intended, codec):
                return length, intended, codec
    return None


def _redecode(segment: str, codec: str) -> str | None:
    """Encode `segment` with `codec` (per character, with fallbacks) and decode as one UTF-8 char."""
    raw = bytearray()
    for char in segment:
        encoded = _encode_char(char, codec)
        if encoded is None:
            return None
        raw += encoded
    if len(raw) != len(segment):
        return None
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if len(text) == 1 and not text.isascii() else None


def _encode_char(char: str, codec: str) -> bytes | None:
    for name in (codec, *_FALLBACKS):
        try:
            return char.encode(name)
        except UnicodeEncodeError:
            continue
    return None


def _plausible(segment: str, intended: str, codec: str) -> bool:
    """Reject decodings that are more likely real words than garbage (e.g. Cyrillic 'Пё')."""
    if unicodedata.category(intended) in _REJECTED_CATEGORIES:
        return False
    if all(char.isalpha() for char in segment):
        return codec in ("cp1252", "latin-1", "cp1250") and segment[0] in _LATIN_LEADS
    return True
