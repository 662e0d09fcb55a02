"""The precision map a push publishes beside the weights: `precision_map.svg`, drawn from the
checkpoint's own audit (its headers, never the spec), and the alt text the card gives it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from publisher.auditview.grid import build_map
from publisher.auditview.svg import MAP_FILE, draw_svg


@dataclass(frozen=True)
class PublishedMap:
    path: str  # relative to the repository root: the card links it as it is
    data: bytes
    alt: str


def precision_map_for(checkpoint: Path, title: str) -> PublishedMap:
    """Audit a local checkpoint folder and draw its map (the same bytes for the same files)."""
    from publisher.checkpoint.audit import audit_inventory
    from publisher.checkpoint.integrity import check_checkpoint

    inventory, _ = check_checkpoint(checkpoint)  # its findings are validation's to report
    view = build_map(audit_inventory(inventory), title=title)
    return PublishedMap(MAP_FILE, draw_svg(view).encode(), view.summary())
