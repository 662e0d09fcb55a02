"""What every group of local Hub handlers shares: the storage, the tokens, and access checks."""

from __future__ import annotations

from collections.abc import Mapping

from publisher.localhub.messages import (
    RepoRef,
    Request,
    unauthenticated,
)
from publisher.localhub.records import (
    Repo,
    repo_not_found,
)
from publisher.localhub.storage import Storage


class HandlerBase:
    """The state handlers work on, and who may read or write which repository."""

    def __init__(self, storage: Storage, tokens: Mapping[str, str], endpoint: str = ""):
        self.storage = storage
        self.tokens = dict(tokens)
        self.endpoint = endpoint
        self._secret = storage.signing_key()  # the client PUTs LFS objects without a token

    # ---- access -------------------------------------------------------------------------

    def _readable(self, request: Request, ref: RepoRef) -> Repo:
        repo = self.storage.get_repo(ref.type, ref.id)
        if repo is None or (repo.private and request.user is None):
            raise repo_not_found(ref.id)
        return repo

    def _writable(self, request: Request, ref: RepoRef) -> Repo:
        if request.user is None:
            raise unauthenticated()
        return self._readable(request, ref)

    def _user(self, request: Request) -> str:
        if request.user is None:
            raise unauthenticated()
        return request.user

    def repo_url(self, repo_type: str, repo_id: str) -> str:
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return f"{self.endpoint}/{prefix}{repo_id}"
