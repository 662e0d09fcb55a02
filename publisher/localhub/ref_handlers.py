"""Local Hub handlers for branches, tags, discussions and pull requests."""

from __future__ import annotations

from typing import Any

from publisher.localhub.handler_base import HandlerBase
from publisher.localhub.messages import (
    RepoRef,
    Request,
    Response,
    json_response,
)
from publisher.localhub.records import (
    DEFAULT_BRANCH,
    Discussion,
    HubStateError,
    Repo,
)


class RefHandlers(HandlerBase):
    """Handlers for refs, discussions and pull requests."""

    def create_branch(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.create_branch(
            ref.type, ref.id, "/".join(rest), request.json().get("startingPoint")
        )
        return json_response({})

    def delete_branch(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.delete_branch(ref.type, ref.id, "/".join(rest))
        return json_response({})

    def create_tag(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        tag = request.json().get("tag")
        if not isinstance(tag, str):
            raise HubStateError(400, "Missing tag name")
        self.storage.create_tag(ref.type, ref.id, tag, "/".join(rest) or DEFAULT_BRANCH)
        return json_response({})

    def delete_tag(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        self.storage.delete_tag(ref.type, ref.id, "/".join(rest))
        return json_response({})

    def get_discussions(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        repo = self._readable(request, ref)
        if rest:
            return json_response(
                _discussion_details(repo, repo.discussion(_discussion_num(rest[0])))
            )
        items = [
            _discussion_json(repo, d) for d in reversed(repo.discussions) if _wanted(d, request)
        ]
        page = items if int(request.param("p") or 0) == 0 else []
        return json_response(
            {"discussions": page, "count": len(items), "start": 0, "numClosedDiscussions": 0}
        )

    def post_discussions(self, request: Request, ref: RepoRef, rest: list[str]) -> Response:
        self._writable(request, ref)
        user = self._user(request)
        payload = request.json()
        if not rest:
            discussion = self.storage.create_discussion(
                ref.type,
                ref.id,
                str(payload.get("title", "")),
                user,
                description=str(payload.get("description") or ""),
                pull_request=bool(payload.get("pullRequest")),
            )
            return json_response(
                {
                    "num": discussion.num,
                    "url": f"{self.repo_url(ref.type, ref.id)}/discussions/{discussion.num}",
                }
            )
        num = _discussion_num(rest[0])
        action = rest[1] if len(rest) > 1 else ""
        if action == "merge":
            self.storage.merge_pull_request(ref.type, ref.id, num, user)
            return json_response({})
        if action == "status":
            event = self.storage.set_discussion_status(
                ref.type, ref.id, num, str(payload.get("status")), user
            )
            return json_response({"newStatus": event})
        raise HubStateError(404, f"Not found: {request.method} {request.path}")


def _discussion_num(raw: str) -> int:
    if not raw.isdigit():
        raise HubStateError(404, f"Discussion {raw!r} not found")
    return int(raw)


def _wanted(discussion: Discussion, request: Request) -> bool:
    kind = request.param("type")
    status = request.param("status")
    author = request.param("author")
    if kind in ("pull_request", "discussion") and discussion.is_pull_request != (
        kind == "pull_request"
    ):
        return False
    if status in ("open", "closed") and (discussion.status in ("open", "draft")) != (
        status == "open"
    ):
        return False
    return author is None or discussion.author == author


def _discussion_json(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    return {
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status,
        "author": {"name": discussion.author},
        "createdAt": discussion.created_at,
        "isPullRequest": discussion.is_pull_request,
        "repo": {"name": repo.id, "type": repo.type},
        "numComments": 0,
        "pinned": False,
    }


def _discussion_details(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    data = _discussion_json(repo, discussion)
    data.update({"events": discussion.events, "filesWithConflicts": [], "diff": None})
    if discussion.is_pull_request:
        data["changes"] = {
            "base": f"refs/heads/{discussion.target_branch}",
            "mergeCommitId": discussion.merge_commit,
        }
    return data
