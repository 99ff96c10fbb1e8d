from collections.abc import Iterator
from pathlib import Path

import pytest

from iterable_sync.warehouse import DuckDBWarehouse

pytest_plugins = ["iterable_sync_tests.fixtures.emulator"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ITERABLE_SYNC_HOME with the embedded defaults."""
    path = tmp_path / "home"
    monkeypatch.setenv("ITERABLE_SYNC_HOME", str(path))
    for name in (
        "ITERABLE_SYNC_DUCKDB_PATH",
        "ITERABLE_SYNC_WAREHOUSE",
        "ITERABLE_BASE_URL",
        "ITERABLE_API_KEY",
        "ITERABLE_PROJECT_TYPE",
        "ITERABLE_SYNC_SYNCS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    yield path


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    """The embedded warehouse on a real DuckDB file."""
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
