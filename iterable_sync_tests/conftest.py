from collections.abc import Iterator
from pathlib import Path

import pytest

from iterable_sync.warehouse_resource import DuckDBWarehouse

pytest_plugins = [
    "iterable_sync_tests.fixtures.emulator",
    "iterable_sync_tests.fixtures.warehouses",
]

UI_DIR = Path(__file__).parent / "ui"


@pytest.hookimpl(trylast=True)  # after ui/conftest.py has put its tests in order
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Split the suite across processes (pytest-xdist, `-n`) a file at a time, so a module's
    fixtures are set up once and its tests run in their order; the UI tests, which share one
    `dagster dev`, are one group and go first, being the longest."""
    ui = [item for item in items if item.path.parent == UI_DIR]
    items[:] = ui + [item for item in items if item.path.parent != UI_DIR]
    for item in items:
        group = "ui" if item.path.parent == UI_DIR else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


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
