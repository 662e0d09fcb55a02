"""The open pull request that `push --create-pr` would otherwise open a second time.

publisher marks what it proposes: the description of every commit it makes, which the Hub
turns into the opening comment of a pull request made by that commit, names the spec and the
tool::

    Spec: Qwen3.5-2B-NVFP4.yaml
    Tool: publisher 0.4.0

A push with --create-pr considers only the open pull requests that carry this mark for its
spec and target its branch: a pull request someone else opened is never reused nor
committed to, even when it holds the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.community import DiscussionWithDetails

TOOL_LINE_PREFIX = "Tool: publisher "

# What a push with --create-pr does: open a pull request, commit to an open one of its own,
# or find that one of its own already proposes exactly these files.
PullRequestAction = Literal["open", "update", "reuse"]


@dataclass(frozen=True)
class PullRequest:
    """An open pull request: its number and its page on the Hub."""

    num: int
    url: str

    @property
    def ref(self) -> str:
        """The git ref that holds its commits (a push may commit there)."""
        return f"refs/pr/{self.num}"

    def to_json(self) -> dict[str, Any]:
        return {"num": self.num, "ref": self.ref, "url": self.url}


def commit_description(spec_name: str, tool: str, summary: str) -> str:
    """The description of a publisher commit: marks it, and a pull request it opens."""
    return "\n".join([_spec_line(spec_name), f"Tool: {tool}", summary])


def is_marked_for(text: str, spec_name: str) -> bool:
    """Whether a description says publisher wrote it for this spec."""
    lines = {line.strip() for line in text.splitlines()}
    return _spec_line(spec_name) in lines and any(
        line.startswith(TOOL_LINE_PREFIX) for line in lines
    )


def publisher_pull_requests(
    api: HfApi, repo_id: str, branch: str, spec_name: str
) -> list[PullRequest]:
    """The open pull requests publisher opened for this spec against `branch`, newest first.
    Reads only: one request for the list, one per open pull request for its details."""
    listed = api.get_repo_discussions(
        repo_id, discussion_type="pull_request", discussion_status="open"
    )
    found = []
    for item in listed:
        if not item.is_pull_request or item.status != "open":
            continue
        details = api.get_discussion_details(repo_id, item.num)
        if _target_branch(details) == branch and is_marked_for(_opening_text(details), spec_name):
            found.append(PullRequest(details.num, details.url))
    return sorted(found, key=lambda pr: pr.num, reverse=True)


def _spec_line(spec_name: str) -> str:
    return f"Spec: {spec_name}"


def _target_branch(details: DiscussionWithDetails) -> str | None:
    target = details.target_branch
    return target.removeprefix("refs/heads/") if target else None


def _opening_text(details: DiscussionWithDetails) -> str:
    """The pull request's description: its first comment."""
    from huggingface_hub.community import DiscussionComment

    first = next((e for e in details.events if isinstance(e, DiscussionComment)), None)
    return first.content if first is not None else ""
