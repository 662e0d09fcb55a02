"""What a remote branch or pull request holds, read in one request each (for the push plan)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.hub.client import (
    RepoSnapshot,
    endpoint_url,
    repo_snapshot,
)
from publisher.hub.plan import (
    RemoteFile,
    RemoteState,
)
from publisher.hub.pulls import (
    PullRequest,
)

if TYPE_CHECKING:
    pass

DEFAULT_BRANCH = "main"


def fetch_remote(
    repo_id: str, revision: str | None, *, token: str | None, endpoint: str | None = None
) -> RemoteState:
    """The remote branch's head and files (sizes, blob ids, LFS sha256) in one request.
    A missing repository or branch is not an error: the push creates it."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    state = RemoteState(repo_id, revision or DEFAULT_BRANCH)
    try:
        snapshot = repo_snapshot(repo_id, state.revision, token=token, endpoint=endpoint)
        state.branch_exists = True
    except RevisionNotFoundError:
        snapshot = repo_snapshot(repo_id, None, token=token, endpoint=endpoint)
    except RepositoryNotFoundError as error:
        status = error.response.status_code if error.response is not None else 404
        if status == 404 or not token:
            return state
        raise
    return _with_snapshot(state, snapshot)


def fetch_pull_request(
    repo_id: str, pull_request: PullRequest, *, token: str | None, endpoint: str | None = None
) -> RemoteState:
    """An open pull request's head and files (its ref, refs/pr/N), in one request."""
    snapshot = repo_snapshot(repo_id, pull_request.ref, token=token, endpoint=endpoint)
    state = RemoteState(repo_id, pull_request.ref, pull_request=pull_request)
    state.branch_exists = True  # a commit can go to the pull request's ref
    return _with_snapshot(state, snapshot)


def _with_snapshot(state: RemoteState, snapshot: RepoSnapshot) -> RemoteState:
    state.exists, state.head, state.private = True, snapshot.commit, snapshot.private
    for path, item in snapshot.files.items():
        state.files[path] = RemoteFile(path, item.size, item.blob_id, item.lfs_sha256)
    return state


def download_small(
    repo_id: str, path: str, revision: str, *, token: str | None, endpoint: str | None = None
) -> bytes:
    """One small file's bytes at a revision, in one request."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repo_id, path, revision=revision, endpoint=endpoint_url(endpoint))
    response = get_session().get(url, headers=build_hf_headers(token=token or False))
    hf_raise_for_status(response)
    return response.content
