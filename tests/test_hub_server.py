"""The local Hub, driven by the real huggingface_hub client (HF_ENDPOINT points at it)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    RepoFile,
    hf_hub_download,
    hf_hub_url,
)
from huggingface_hub.constants import DiscussionStatusFilter, DiscussionTypeFilter
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import get_session

from publisher.hubprotocol import LFS_SIZE_THRESHOLD
from publisher.localhub.faults import FaultAction
from publisher.localhub.records import HubStateError
from publisher.localhub.server import DEMO_TOKEN, LocalHub
from tests import hub_fixtures

# The local Hub fixtures (the lead may instead list tests.hub_fixtures in conftest's pytest_plugins;
# both together are safe: the session server is a per-process singleton).
local_hub = hub_fixtures.local_hub
hub = hub_fixtures.hub
hub_api = hub_fixtures.hub_api
hub_repo_id = hub_fixtures.hub_repo_id

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def weights() -> bytes:
    """Stands in for a checkpoint: binary, so LFS. Fresh per test: the object store is shared."""
    return os.urandom(200_000)


def _puts(hub: LocalHub) -> list[str]:
    return [request.path for request in hub.requests if request.method == "PUT"]


def _client_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("huggingface_hub")]


def _commit_ids(api: HfApi, repo_id: str, revision: str | None = None) -> list[str]:
    return [commit.commit_id for commit in api.list_repo_commits(repo_id, revision=revision)]


# ---- repositories and commits -------------------------------------------------------------


def test_whoami_names_the_demo_user(hub_api: HfApi) -> None:
    assert hub_api.whoami()["name"] == "local-user"


def test_new_repo_starts_like_the_hub_with_a_gitattributes_commit(
    hub_api: HfApi, hub_repo_id: str
) -> None:
    url = hub_api.create_repo(hub_repo_id)

    assert url.repo_id == hub_repo_id
    assert url.startswith(hub_api.endpoint)
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes"]
    assert [c.title for c in hub_api.list_repo_commits(hub_repo_id)] == ["initial commit"]
    gitattributes = hub_api.hf_hub_download(hub_repo_id, ".gitattributes")
    assert "*.safetensors filter=lfs" in Path(gitattributes).read_text()


def test_creating_an_existing_repo_is_409_unless_exist_ok(hub_api: HfApi, hub_repo_id: str) -> None:
    first = hub_api.create_repo(hub_repo_id)

    with pytest.raises(HfHubHTTPError) as raised:
        hub_api.create_repo(hub_repo_id)
    assert raised.value.response.status_code == 409
    assert hub_api.create_repo(hub_repo_id, exist_ok=True) == first


def test_one_commit_carries_regular_and_lfs_files(
    hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    binary_sample = b"\x00\x01binary" * 100
    files = {
        "config.json": b'{"hidden_size": 8}',
        "README.md": b"---\nlicense: mit\n---\n# Tiny\n",
        "model.safetensors": weights,
        "extra/blob.dat": binary_sample,
    }
    ops = [CommitOperationAdd(path, data) for path, data in files.items()]

    info = hub_api.create_commit(hub_repo_id, ops, commit_message="Add model")

    assert _commit_ids(hub_api, hub_repo_id)[0] == info.oid
    assert len(_commit_ids(hub_api, hub_repo_id)) == 2  # initial commit + exactly one
    listing = hub_api.list_repo_tree(hub_repo_id, recursive=True)
    tree = {f.path: f for f in listing if isinstance(f, RepoFile)}
    assert tree["config.json"].lfs is None and tree["README.md"].lfs is None
    lfs = tree["model.safetensors"].lfs
    assert lfs is not None and lfs.sha256 == hashlib.sha256(weights).hexdigest()
    assert tree["extra/blob.dat"].lfs is not None  # binary content: LFS whatever its name
    for path, data in files.items():
        assert Path(hf_hub_download(hub_repo_id, path)).read_bytes() == data


def test_upload_file_then_list_tree_by_folder(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"a", path_in_repo="docs/a.md", repo_id=hub_repo_id)
    hub_api.upload_file(path_or_fileobj=b"b", path_in_repo="docs/deep/b.md", repo_id=hub_repo_id)

    top = {(type(e).__name__, e.path) for e in hub_api.list_repo_tree(hub_repo_id)}
    docs = {e.path for e in hub_api.list_repo_tree(hub_repo_id, path_in_repo="docs")}

    assert top == {("RepoFile", ".gitattributes"), ("RepoFolder", "docs")}
    assert docs == {"docs/a.md", "docs/deep"}
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes", "docs/a.md", "docs/deep/b.md"]
    with pytest.raises(EntryNotFoundError):
        list(hub_api.list_repo_tree(hub_repo_id, path_in_repo="nowhere"))


def test_model_info_siblings_show_lfs_only_with_files_metadata(
    hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(
        path_or_fileobj=weights, path_in_repo="model.safetensors", repo_id=hub_repo_id
    )

    plain = {s.rfilename: s for s in hub_api.model_info(hub_repo_id).siblings or []}
    full = {
        s.rfilename: s for s in hub_api.model_info(hub_repo_id, files_metadata=True).siblings or []
    }

    assert plain["model.safetensors"].lfs is None  # the Hub only sends blobs when asked
    lfs = full["model.safetensors"].lfs
    assert lfs is not None and lfs.size == len(weights)
    assert lfs.sha256 == hashlib.sha256(weights).hexdigest()
    assert full[".gitattributes"].lfs is None


def test_download_and_range_read_return_the_right_bytes(
    hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    info = hub_api.upload_file(
        path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id=hub_repo_id
    )

    path = hf_hub_download(hub_repo_id, "w.safetensors")
    assert Path(path).read_bytes() == weights
    assert f"/snapshots/{info.oid}/" in path  # X-Repo-Commit drove the cache layout

    url = hf_hub_url(hub_repo_id, "w.safetensors")
    response = get_session().get(url, headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(weights)}"
    assert response.content == weights[1000:2000]
    with HfFileSystem(endpoint=hub_api.endpoint, token=DEMO_TOKEN).open(
        f"{hub_repo_id}/w.safetensors", "rb", block_size=1024
    ) as handle:
        handle.seek(5000)
        assert handle.read(300) == weights[5000:5300]


def test_missing_things_raise_the_clients_typed_errors(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)

    with pytest.raises(EntryNotFoundError):
        hub_api.hf_hub_download(hub_repo_id, "missing.txt")
    with pytest.raises(RevisionNotFoundError):
        hub_api.model_info(hub_repo_id, revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        hub_api.model_info(f"{hub_repo_id}-missing")
    assert not hub_api.file_exists(hub_repo_id, "missing.txt")


def test_history_refs_tags_and_branches(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    first = hub_api.upload_file(
        path_or_fileobj=b"v1", path_in_repo="f.txt", repo_id=hub_repo_id, commit_message="One",
        commit_description="first body",
    )  # fmt: skip
    hub_api.create_tag(hub_repo_id, tag="v1")
    hub_api.create_branch(hub_repo_id, branch="dev")
    second = hub_api.upload_file(path_or_fileobj=b"v2", path_in_repo="f.txt", repo_id=hub_repo_id)
    on_dev = hub_api.upload_file(
        path_or_fileobj=b"d", path_in_repo="dev.txt", repo_id=hub_repo_id, revision="dev"
    )

    history = hub_api.list_repo_commits(hub_repo_id)
    assert [c.commit_id for c in history][:2] == [second.oid, first.oid]
    assert (history[1].title, history[1].message) == ("One", "first body")
    refs = hub_api.list_repo_refs(hub_repo_id)
    assert {b.name: b.target_commit for b in refs.branches} == {
        "main": second.oid,
        "dev": on_dev.oid,
    }
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": first.oid}
    assert Path(hub_api.hf_hub_download(hub_repo_id, "f.txt", revision="v1")).read_bytes() == b"v1"
    assert "dev.txt" not in hub_api.list_repo_files(hub_repo_id)
    with pytest.raises(HfHubHTTPError) as raised:
        hub_api.create_tag(hub_repo_id, tag="v1")
    assert raised.value.response.status_code == 409

    hub_api.delete_tag(hub_repo_id, tag="v1")
    assert hub_api.list_repo_refs(hub_repo_id).tags == []
    with pytest.raises(RevisionNotFoundError):
        hub_api.delete_tag(hub_repo_id, tag="v1")


def test_create_pr_commits_to_refs_pr_and_merges(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    main_before = _commit_ids(hub_api, hub_repo_id)

    pr = hub_api.upload_file(
        path_or_fileobj=b"proposal", path_in_repo="new.txt", repo_id=hub_repo_id, create_pr=True
    )

    assert pr.pr_revision == "refs/pr/1" and pr.pr_num == 1
    assert _commit_ids(hub_api, hub_repo_id) == main_before
    assert "new.txt" in hub_api.list_repo_files(hub_repo_id, revision=pr.pr_revision)
    refs = hub_api.list_repo_refs(hub_repo_id, include_pull_requests=True)
    assert [(r.ref, r.target_commit) for r in refs.pull_requests or []] == [("refs/pr/1", pr.oid)]
    [discussion] = list(hub_api.get_repo_discussions(hub_repo_id))
    assert discussion.is_pull_request and discussion.status == "open"

    hub_api.merge_pull_request(hub_repo_id, 1)

    assert "new.txt" in hub_api.list_repo_files(hub_repo_id)
    assert hub_api.get_discussion_details(hub_repo_id, 1).status == "merged"


def test_a_pull_request_opens_with_the_commit_description_and_takes_more_commits(
    hub_api: HfApi, hub_repo_id: str
) -> None:
    from huggingface_hub.community import DiscussionComment, DiscussionCommit

    hub_api.create_repo(hub_repo_id)
    main_before = _commit_ids(hub_api, hub_repo_id)
    pr = hub_api.upload_file(
        path_or_fileobj=b"one", path_in_repo="a.txt", repo_id=hub_repo_id, create_pr=True,
        commit_message="Proposal", commit_description="Why: because.",
    )  # fmt: skip

    second = hub_api.create_commit(
        hub_repo_id, [CommitOperationAdd("b.txt", b"two")], commit_message="More",
        revision="refs/pr/1", parent_commit=pr.oid,
    )  # fmt: skip

    assert second.pr_url is None and _commit_ids(hub_api, hub_repo_id) == main_before
    assert _commit_ids(hub_api, hub_repo_id, "refs/pr/1") == [second.oid, pr.oid, *main_before]
    assert {"a.txt", "b.txt"} <= set(hub_api.list_repo_files(hub_repo_id, revision="refs/pr/1"))
    details = hub_api.get_discussion_details(hub_repo_id, 1)
    assert details.title == "Proposal" and details.target_branch == "refs/heads/main"
    opening = details.events[0]
    assert isinstance(opening, DiscussionComment) and opening.content == "Why: because."
    commits = [e.summary for e in details.events if isinstance(e, DiscussionCommit)]
    assert commits == ["Proposal", "More"]


def test_discussions_are_filtered_by_type_and_status(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.create_discussion(hub_repo_id, "A question")
    for name in ("a.txt", "b.txt"):
        hub_api.upload_file(
            path_or_fileobj=b"x", path_in_repo=name, repo_id=hub_repo_id, create_pr=True
        )
    hub_api.change_discussion_status(hub_repo_id, 2, "closed")

    def nums(kind: DiscussionTypeFilter | None, status: DiscussionStatusFilter | None) -> list[int]:
        found = hub_api.get_repo_discussions(
            hub_repo_id, discussion_type=kind, discussion_status=status
        )
        return [d.num for d in found]

    assert nums(None, None) == [3, 2, 1]
    assert nums("pull_request", None) == [3, 2]
    assert nums("pull_request", "open") == [3]
    assert nums(None, "closed") == [2]
    with pytest.raises(HfHubHTTPError) as raised:  # a closed pull request takes no commits
        hub_api.upload_file(
            path_or_fileobj=b"y", path_in_repo="c.txt", repo_id=hub_repo_id, revision="refs/pr/2"
        )
    assert raised.value.response.status_code == 403


# ---- access control and concurrency -------------------------------------------------------


def test_private_repo_is_invisible_without_a_token(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id, private=True)
    hub_api.upload_file(path_or_fileobj=b"secret", path_in_repo="s.txt", repo_id=hub_repo_id)
    anonymous = HfApi(endpoint=hub_api.endpoint, token=False)

    assert hub_api.model_info(hub_repo_id).private is True
    assert not anonymous.repo_exists(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.list_repo_files(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.hf_hub_download(hub_repo_id, "s.txt")


def test_a_wrong_token_gets_401_and_changes_nothing(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    intruder = HfApi(endpoint=hub_api.endpoint, token="hf_wrong_token")
    anonymous = HfApi(endpoint=hub_api.endpoint, token=False)

    for client in (intruder, anonymous):
        with pytest.raises(HfHubHTTPError) as raised:
            client.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=hub_repo_id)
        assert raised.value.response.status_code == 401
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes"]
    # As on the Hub, a bad token is refused even where no token is needed.
    assert anonymous.list_repo_files(hub_repo_id) == [".gitattributes"]
    with pytest.raises(HfHubHTTPError) as raised:
        intruder.list_repo_files(hub_repo_id)
    assert raised.value.response.status_code == 401


def test_a_commit_on_a_stale_parent_is_refused(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    parent = _commit_ids(hub_api, hub_repo_id)[0]
    hub_api.create_commit(
        hub_repo_id, [CommitOperationAdd("a.txt", b"a")], commit_message="A", parent_commit=parent
    )

    with pytest.raises(HfHubHTTPError) as raised:
        hub_api.create_commit(
            hub_repo_id,
            [CommitOperationAdd("b.txt", b"b")],
            commit_message="B",
            parent_commit=parent,
        )

    assert raised.value.response.status_code == 412
    assert "b.txt" not in hub_api.list_repo_files(hub_repo_id)


def test_concurrent_commits_to_one_branch_all_land(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)

    def upload(index: int) -> None:
        hub_api.upload_file(
            path_or_fileobj=b"%d" % index, path_in_repo=f"f{index}.txt", repo_id=hub_repo_id
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(upload, range(6)))

    assert len(_commit_ids(hub_api, hub_repo_id)) == 7
    assert {f"f{i}.txt" for i in range(6)} <= set(hub_api.list_repo_files(hub_repo_id))


def test_delete_file_and_folder(hub_api: HfApi, hub_repo_id: str) -> None:
    hub_api.create_repo(hub_repo_id)
    ops = [CommitOperationAdd(p, b"x") for p in ("keep.txt", "old/a.txt", "old/b/c.txt")]
    hub_api.create_commit(hub_repo_id, ops, commit_message="add")

    hub_api.create_commit(
        hub_repo_id, [CommitOperationDelete("old/", is_folder=True)], commit_message="drop folder"
    )

    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes", "keep.txt"]
    with pytest.raises(EntryNotFoundError):
        hub_api.delete_file("missing.txt", hub_repo_id)


# ---- LFS rules and uploads ----------------------------------------------------------------


def _preupload(hub: LocalHub, repo_id: str, files: list[dict[str, object]]) -> dict[str, str]:
    response = get_session().post(
        f"{hub.endpoint}/api/models/{repo_id}/preupload/main",
        json={"files": files},
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
    )
    response.raise_for_status()
    return {item["path"]: item["uploadMode"] for item in response.json()["files"]}


def test_preupload_sends_big_binary_and_weight_files_to_lfs(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str
) -> None:
    hub_api.create_repo(hub_repo_id)
    text = base64.b64encode(b"plain text").decode()
    binary = base64.b64encode(b"\x00\x01\x02").decode()

    modes = _preupload(hub, hub_repo_id, [
        {"path": "README.md", "size": 10, "sample": text},
        {"path": "big.txt", "size": LFS_SIZE_THRESHOLD, "sample": text},
        {"path": "almost.txt", "size": LFS_SIZE_THRESHOLD - 1, "sample": text},
        {"path": "raw.dat", "size": 3, "sample": binary},
        {"path": "sub/model.safetensors", "size": 10, "sample": text},
        {"path": "pytorch_model.bin", "size": 10, "sample": text},
    ])  # fmt: skip

    assert modes == {
        "README.md": "regular",
        "big.txt": "lfs",
        "almost.txt": "regular",
        "raw.dat": "lfs",
        "sub/model.safetensors": "lfs",
        "pytorch_model.bin": "lfs",
    }
    with pytest.raises(HubStateError, match="10 MiB"):
        hub.storage.regular_entry("big.txt", b"a" * LFS_SIZE_THRESHOLD)


def test_preupload_follows_the_repos_own_gitattributes(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(
        path_or_fileobj=b"*.txt filter=lfs diff=lfs merge=lfs -text\n",
        path_in_repo=".gitattributes",
        repo_id=hub_repo_id,
    )
    sample = base64.b64encode(b"hello").decode()

    modes = _preupload(hub, hub_repo_id, [
        {"path": "notes.txt", "size": 5, "sample": sample},
        {"path": "model.safetensors", "size": 5, "sample": sample},
    ])  # fmt: skip

    assert modes == {"notes.txt": "lfs", "model.safetensors": "regular"}


def test_reuploading_a_stored_lfs_object_skips_the_put(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=weights, path_in_repo="a.safetensors", repo_id=hub_repo_id)
    assert len(_puts(hub)) == 1
    hub.requests.clear()

    hub_api.upload_file(path_or_fileobj=weights, path_in_repo="b.safetensors", repo_id=hub_repo_id)

    assert any(r.path.endswith(".git/info/lfs/objects/batch") for r in hub.requests)
    assert _puts(hub) == []
    assert Path(hf_hub_download(hub_repo_id, "b.safetensors")).read_bytes() == weights


def test_an_upload_whose_bytes_do_not_match_the_oid_is_refused(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str
) -> None:
    hub_api.create_repo(hub_repo_id)
    claimed = hashlib.sha256(b"the real content").hexdigest()
    batch = (
        get_session()
        .post(
            f"{hub.endpoint}/{hub_repo_id}.git/info/lfs/objects/batch",
            json={"operation": "upload", "objects": [{"oid": claimed, "size": 16}]},
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        )
        .json()
    )
    href = batch["objects"][0]["actions"]["upload"]["href"]

    response = get_session().put(href, content=b"something else!!")

    assert response.status_code == 400
    assert not hub.storage.has_object(claimed)
    assert list(hub.storage.tmp_dir.iterdir()) == []


# ---- faults -------------------------------------------------------------------------------


def test_connection_dropped_mid_upload_is_retried_and_only_whole_objects_are_kept(
    hub: LocalHub,
    hub_api: HfApi,
    hub_repo_id: str,
    weights: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub_api.create_repo(hub_repo_id)
    fault = hub.faults.add(method="PUT", path_regex=r"/upload/", action="drop", after_bytes=50_000)

    hub_api.upload_file(path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id=hub_repo_id)

    assert fault.fired == 1
    assert len(_puts(hub)) == 2  # the dropped attempt and the retry
    warnings = [w for w in _client_warnings(caplog) if "thrown while requesting PUT" in w]
    assert warnings and not any("HTTP Error" in w for w in warnings)  # a network error, no status
    assert list(hub.storage.tmp_dir.iterdir()) == []  # the partial body was thrown away
    assert Path(hf_hub_download(hub_repo_id, "w.safetensors")).read_bytes() == weights


def test_a_500_on_the_lfs_put_is_retried(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    fault = hub.faults.add(method="PUT", path_regex=r"/upload/", status=500, times=1)

    hub_api.upload_file(path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id=hub_repo_id)

    assert fault.fired == 1 and len(_puts(hub)) == 2
    assert "w.safetensors" in hub_api.list_repo_files(hub_repo_id)


def test_a_429_with_retry_after_is_waited_out(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub.requests.clear()
    fault = hub.faults.add(method="POST", path_regex=r"/preupload/", status=429, retry_after=0)

    started = time.monotonic()
    hub_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=hub_repo_id)

    assert fault.fired == 1
    assert [r.path.rsplit("/", 2)[-2] for r in hub.requests if r.method == "POST"] == [
        "preupload", "preupload", "commit",
    ]  # fmt: skip
    assert time.monotonic() - started >= 1.0  # the client waits Retry-After + 1 s
    assert any(w.startswith("Rate limited. Waiting 1.0s") for w in _client_warnings(caplog))
    assert "x.txt" in hub_api.list_repo_files(hub_repo_id)


@pytest.mark.parametrize("fault_kind", ["status", "drop"])
def test_a_failed_commit_leaves_the_repo_unchanged(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, fault_kind: FaultAction, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    before = _commit_ids(hub_api, hub_repo_id)
    fault = hub.faults.add(method="POST", path_regex=r"/commit/main$", action=fault_kind)

    with pytest.raises(Exception) as raised:  # HfHubHTTPError, or a network error for "drop"
        hub_api.upload_file(
            path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id=hub_repo_id
        )

    assert fault.fired == 1
    if fault_kind == "status":
        assert isinstance(raised.value, HfHubHTTPError) and raised.value.response.status_code == 500
    assert _commit_ids(hub_api, hub_repo_id) == before
    assert hub_api.list_repo_files(hub_repo_id) == [".gitattributes"]


def test_a_download_cut_short_is_fetched_again(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, weights: bytes
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub_api.upload_file(path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id=hub_repo_id)
    fault = hub.faults.add(
        method="GET", path_regex=r"/resolve/", action="truncate", after_bytes=1000
    )

    path = hf_hub_download(hub_repo_id, "w.safetensors")

    assert fault.fired == 1
    assert Path(path).read_bytes() == weights
    assert [r.method for r in hub.requests if "/resolve/" in r.path].count("GET") == 2


def test_latency_is_added_to_every_request(hub: LocalHub, hub_api: HfApi) -> None:
    hub.latency = 0.3
    started = time.monotonic()
    hub_api.whoami()
    assert time.monotonic() - started >= 0.3


# ---- persistence and the CLI --------------------------------------------------------------


def test_state_survives_a_restart_on_the_same_data_dir(tmp_path: Path, weights: bytes) -> None:
    with LocalHub(tmp_path) as first:
        api = HfApi(endpoint=first.endpoint, token=DEMO_TOKEN)
        api.create_repo("me/kept", private=True)
        info = api.upload_file(
            path_or_fileobj=weights, path_in_repo="w.safetensors", repo_id="me/kept"
        )
        api.create_tag("me/kept", tag="v1")
    (tmp_path / "tmp" / "upload-leftover").write_bytes(b"half an upload")  # as after a crash

    with LocalHub(tmp_path) as second:
        api = HfApi(endpoint=second.endpoint, token=DEMO_TOKEN)
        assert api.model_info("me/kept").private is True
        assert {t.name: t.target_commit for t in api.list_repo_refs("me/kept").tags} == {
            "v1": info.oid
        }
        assert _commit_ids(api, "me/kept")[0] == info.oid
        path = api.hf_hub_download("me/kept", "w.safetensors", cache_dir=tmp_path / "cache")
        assert Path(path).read_bytes() == weights
    assert not (tmp_path / "tmp" / "upload-leftover").exists()


def _start_cli(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publisher",
            "hub",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp_path),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Press Ctrl+C"):
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"server did not start: {process.communicate()[1]}")
        lines.append(line.rstrip("\n"))
    return process, lines


def _stop_cli(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=10)


def test_cli_serve_prints_the_client_settings_and_serves(tmp_path: Path) -> None:
    process, lines = _start_cli(tmp_path)
    try:
        env = dict(line.split("export ", 1)[1].split("=", 1) for line in lines if "export " in line)
        assert env["HF_HUB_DISABLE_XET"] == "1" and env["HF_TOKEN"] == DEMO_TOKEN
        api = HfApi(endpoint=env["HF_ENDPOINT"], token=env["HF_TOKEN"])
        api.create_repo("demo/model")
        assert api.list_repo_files("demo/model") == [".gitattributes"]
    finally:
        assert _stop_cli(process) == 0
    assert (tmp_path / "repos" / "models" / "demo" / "model" / "repo.json").is_file()


def test_cli_serve_never_prints_a_custom_token(tmp_path: Path) -> None:
    secret = "hf_my_private_token_123"
    process, lines = _start_cli(tmp_path, "--token", secret)
    try:
        assert not any(secret in line for line in lines)
        endpoint = lines[0].split()[4]
        assert HfApi(endpoint=endpoint, token=secret).whoami()["name"] == "local-user"
        with pytest.raises(HfHubHTTPError):
            HfApi(endpoint=endpoint, token=DEMO_TOKEN).whoami()
    finally:
        assert _stop_cli(process) == 0


def test_cli_hub_without_an_action_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "publisher", "hub"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 2
    assert "ACTION" in result.stderr


def test_request_log_records_method_path_and_range(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str
) -> None:
    hub_api.create_repo(hub_repo_id)
    hub.requests.clear()
    get_session().get(hf_hub_url(hub_repo_id, ".gitattributes"), headers={"Range": "bytes=0-9"})

    assert hub.requests == [("GET", f"/{hub_repo_id}/resolve/main/.gitattributes", "bytes=0-9")]


def test_faults_fire_a_bounded_number_of_times(hub: LocalHub) -> None:
    fault = hub.faults.add(method="GET", path_regex=r"^/api/whoami-v2$", status=503, times=2)
    url = f"{hub.endpoint}/api/whoami-v2"
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}

    codes = [get_session().get(url, headers=headers).status_code for _ in range(3)]

    assert codes == [503, 503, 200] and fault.fired == 2
    body = json.loads(get_session().get(url, headers=headers).content)
    assert body["name"] == "local-user"


def test_stop_closes_open_connections_and_frees_the_port(tmp_path: Path) -> None:
    server = LocalHub(tmp_path).start()
    host, port = server.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 401")  # and the connection stays open

        server.stop()

        conn.settimeout(5)
        while conn.recv(65536):  # rest of the 401, then EOF: the server hung up
            pass
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=1).close()
