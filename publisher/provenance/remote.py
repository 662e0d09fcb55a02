"""Verify a Hub repository at a revision from its metadata: the signature (one small file),
the tree listing's `lfs.oid` for every LFS file (the SHA-256 of the whole file, what the
signature holds), and the bytes of the small regular files, whose Hub id is a git blob id and
not a SHA-256. No LFS byte (no weight) is downloaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from publisher.findings import Finding, Location
from publisher.provenance import codes
from publisher.provenance.identity import describe_signer
from publisher.provenance.keys import TrustAnchor
from publisher.provenance.manifest import SIGNATURE_FILE, is_ignored
from publisher.provenance.verify import Verification, check_signature, compare


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None  # the LFS oid; None for a regular file


def split_target(target: str, revision: str | None = None) -> tuple[str, str | None]:
    """`ORG/NAME@REV` → (ORG/NAME, REV); `--revision` wins over nothing, and both at once
    must agree."""
    from publisher.errors import UsageError
    from publisher.hub.client import check_repo_id

    repo_id, _, at = target.partition("@")
    if at and revision and at != revision:
        raise UsageError(f"{target} names revision {at}, --revision says {revision}: give one")
    return check_repo_id(repo_id), (at or revision or None)


def verify_repo(
    repo_id: str,
    revision: str | None,
    anchor: TrustAnchor,
    *,
    token: str | None = None,
    endpoint: str | None = None,
) -> Verification:
    """Verify `repo_id` at `revision` (default main), reading one commit throughout."""
    from publisher.hub.client import hub_errors, make_api, resolve_token

    anchor.check()
    token = resolve_token(token)
    result = Verification(f"{repo_id}@{revision or 'main'}", revision=revision or "main")
    api = make_api(token or False, endpoint)
    with hub_errors(f"reading {repo_id}", repo_id=repo_id, token=token):
        commit = str(api.repo_info(repo_id, revision=revision).sha)
        result.commit = commit
        files = _tree(api, repo_id, commit)
        prefix = f"{repo_id}@{commit[:7]}:"
        if SIGNATURE_FILE not in files:
            result.findings.append(
                Finding(
                    codes.NO_SIGNATURE,
                    f"no {SIGNATURE_FILE} in {repo_id} at {result.revision} ({commit[:7]})",
                    Location(file=prefix + SIGNATURE_FILE),
                )
            )
            return result
        data = _download(repo_id, SIGNATURE_FILE, commit, token, endpoint)
        result.downloaded_bytes += len(data)
        result.signer = describe_signer(data)
        signed, result.findings = check_signature(data, anchor, prefix + SIGNATURE_FILE)
        if signed is None:
            return result
        actual: dict[str, str] = {}
        for path, item in files.items():
            if is_ignored(path, signed.ignored):
                continue
            if item.sha256 is not None:
                actual[path] = item.sha256
            elif path in signed.digests:
                content = _download(repo_id, path, commit, token, endpoint)
                result.downloaded_bytes += len(content)
                actual[path] = hashlib.sha256(content).hexdigest()
            else:  # a regular file the signature does not name: added, whatever it holds
                actual[path] = ""
    result.files, result.signed = len(actual), len(signed.digests)
    result.findings += compare(signed, actual, prefix)
    return result


def _tree(api: object, repo_id: str, commit: str) -> dict[str, HubFile]:
    """Every file at `commit`, from the recursive tree listing (LFS files carry `lfs.oid`)."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    assert isinstance(api, HfApi)
    files: dict[str, HubFile] = {}
    for item in api.list_repo_tree(repo_id, recursive=True, revision=commit):
        if isinstance(item, RepoFile):
            sha256 = item.lfs.sha256 if item.lfs is not None else None
            files[item.path] = HubFile(item.path, item.size, sha256)
    return files


def _download(
    repo_id: str, path: str, commit: str, token: str | None, endpoint: str | None
) -> bytes:
    """A small regular file's bytes at `commit`, in one request."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    from publisher.hub.client import endpoint_url

    url = hf_hub_url(repo_id, path, revision=commit, endpoint=endpoint_url(endpoint))
    response = get_session().get(url, headers=build_hf_headers(token=token or False))
    hf_raise_for_status(response)
    return bytes(response.content)
