"""The Hub's HTTP API over `Storage`: routing, auth, and request/response shapes as
huggingface_hub (2.x) reads them. Transport-free: the server turns sockets into `Request`s.

Auth: `Authorization: Bearer <token>` with one of the configured tokens. A token that is not
one of them gets 401 on every request (as on the Hub); without a token, public repositories
can be read, private ones look missing (404 RepoNotFound), and writes get 401. Any valid token
may read and write every namespace (a single-tenant Hub).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import unquote

from publisher.localhub.messages import (
    UPLOAD_PREFIX,
    RepoRef,
    Request,
    Response,
    error_response,
    json_response,
    optional_str,
)
from publisher.localhub.read_handlers import ReadHandlers
from publisher.localhub.records import (
    HubStateError,
    check_repo_name,
)
from publisher.localhub.ref_handlers import RefHandlers
from publisher.localhub.write_handlers import WriteHandlers

_TYPE_PREFIXES = {"datasets": "dataset", "spaces": "space"}
_API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


class HubApp(ReadHandlers, WriteHandlers, RefHandlers):
    """Routes `Request`s to handlers; every handler returns a `Response`."""

    # ---- entry point --------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            request.user = self._authenticate(request.headers.get("Authorization"))
            return self._route(request)
        except HubStateError as error:
            return error_response(error)

    def _authenticate(self, header: str | None) -> str | None:
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HubStateError(401, "Invalid credentials in Authorization header")
        return user

    def _route(self, request: Request) -> Response:
        segments = [unquote(part) for part in request.path.split("/")[1:]]
        if segments[:1] == ["api"]:
            return self._route_api(request, segments[1:])
        if segments[:1] == [UPLOAD_PREFIX] and len(segments) == 6:
            return self._route_lfs_transfer(request, segments[1:])
        if segments[-4:] == ["info", "lfs", "objects", "batch"] and request.method == "POST":
            return self.lfs_batch(request, _repo_from_git_path(segments[:-4]))
        for offset in (0, 1):
            is_resolve = len(segments) > offset + 3 and segments[offset + 2] == "resolve"
            if is_resolve and request.method in ("GET", "HEAD"):
                return self.resolve(request, _repo_from_url(segments[: offset + 2]), segments)
        raise HubStateError(404, f"Not found: {request.method} {request.path}")

    def _route_api(self, request: Request, segments: list[str]) -> Response:
        top: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "whoami-v2"): self.whoami,
            ("POST", "repos/create"): self.create_repo,
            ("DELETE", "repos/delete"): self.delete_repo,
            ("POST", "validate-yaml"): self.validate_yaml,
        }
        handler = top.get((request.method, "/".join(segments)))
        if handler is not None:
            return handler(request)
        if len(segments) >= 3 and segments[0] in _API_TYPES:
            repo = RepoRef(_API_TYPES[segments[0]], f"{segments[1]}/{segments[2]}")
            return self._route_repo(request, repo, segments[3:])
        raise HubStateError(404, f"Not found: {request.method} {request.path}")

    def _route_repo(self, request: Request, repo: RepoRef, rest: list[str]) -> Response:
        action = rest[0] if rest else ""
        if action.startswith("xet-"):
            raise HubStateError(
                501, "This local Hub does not speak Xet: set HF_HUB_DISABLE_XET=1 in the client"
            )
        handlers: dict[tuple[str, str], Callable[[Request, RepoRef, list[str]], Response]] = {
            ("GET", ""): self.repo_info,
            ("GET", "revision"): self.repo_info,
            ("GET", "tree"): self.tree,
            ("POST", "paths-info"): self.paths_info,
            ("GET", "refs"): self.refs,
            ("GET", "commits"): self.commits,
            ("POST", "preupload"): self.preupload,
            ("POST", "commit"): self.commit,
            ("POST", "branch"): self.create_branch,
            ("DELETE", "branch"): self.delete_branch,
            ("POST", "tag"): self.create_tag,
            ("DELETE", "tag"): self.delete_tag,
            ("GET", "discussions"): self.get_discussions,
            ("POST", "discussions"): self.post_discussions,
            ("PUT", "settings"): self.settings,
        }
        handler = handlers.get((request.method, action))
        if handler is None:
            raise HubStateError(404, f"Not found: {request.method} {request.path}")
        return handler(request, repo, rest[1:])

    # ---- account and repositories -------------------------------------------------------

    def whoami(self, request: Request) -> Response:
        user = self._user(request)
        return json_response(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "canPay": False,
                "avatarUrl": "",
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "local", "role": "write"},
                },
            }
        )

    def create_repo(self, request: Request) -> Response:
        user = self._user(request)
        payload = request.json()
        repo_type = optional_str(payload, "type") or "model"
        if repo_type not in _API_TYPES.values():
            raise HubStateError(400, f"Invalid repo type: {repo_type}")
        repo_id = _named_repo(payload, user)
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        url = self.repo_url(repo_type, repo_id)
        try:
            self.storage.create_repo(repo_type, repo_id, private, user)
        except HubStateError as error:
            if error.status != 409:
                raise
            return json_response({"error": error.message, "url": url}, 409)
        return json_response({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, request: Request) -> Response:
        user = self._user(request)
        payload = request.json()
        ref = RepoRef(optional_str(payload, "type") or "model", _named_repo(payload, user))
        self._writable(request, ref)
        self.storage.delete_repo(ref.type, ref.id)
        return json_response({})

    def settings(self, request: Request, ref: RepoRef, _: list[str]) -> Response:
        self._writable(request, ref)
        payload = request.json()
        if "visibility" in payload or "private" in payload:
            private = payload.get("visibility") == "private" or payload.get("private") is True
            self.storage.set_private(ref.type, ref.id, private)
        return json_response({})

    def validate_yaml(self, request: Request) -> Response:
        return json_response({"errors": [], "warnings": []})


def _repo_from_url(segments: list[str]) -> RepoRef:
    """[datasets|spaces,] namespace, name -> the repository a web URL names."""
    repo_type = _TYPE_PREFIXES.get(segments[0], "model") if len(segments) == 3 else "model"
    return RepoRef(repo_type, "/".join(segments[-2:]))


def _repo_from_git_path(segments: list[str]) -> RepoRef:
    if not segments or not segments[-1].endswith(".git") or len(segments) not in (2, 3):
        raise HubStateError(404, "Not a repository git URL")
    return _repo_from_url([*segments[:-1], segments[-1].removesuffix(".git")])


def _named_repo(payload: dict[str, object], user: str) -> str:
    """`organization/name` of a create or delete body, checked as the Hub checks it: a name
    that is not a string (`{"name": null}` is not `local-user/None`) or not a valid name is
    a 400."""
    name = payload.get("name")
    organization = payload.get("organization") or user
    if not isinstance(name, str) or not isinstance(organization, str):
        raise HubStateError(400, "Invalid repo name: 'name' must be a string")
    check_repo_name(organization, name)
    return f"{organization}/{name}"
