"""The auditor's view: a precision map (SVG) and a self-contained HTML report, drawn from an
audit's result alone (never from a spec)."""

from publisher.auditview.grid import PrecisionMap, build_map
from publisher.auditview.svg import MAP_FILE, draw_svg

__all__ = ["MAP_FILE", "PrecisionMap", "build_map", "draw_svg"]
