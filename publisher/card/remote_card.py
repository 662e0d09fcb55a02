"""A Hub repository's card text, fetched with one GET (no weights, nothing cached on disk)."""

from __future__ import annotations

from publisher.errors import InputError

MAX_CARD_BYTES = 8 * 1024 * 1024


def read_remote_text(
    repo_id: str,
    name: str,
    revision: str | None,
    *,
    token: str | None,
    anonymous: bool = False,
    missing_repo_ok: bool = False,
) -> str | None:
    """The UTF-8 text of `name` in the repository, or None when the revision has no such file
    (or, with `missing_repo_ok`, no such repository). `anonymous` sends no token at all, not
    even a stored one. Hub and network failures raise HubError (exit 3)."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    from publisher.hub.client import endpoint_url, hub_errors, resolve_token, use_timeouts

    token = None if anonymous else resolve_token(token)
    where = f"hf://{repo_id}" + (f"@{revision}" if revision else "") + f"/{name}"
    with hub_errors(f"reading {name} of {repo_id}", repo_id=repo_id, token=token):
        use_timeouts()
        url = hf_hub_url(repo_id, name, revision=revision, endpoint=endpoint_url(None))
        response = get_session().get(url, headers=build_hf_headers(token=token or False))
        if response.status_code == 404 and "Entry" in response.headers.get("X-Error-Code", ""):
            return None
        # The Hub answers 401 to an anonymous read of a repository that is not there (or is
        # private); with a token, 401 means the token was refused, which stays an error.
        if missing_repo_ok and (
            response.status_code == 404 or (anonymous and response.status_code == 401)
        ):
            return None
        hf_raise_for_status(response)
        data = response.content
    if len(data) > MAX_CARD_BYTES:
        raise InputError("the card is over 8 MB; not checked", where=where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", where=where
        ) from error
