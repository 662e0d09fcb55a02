"""One table of colours: every written precision (and 'absent') has one fill, one label.

A precision the table does not know yet (a format added later) still draws, in the fallback
grey, labelled with its own name in capitals.
"""

from __future__ import annotations

from typing import NamedTuple


class Swatch(NamedTuple):
    label: str
    fill: str
    ink: str  # text drawn on the fill


# Legend order: the quantized formats first, then the wider floats, then the rest.
PRECISIONS: dict[str, Swatch] = {
    "nvfp4": Swatch("NVFP4", "#1d4ed8", "#ffffff"),
    "mxfp4": Swatch("MXFP4", "#7c3aed", "#ffffff"),
    "fp8": Swatch("FP8", "#0f9d8f", "#ffffff"),
    "bf16": Swatch("BF16", "#f2a516", "#111827"),
    "f16": Swatch("F16", "#f97316", "#111827"),
    "f32": Swatch("F32", "#c2410c", "#ffffff"),
    "f64": Swatch("F64", "#7f1d1d", "#ffffff"),
    "unknown": Swatch("unknown", "#6b7280", "#ffffff"),
    "missing": Swatch("missing", "#e11d48", "#ffffff"),
}
ABSENT = Swatch("absent", "#f3f4f6", "#6b7280")
FALLBACK_FILL = "#9ca3af"
CHANGED_STROKE = "#db2777"
# Layer-kind strips, in order of first appearance: mixers in slate, feed-forward kinds in stone.
MIXER_FILLS = ("#cbd5e1", "#475569", "#94a3b8", "#0f172a")
FFN_FILLS = ("#a8a29e", "#57534e", "#d6d3d1", "#292524")


def swatch(precision: str) -> Swatch:
    """The swatch of a precision; an unknown one gets the fallback grey and its own name."""
    if precision == "absent":
        return ABSENT
    return PRECISIONS.get(precision) or Swatch(precision.upper(), FALLBACK_FILL, "#111827")


def css_class(precision: str) -> str:
    """A CSS class name for a precision (letters and digits only)."""
    return "p-" + "".join(ch for ch in precision.lower() if ch.isalnum())


def order_key(precision: str) -> tuple[int, str]:
    """Sort precisions as the legend lists them; unknown names after, alphabetically."""
    keys = list(PRECISIONS)
    return (keys.index(precision), "") if precision in PRECISIONS else (len(keys), precision)
