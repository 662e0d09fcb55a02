"""A release with `--precision-map`: the map is published beside the weights, the card embeds
it, and the step summary links it (local Hub, genuine tiny ModelOpt export)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publisher.cli import main
from tests.test_release import (  # the release tests' git repository and Actions job
    _actions_env,
    _clean_env,  # noqa: F401  (autouse: no GitHub context leaks in; the demo token)
    _commit,
    _tiny_repo,
    tiny_spec_text,  # noqa: F401  (fixture)
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from publisher.localhub.server import LocalHub

pytestmark = pytest.mark.slow


def test_release_publishes_the_map_and_the_summary_links_it(
    hub: LocalHub, hub_api: HfApi, hub_repo_id: str, tiny_spec_text: str,  # noqa: F811
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, modelopt_dense_dir)
    sha = _commit(root, "Tiny-NVFP4", tag="v1.0.0")
    _output, summary = _actions_env(monkeypatch, root, "v1.0.0", sha)
    assert main(["release", "--precision-map"]) == 0, capsys.readouterr().out

    head = hub_api.list_repo_commits(hub_repo_id)[0].commit_id
    assert "precision_map.svg" in hub_api.list_repo_files(hub_repo_id, revision=head)
    card = Path(hub_api.hf_hub_download(hub_repo_id, "README.md", cache_dir=tmp_path / "c"))
    assert "](precision_map.svg)" in card.read_text(encoding="utf-8")
    text = summary.read_text(encoding="utf-8")
    link = re.search(
        r"\| Precision map \| \[`precision_map.svg`\]\((\S+)\), embedded in the card \|", text
    )
    assert link, text
    assert link.group(1) == f"{hub.endpoint}/{hub_repo_id}/blob/{head}/precision_map.svg"

    # v1.1.0 changes only the card: no local checkpoint, so the map is drawn from the weights
    # on the Hub and the card keeps embedding it
    shutil.rmtree(root / "checkpoints")
    spec = root / "model_specs" / "Tiny-NVFP4.yaml"
    spec.write_text(spec.read_text().replace("describe the model", "Describe the model"))
    sha = _commit(root, "Reword", tag="v1.1.0")
    _output, summary = _actions_env(monkeypatch, root, "v1.1.0", sha)
    assert main(["release", "--precision-map"]) == 0, capsys.readouterr().out
    card = Path(hub_api.hf_hub_download(hub_repo_id, "README.md", cache_dir=tmp_path / "d"))
    assert "Describe the model" in card.read_text(encoding="utf-8")
    assert "](precision_map.svg)" in card.read_text(encoding="utf-8")
    head = hub_api.list_repo_commits(hub_repo_id)[0].commit_id
    assert f"/blob/{head}/precision_map.svg)" in summary.read_text(encoding="utf-8")


def test_a_dry_run_says_the_map_would_be_published(
    hub: LocalHub, hub_repo_id: str, tiny_spec_text: str,  # noqa: F811
    modelopt_dense_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = _tiny_repo(tmp_path / "repo", tiny_spec_text, hub_repo_id, modelopt_dense_dir)
    sha = _commit(root, "Tiny-NVFP4", tag="v1.0.0")
    _output, summary = _actions_env(monkeypatch, root, "v1.0.0", sha)
    assert main(["release", "--precision-map", "--dry-run"]) == 0, capsys.readouterr().out
    assert (
        "| Precision map | `precision_map.svg` would be published beside the weights"
        in summary.read_text(encoding="utf-8")
    )
    # without the flag, no map and no row
    summary.write_text("", encoding="utf-8")
    assert main(["release", "--dry-run"]) == 0
    assert "Precision map" not in summary.read_text(encoding="utf-8")
