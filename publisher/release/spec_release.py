"""Release one spec: lint → render → validate (local checkpoint or the Hub's headers) → push."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from publisher import __version__
from publisher.errors import (
    HubError,
    PublisherError,
)
from publisher.findings import has_errors
from publisher.release.outcome import ReleaseOptions, SpecOutcome
from publisher.release.tags import ReleaseItem, relative

if TYPE_CHECKING:
    from publisher.checkpoint.validate import ValidationReport
    from publisher.hub.push_types import Progress
    from publisher.spec.loader import LoadedSpec


# ---- one spec -----------------------------------------------------------------------------


def local_checkpoint(item: ReleaseItem, root: Path, options: ReleaseOptions) -> Path | None:
    """`--checkpoint`, else `checkpoints/<spec-name>/` when it exists, else None (remote)."""
    if options.checkpoint is not None:
        return options.checkpoint
    folder = root / options.checkpoints_dir / item.name
    return folder if folder.is_dir() else None


def release_spec(
    item: ReleaseItem, root: Path, options: ReleaseOptions, progress: Progress | None = None
) -> SpecOutcome:
    """Check one spec and, when every check passes, push it (unless a dry run)."""
    outcome = SpecOutcome(item)
    try:
        _release_spec(outcome, root, options, progress)
    except HubError as error:
        outcome.status, outcome.error = "hub-error", str(error)
    except PublisherError as error:
        outcome.status, outcome.error = "unusable", str(error)
    return outcome


def _release_spec(
    outcome: SpecOutcome, root: Path, options: ReleaseOptions, progress: Progress | None
) -> None:
    from publisher import api

    item = outcome.item
    checkpoint = outcome.checkpoint = local_checkpoint(item, root, options)
    rendered = api.render_card(item.path, checkpoint)
    outcome.lint_findings = list(rendered.findings)
    outcome.findings += rendered.findings
    if rendered.spec is None or rendered.text is None or has_errors(rendered.findings):
        outcome.status = "unusable" if rendered.unusable else "blocked"
        return
    spec = rendered.spec
    outcome.card_lines = rendered.text.count("\n") + 1
    repo_id = outcome.repo_id = options.repo_id or spec.repo_id
    if checkpoint is not None:
        outcome.validation = api.validate(rendered.loaded, checkpoint)
        outcome.validation.checkpoint = relative(checkpoint, root)  # shown in the report
        outcome.validated = f"local checkpoint `{outcome.validation.checkpoint}`"
    else:
        outcome.validation, outcome.validated = validate_remote(rendered.loaded, repo_id, options)
    if outcome.validation is not None:
        outcome.findings += outcome.validation.findings
    if has_errors(outcome.findings):
        outcome.status = "blocked"
        return
    _push(outcome, checkpoint, repo_id, options, progress)


def validate_remote(
    loaded: LoadedSpec, repo_id: str, options: ReleaseOptions
) -> tuple[ValidationReport | None, str]:
    """Validate the weights already on the Hub (headers only), or say there are none yet."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    from publisher.hub.client import hub_errors, make_api
    from publisher.hub.remote_validation import validate_on_hub

    where = f"{repo_id}@{options.revision or 'main'}"
    api = make_api(options.token, options.endpoint)
    with hub_errors(f"reading {repo_id}", repo_id=repo_id, token=options.token):
        try:
            info = api.model_info(repo_id, revision=options.revision)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return None, f"no local checkpoint, and {where} does not exist yet: nothing validated"
    if not any(s.rfilename.endswith(".safetensors") for s in info.siblings or []):
        return None, f"no local checkpoint, and {where} has no weights yet: nothing validated"
    report, stats = validate_on_hub(
        loaded, repo_id, options.revision, token=options.token, endpoint=options.endpoint
    )
    return report, f"weights on the Hub `{where}` (headers, {stats.requests} requests)"


def _has_weights(outcome: SpecOutcome, checkpoint: Path | None) -> bool:
    """A local checkpoint, or weights on the Hub that were validated: a map can be drawn."""
    return checkpoint is not None or outcome.validation is not None


def _push(
    outcome: SpecOutcome,
    checkpoint: Path | None,
    repo_id: str,
    options: ReleaseOptions,
    progress: Progress | None,
) -> None:
    from publisher import api

    item = outcome.item
    tag = None if options.create_pr else item.hub_tag
    version = f" {item.hub_tag}" if item.hub_tag else ""
    result = api.push(
        item.path,
        checkpoint,
        repo_id=repo_id,
        revision=options.revision,
        create_pr=options.create_pr,
        private=options.private,
        tag=tag,
        message=f"Release {item.name}{version} (publisher {__version__})",
        dry_run=options.dry_run,
        token=options.token,
        endpoint=options.endpoint,
        progress=progress,
        precision_map=options.precision_map and _has_weights(outcome, checkpoint),
        signing=options.signing,
    )
    outcome.push = result
    if result.status == "blocked":  # the push's own gate disagreed: report what it found
        known = set(outcome.findings)
        outcome.findings += [f for f in result.findings if f not in known]
        outcome.status = "unusable" if result.unusable else "blocked"
    elif result.status == "dry-run":
        outcome.status = "dry-run"
    elif result.status == "up-to-date":
        outcome.status = "up-to-date"
    elif result.status == "already-proposed":
        outcome.status = "pr-already-open"
    elif result.pr_action == "update":
        outcome.status = "pr-updated"
    else:
        outcome.status = "pr-opened" if result.pr_url else "released"


# ---- the whole run ------------------------------------------------------------------------
