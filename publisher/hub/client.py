"""Talking to the Hub through huggingface_hub: the token, the API object, and one clean line
(a `HubError`, exit 3) for every way a request can fail.

huggingface_hub is imported inside functions only: the CLI must start fast. The token is
never put in a message: server texts are redacted before they are shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from publisher.errors import HubError, UsageError

if TYPE_CHECKING:
    from huggingface_hub import HfApi

TOKENS_URL = "https://huggingface.co/settings/tokens"
_TOKEN_LIKE = re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")  # what Hub access tokens look like
_MAX_SERVER_TEXT = 200


def resolve_token(token: str | None = None) -> str | None:
    """The token to use: the one given, else HF_TOKEN, else huggingface_hub's stored login."""
    if token:
        return token
    from huggingface_hub import get_token

    return get_token()


def namespace_of(repo_id: str) -> str:
    return repo_id.split("/", 1)[0] if "/" in repo_id else repo_id


def token_fix(repo_id: str) -> str:
    """What to do about missing or refused credentials."""
    return f"set HF_TOKEN to a token with write access to {namespace_of(repo_id)}; see {TOKENS_URL}"


def require_token(token: str | None, repo_id: str) -> str:
    """The token, or a HubError that says how to get one."""
    if not token:
        raise HubError("no Hugging Face token found", fix=token_fix(repo_id))
    return token


def check_repo_id(repo_id: str) -> str:
    """The repo id, or a UsageError (exit 2) saying why the Hub would refuse it."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise UsageError(f"invalid repository id: {error}") from None
    if "/" not in repo_id:
        raise UsageError(f"invalid repository id {repo_id!r}", fix="write it as namespace/name")
    return repo_id


@dataclass(frozen=True)
class RepoFileInfo:
    """One file of a revision, as the Hub lists it with `blobs=true`."""

    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None


@dataclass(frozen=True)
class RepoSnapshot:
    """A revision's head commit and files."""

    commit: str
    private: bool | None
    files: dict[str, RepoFileInfo]


def use_timeouts() -> None:
    """Give huggingface_hub's shared HTTP client timeouts (its default has none, so a Hub or
    proxy that accepts a connection and never answers would hang a push for ever).

    PUBLISHER_HUB_TIMEOUT sets the read/write timeout in seconds (default 300: a large commit
    can take minutes on the Hub's side); connecting is given 15 s.
    """
    global _TIMEOUTS_SET
    if _TIMEOUTS_SET:
        return
    import httpx2
    from huggingface_hub.utils import _http, set_client_factory

    seconds = float(os.environ.get("PUBLISHER_HUB_TIMEOUT", "300"))
    timeout = httpx2.Timeout(seconds, connect=15.0)

    def factory() -> httpx2.Client:
        client = _http.default_client_factory()
        client.timeout = timeout
        return client

    set_client_factory(factory)
    _TIMEOUTS_SET = True


_TIMEOUTS_SET = False


def endpoint_url(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


def repo_snapshot(
    repo_id: str, revision: str | None, *, token: str | None, endpoint: str | None = None
) -> RepoSnapshot:
    """The head and every file (size, blob id, LFS sha256) of a model repo's revision, in one
    request: what `HfApi.model_info(files_metadata=True)` asks, through huggingface_hub's HTTP
    session and error types, without importing HfApi (a re-push that sends nothing starts
    faster). Raises the client's errors (RepositoryNotFoundError, RevisionNotFoundError...)."""
    from urllib.parse import quote

    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = f"{endpoint_url(endpoint)}/api/models/{repo_id}"
    if revision:
        url += f"/revision/{quote(revision, safe='')}"
    headers = build_hf_headers(token=token or False)
    use_timeouts()
    response = get_session().get(url, headers=headers, params={"blobs": "true"})
    hf_raise_for_status(response)
    data = response.json()
    files = {}
    for item in data.get("siblings") or []:
        lfs = item.get("lfs") or {}
        path = item["rfilename"]
        files[path] = RepoFileInfo(path, item.get("size"), item.get("blobId"), lfs.get("sha256"))
    return RepoSnapshot(str(data["sha"]), data.get("private"), files)


def make_api(token: str | bool | None, endpoint: str | None = None) -> HfApi:
    """An HfApi with an explicit token (False: anonymous), never an implicit one."""
    from huggingface_hub import HfApi

    use_timeouts()
    return HfApi(endpoint=endpoint, token=token if token else False)


def redact(text: str, token: str | None = None) -> str:
    """`text` without the token or anything that looks like one, on one short line."""
    if token:
        text = text.replace(token, "***")
    text = _TOKEN_LIKE.sub("hf_***", text)
    text = " ".join(text.split())
    return text[:_MAX_SERVER_TEXT] + ("…" if len(text) > _MAX_SERVER_TEXT else "")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and the errors it was raised from (cause, else context), at most 10 deep."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _http_status(error: BaseException) -> tuple[int, Any] | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return (status, response) if isinstance(status, int) and status >= 400 else None


def _network_kind(error: BaseException, token: str | None) -> str | None:
    import httpx2

    if isinstance(error, httpx2.TimeoutException | TimeoutError):
        return "the connection timed out"
    if isinstance(error, httpx2.ConnectError):
        return "cannot connect to the Hub"
    if isinstance(error, httpx2.TransportError):
        return "the connection was lost"
    if isinstance(error, ConnectionError):  # e.g. from hf_xet, which says what happened
        return redact(str(error), token) or "the connection was lost"
    return None


def _status_error(
    status: int, response: Any, error: BaseException, ctx: dict[str, Any]
) -> HubError:
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    action, repo_id, after = ctx["action"], ctx["repo_id"], ctx["after"]
    where, again = f" while {action}", ctx["again"]
    if status in (401, 403):
        what = "refused the credentials" if status == 401 else "refused this token access"
        return HubError(f"the Hub {what} (HTTP {status}){where}", fix=token_fix(repo_id))
    if isinstance(error, RepositoryNotFoundError) or (status == 404 and "Repo" in _code(response)):
        return HubError(
            f"repository {repo_id} not found, or not visible with this token{where}",
            fix=token_fix(repo_id),
        )
    if isinstance(error, RevisionNotFoundError):
        return HubError(f"revision not found in {repo_id}{where}", fix="check --revision")
    if status == 412:
        return HubError(
            f"{repo_id} changed{where}: another commit landed after the plan{after}",
            fix="run the push again: it plans against the new head",
        )
    if status == 429:
        wait = response.headers.get("Retry-After")
        fix = f"wait {wait} s, then {again}" if wait else f"wait a while, then {again}"
        return HubError(f"the Hub is rate-limiting requests (HTTP 429){where}{after}", fix=fix)
    detail = redact(getattr(error, "server_message", None) or "", ctx["token"])
    detail = f" ({detail})" if detail else ""
    if status >= 500:
        return HubError(f"the Hub failed with HTTP {status}{where}{detail}{after}", fix=again)
    return HubError(f"the Hub refused the request (HTTP {status}){where}{detail}{after}")


def _code(response: Any) -> str:
    return str(response.headers.get("X-Error-Code") or "")


def to_hub_error(
    error: BaseException,
    *,
    action: str,
    repo_id: str,
    token: str | None = None,
    after: str = "",
    again: str = "run it again",
) -> HubError | None:
    """The HubError for a failed Hub call, or None when `error` is not a Hub/network failure.

    `after` says what state a refused request left things in (e.g. "; nothing was
    committed"); `again` is the advice for failures worth retrying.
    """
    ctx = {"action": action, "repo_id": repo_id, "token": token, "after": after, "again": again}
    for item in _chain(error):
        found = _http_status(item)
        if found is not None:
            return _status_error(found[0], found[1], item, ctx)
    for item in _chain(error):
        kind = _network_kind(item, token)
        if kind is not None:
            if "xet" in kind.lower():
                hint = (
                    "a Hub without Xet storage (such as the local one) needs HF_HUB_DISABLE_XET=1"
                )
                again = f"{hint}; else {again}"
            if kind == "cannot connect to the Hub":
                tried = _endpoint_tried(item)
                return HubError(
                    f"network error while {action}: cannot connect to the Hub at {tried}",
                    fix=_connect_fix(tried),
                )
            return HubError(f"network error while {action}: {kind}", fix=again)
    return None


def _endpoint_tried(error: BaseException) -> str:
    """The Hub's address a failed connection went to (scheme, host and port)."""
    try:
        url = error.request.url  # type: ignore[attr-defined]
        return (
            f"{url.scheme}://{url.netloc.decode() if isinstance(url.netloc, bytes) else url.netloc}"
        )
    except Exception:  # no request attached: the configured endpoint is the one tried
        return endpoint_url(None)


def _connect_fix(tried: str) -> str:
    """What to check when nothing answers at the Hub's address."""
    import os

    configured = os.environ.get("HF_ENDPOINT")
    if configured:
        where = f"HF_ENDPOINT is {configured}: is a Hub running there (`publisher hub serve`)?"
    else:
        where = "HF_ENDPOINT is not set, so the public Hub was tried"
    return f"{where} Check the network, a proxy (HTTPS_PROXY) and firewall, then run it again"


@contextmanager
def hub_errors(
    action: str,
    *,
    repo_id: str,
    token: str | None = None,
    after: str = "",
    again: str = "run it again",
) -> Iterator[None]:
    """Turn Hub and network failures inside the block into one-line HubErrors."""
    try:
        yield
    except HubError:
        raise
    except Exception as error:
        mapped = to_hub_error(
            error, action=action, repo_id=repo_id, token=token, after=after, again=again
        )
        if mapped is None:
            raise
        raise mapped from None
