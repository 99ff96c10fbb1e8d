"""The queried-records ledger: each record counted once per billing period, the records
counted marked so that a run looks up only the records made again since."""

from pathlib import Path

import pytest

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import SyncConfig, load_syncs
from iterable_sync.sync.plan import budget
from iterable_sync.sync.plan.records import RECORD_TYPES, RECORDS_COMPRESSED
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse import WarehouseSession
from iterable_sync.warehouse_resource import DuckDBWarehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sync() -> SyncConfig:
    return next(s for s in load_syncs(ROOT / "syncs.yaml").syncs if s.name == "iterable_production")


def records(session: WarehouseSession, sync: SyncConfig, keys: list[str]) -> None:
    """The sync's records as the planner makes them (nothing counted yet)."""
    table = SyncTables(sync.name).records
    session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
    session.execute(f"DROP TABLE IF EXISTS {table}")
    session.create_table(table, RECORD_TYPES, RECORDS_COMPRESSED)
    for key in keys:
        session.execute(f"INSERT INTO {table} (PK, FAST, COPIES) VALUES (?, 1, 1)", [key])


def test_each_record_counts_once_in_a_period(warehouse: DuckDBWarehouse, sync: SyncConfig):
    with warehouse.session() as session:
        records(session, sync, ["a", "b", "c"])
        assert budget.counted_and_new(session, sync, "2026-12") == (0, 3)
        assert budget.record_queried(session, sync, "2026-12") == 3
        assert budget.counted_and_new(session, sync, "2026-12") == (3, 0)
        assert budget.record_queried(session, sync, "2026-12") == 0


def test_a_record_made_again_is_looked_up_and_a_new_key_counted(
    warehouse: DuckDBWarehouse, sync: SyncConfig
):
    """Made again, a record loses its mark: one already in the ledger is not new, a key the
    ledger has not seen is."""
    table = SyncTables(sync.name).records
    with warehouse.session() as session:
        records(session, sync, ["a", "b"])
        budget.record_queried(session, sync, "2026-12")
        session.execute(f"UPDATE {table} SET QUERIED_IN = NULL WHERE PK = 'a'")
        session.execute(f"INSERT INTO {table} (PK, FAST, COPIES) VALUES ('z', 1, 1)")
        assert budget.counted_and_new(session, sync, "2026-12") == (2, 1)
        assert budget.record_queried(session, sync, "2026-12") == 1
        marks = session.query(f"SELECT DISTINCT QUERIED_IN AS P FROM {table}")
    assert marks == [{"P": "2026-12"}]


def test_a_new_period_counts_every_record_again(warehouse: DuckDBWarehouse, sync: SyncConfig):
    with warehouse.session() as session:
        records(session, sync, ["a", "b"])
        budget.record_queried(session, sync, "2026-11")
        assert budget.counted_and_new(session, sync, "2026-12") == (0, 2)
        assert budget.record_queried(session, sync, "2026-12") == 2
