"""The precision map a push publishes beside the weights: `precision_map.svg`, drawn from the
checkpoint's own audit (its headers, never the spec), and the alt text the card gives it. The
checkpoint is a local folder, or the weights already on the Hub (read by range requests)."""

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


def precision_map_on_hub(
    repo_id: str,
    revision: str | None,
    title: str,
    *,
    token: str | None = None,
    endpoint: str | None = None,
) -> tuple[PublishedMap, int, int]:
    """The map of the weights already on the Hub, with their (total bytes, safetensors files).
    Raises CheckpointError when the revision holds no weights, HubError when the Hub fails."""
    from publisher.checkpoint.audit import audit_inventory
    from publisher.hub.remote import read_remote_checkpoint

    inventory, _stats = read_remote_checkpoint(repo_id, revision, token=token, endpoint=endpoint)
    view = build_map(audit_inventory(inventory), title=title)
    sizes = [shard.file_size for shard in inventory.shards.values()]
    return PublishedMap(MAP_FILE, draw_svg(view).encode(), view.summary()), sum(sizes), len(sizes)
