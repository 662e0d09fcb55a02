"""Validate the checkpoint already on the Hub against a spec: its headers by range requests,
then the same derive → compare as a local folder (checkpoint.validate.validate_read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import UsageError

if TYPE_CHECKING:
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.remote import RemoteStats
    from publisher.spec.loader import LoadedSpec


def validate_on_hub(
    loaded: LoadedSpec,
    repo_id: str,
    revision: str | None = None,
    *,
    token: str | None = None,
    endpoint: str | None = None,
) -> tuple[ValidationReport, RemoteStats]:
    """The validation report of `repo_id`@`revision` against a loaded spec, and what reading
    the headers cost. Downloads no weights; raises HubError when the Hub fails."""
    from publisher.checkpoint.integrity import check_inventory
    from publisher.checkpoint.validate import validate_read
    from publisher.hub.remote import read_remote_checkpoint

    if loaded.spec is None:
        raise UsageError(f"{loaded.path} did not load; lint it first")
    inventory, stats = read_remote_checkpoint(repo_id, revision, token=token, endpoint=endpoint)
    report = validate_read(
        loaded.spec, inventory, check_inventory(inventory), spec_file=loaded.path.name
    )
    return report, stats
