"""What a person reads after a push or a dry run: the plan, the outcome, the tag, the figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.hub.plan import human_bytes, render_plan_text
from publisher.report import render_text

if TYPE_CHECKING:
    from publisher.hub.push_types import PushResult


def render_result(result: PushResult) -> str:
    """What a person reads after a push (or a dry run)."""
    plan = result.plan
    assert plan is not None
    text = render_text(result.findings) if result.findings else ""
    if result.status == "dry-run":
        text += render_plan_text(plan, all_files=True) + _dry_run_pr_line(result)
        text += "dry run: nothing was sent\n"
    elif result.status == "already-proposed":
        text += _already_proposed(result)
    elif result.status == "up-to-date":
        head = (plan.remote.head or "")[:7]
        text += (
            f"up to date: 0 files changed ({plan.remote.repo_id}@{plan.remote.revision} {head})\n"
        )
    else:
        text += render_plan_text(plan, all_files=False) + _outcome(result)
    text += _tag_line(result) + "".join(f"note: {n}\n" for n in result.notes)
    return text + _stats_line(result)


def _dry_run_pr_line(result: PushResult) -> str:
    """What a dry run with --create-pr would do about pull requests."""
    assert result.plan is not None
    pull_request, action = result.pull_request, result.pr_action
    if action == "open":
        return f"would open a pull request against {result.plan.remote.revision}\n"
    if pull_request is None:
        return ""
    what = "already proposed in" if action == "reuse" else "would add a commit to"
    return f"{what} pull request #{pull_request.num}\n  {pull_request.url}\n"


def _already_proposed(result: PushResult) -> str:
    assert result.plan is not None and result.pull_request is not None
    remote, pull_request = result.plan.remote, result.pull_request
    head = (remote.head or "")[:7]
    return (
        f"already proposed in pull request #{pull_request.num}: 0 files changed "
        f"({remote.repo_id}@{remote.revision} {head})\n  {pull_request.url}\n"
    )


def _outcome(result: PushResult) -> str:
    assert result.plan is not None and result.commit is not None
    remote = result.plan.remote
    changed = len(result.plan.changes) + len(result.plan.deletions)
    pull_request = result.pull_request
    if pull_request is not None and result.pr_action == "update":
        return (
            f"updated pull request #{pull_request.num}: committed {result.commit[:7]} to "
            f"{remote.revision}, {changed} change(s)\n  {pull_request.url}\n"
        )
    if pull_request is not None:
        num, url = pull_request.num, pull_request.url
        return f"opened pull request #{num} with {changed} change(s): {url}\n"
    where = f"{remote.repo_id}@{remote.revision}"
    created = " (new repository)" if result.created_repo else ""
    return f"committed {result.commit[:7]} to {where}{created}: {changed} change(s)\n  {result.commit_url}\n"


def _tag_line(result: PushResult) -> str:
    if not result.tag:
        return ""
    if result.tag_state == "present":
        return f"tag {result.tag} already on this commit\n"
    return f"tagged {result.tag}\n"


def _stats_line(result: PushResult) -> str:
    stats = result.hash_stats
    line = f"hashed {human_bytes(stats.hashed_bytes)} ({stats.hashed_files} file(s) read, "
    line += f"{stats.cached_files} from the cache)"
    if result.uploaded_bytes is not None and result.status != "dry-run":
        line += f"; uploaded {human_bytes(result.uploaded_bytes)} of LFS data"
    return line + "\n"
