"""In-process emulator apps for tests where a subprocess buys nothing (project types other
than the session emulator's, pure rules). Over-HTTP fixtures live in
``iterable_sync_tests/fixtures/emulator.py``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from iterable_sync.emulator import EmulatorConfig, create_app

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2; httpx is the project's pinned client.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "inproc-key"
InProc = Callable[..., TestClient]


@pytest.fixture
def inproc(tmp_path: Path) -> Iterator[InProc]:
    """``inproc(project_type="userId", **EmulatorConfig options)`` -> a keyed TestClient."""
    clients: list[TestClient] = []

    def make(project_type: str = "email", **options: Any) -> TestClient:
        options.setdefault("rate_limits", "off")
        config = EmulatorConfig(
            api_key=KEY, project_type=project_type,
            state_dir=tmp_path / f"inproc-{len(clients)}", **options,
        )
        client = TestClient(create_app(config), headers={"Api-Key": KEY})
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(shared_emulator: Any) -> Iterator[httpx.Client]:
    """A keyed HTTP client on the freshly reset session emulator."""
    with shared_emulator.client(timeout=10) as client:
        yield client
