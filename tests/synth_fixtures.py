"""Session fixtures: real tiny checkpoints and exports, each built once (disk-cached).

Register with `pytest_plugins = ["tests.synth_fixtures"]` in conftest.py. The cache lives in
`$PUBLISHER_SYNTH_CACHE`, else `<repo>/.cache/synth` (git-ignored); its keys change with the
library versions and the synth source, so a stale build is never reused. The directories are
shared: treat them as read-only (write a modified variant afresh elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def synth_cache_dir() -> Path:
    return Path(os.environ.get("PUBLISHER_SYNTH_CACHE", REPO_ROOT / ".cache" / "synth"))


@pytest.fixture(scope="session")
def tiny_dense_dir(synth_cache_dir: Path) -> Path:
    """save_pretrained of a tiny dense Qwen3.5 (64 layers, 2 vision blocks), BF16."""
    from publisher.testkit.tiny import cached_tiny_checkpoint

    return cached_tiny_checkpoint("dense", synth_cache_dir)


@pytest.fixture(scope="session")
def tiny_moe_dir(synth_cache_dir: Path) -> Path:
    """save_pretrained of a tiny MoE Qwen3.5 (40 layers, 4 experts, 2 vision blocks), BF16."""
    from publisher.testkit.tiny import cached_tiny_checkpoint

    return cached_tiny_checkpoint("moe", synth_cache_dir)


@pytest.fixture(scope="session")
def modelopt_dense_dir(synth_cache_dir: Path) -> Path:
    """Genuine ModelOpt 0.47 NVFP4 export of the tiny dense model (same weights, seed 0)."""
    from publisher.testkit.modelopt_export import cached_export

    return cached_export("dense", synth_cache_dir)


@pytest.fixture(scope="session")
def modelopt_moe_dir(synth_cache_dir: Path) -> Path:
    """Genuine ModelOpt 0.47 NVFP4 export of the tiny MoE model."""
    from publisher.testkit.modelopt_export import cached_export

    return cached_export("moe", synth_cache_dir)


@pytest.fixture(scope="session")
def compressed_tensors_dense_dir(synth_cache_dir: Path) -> Path:
    """compressed-tensors NVFP4 layout of `modelopt_dense_dir`."""
    from publisher.testkit.compressed_tensors import cached_compressed_tensors

    return cached_compressed_tensors("dense", synth_cache_dir)


@pytest.fixture(scope="session")
def compressed_tensors_moe_dir(synth_cache_dir: Path) -> Path:
    """compressed-tensors NVFP4 layout of `modelopt_moe_dir`."""
    from publisher.testkit.compressed_tensors import cached_compressed_tensors

    return cached_compressed_tensors("moe", synth_cache_dir)


@pytest.fixture(scope="session")
def modelopt_dense_spec(modelopt_dense_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spec `publisher init` writes for the genuine export (the export is its own ground
    truth). Read-only: tests that need another variant write it afresh."""
    import contextlib
    import io

    from publisher.cli import main

    path = tmp_path_factory.mktemp("spec") / "Tiny-NVFP4.yaml"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(modelopt_dense_dir), "--name", "Tiny-NVFP4", "-o", str(path)]) == 0
    return path
