"""EmulatorProcess: free ports, readiness, clean stops."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from iterable_sync.emulator import EmulatorProcess, EmulatorStartError


def test_starts_on_a_free_loopback_port_and_stops(tmp_path: Path) -> None:
    with EmulatorProcess("k", state_dir=tmp_path) as emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        assert emulator.port > 0
        pid = emulator.pid
        assert httpx.get(f"{emulator.base_url}/_emulator/health",
                         headers={"Api-Key": "k"}).status_code == 200
    assert not emulator.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid or 0, 0)


def test_a_failing_start_raises_with_the_log(tmp_path: Path) -> None:
    with pytest.raises(EmulatorStartError, match="exited"):
        EmulatorProcess("k", state_dir=tmp_path, faults={"p500": 2}).start()


def test_repr_hides_the_key(tmp_path: Path) -> None:
    assert "secret" not in repr(EmulatorProcess("secret", state_dir=tmp_path))
