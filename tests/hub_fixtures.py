"""Pytest fixtures for the local Hub (publisher.localhub.server.LocalHub).

The client reads HF_ENDPOINT once, at import; tests/conftest.py points it at a free port, so one
server owns that port for the whole session. Fixtures:

- `local_hub`: the session's server (data in a session temp dir).
- `hub`: the same server with faults, latency and the request log cleared before and after.
- `hub_api`: a `huggingface_hub.HfApi` for it, authenticated with the demo token.
- `hub_repo_id`: a repository id unique to the test ("tester/<test name>-<random>").

Use them with `pytest_plugins = ["tests.hub_fixtures"]` in conftest.py, or by importing them.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from publisher.localhub.server import DEMO_TOKEN, LocalHub

if TYPE_CHECKING:
    from huggingface_hub import HfApi

_SESSION: dict[str, LocalHub] = {}
_LOCK = threading.Lock()


def _session_hub(tmp_path_factory: pytest.TempPathFactory) -> LocalHub:
    """One server per process, even if these fixtures are collected twice (plugin and import)."""
    with _LOCK:
        if "hub" not in _SESSION:
            endpoint = os.environ["HF_ENDPOINT"]
            port = urlsplit(endpoint).port
            if port is None or not endpoint.startswith("http://127.0.0.1:"):
                raise RuntimeError(
                    f"HF_ENDPOINT={endpoint} is not a local address (see conftest.py)"
                )
            hub = LocalHub(tmp_path_factory.mktemp("local-hub"), port=port).start()
            _SESSION["hub"] = hub
        return _SESSION["hub"]


@pytest.fixture(scope="session")
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    hub = _session_hub(tmp_path_factory)
    yield hub
    with _LOCK:
        if _SESSION.pop("hub", None) is not None:
            hub.stop()


@pytest.fixture
def hub(local_hub: LocalHub) -> Iterator[LocalHub]:
    local_hub.reset()
    yield local_hub
    local_hub.reset()


@pytest.fixture
def hub_api(hub: LocalHub) -> HfApi:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=DEMO_TOKEN)


@pytest.fixture
def hub_repo_id(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:60].rstrip("-")
    return f"tester/{name}-{uuid.uuid4().hex[:8]}"
