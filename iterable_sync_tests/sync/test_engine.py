"""The sender's loop (``engine.SyncRun``) on a real DuckDB file, with a destination that
records what it was given instead of calling Iterable."""

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync import engine
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow
from iterable_sync.sync.plan.ledgers import WRITE_BACK_DDL
from iterable_sync.sync.plan.state import state_ddl
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse import WarehouseSession
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.sync.harness import make_sync

ROWS = 25


@dataclass
class RecordingDestination:
    """Accepts every row; notes how many objects the collector had frozen at each batch."""

    batch_size: int = 10
    fail: bool = False
    frozen_at_send: list[int] = field(default_factory=list)

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        self.frozen_at_send.append(gc.get_freeze_count())
        if self.fail:
            raise RuntimeError("Iterable is down")
        return BatchOutcome(accepted=list(rows))

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        return BatchOutcome(released=list(rows))


@pytest.fixture
def session(warehouse: DuckDBWarehouse) -> Iterator[WarehouseSession]:
    """A diff of ``ROWS`` added users, and empty state."""
    sync = make_sync()
    tables = SyncTables(sync.name)
    with warehouse.session() as session:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
        session.execute(
            f"CREATE TABLE {tables.diff} AS SELECT i AS SEQ, 'k' || i AS PK,"
            " 'u' || i || '@example.com' AS EMAIL, CAST(NULL AS VARCHAR) AS USER_ID,"
            " '{\"plan\":\"free\"}' AS PAYLOAD, 'h' || i AS HASH, 'added' AS CHANGE,"
            " CAST(NULL AS VARCHAR) AS PREVIOUS_OUTCOME, CAST(NULL AS VARCHAR) AS PREVIOUS_EMAIL,"
            f" CAST(NULL AS VARCHAR) AS STATE_PAYLOAD, i AS FAST FROM range(1, {ROWS + 1}) t(i)"
        )
        session.execute(state_ddl(sync))
        for ddl in WRITE_BACK_DDL:
            session.execute(ddl)
        yield session


def _run(session: WarehouseSession, destination: RecordingDestination) -> engine.SyncRun:
    return engine.SyncRun(
        session=session,
        sync=make_sync(),
        destination=destination,
        call_log=engine.CallLog(),
        run_id="run-1",
    )


def test_the_heap_alive_before_the_send_is_left_out_of_collection_while_it_runs(
    session: WarehouseSession,
) -> None:
    before = gc.get_freeze_count()
    destination = RecordingDestination()

    tally = _run(session, destination).execute()

    assert tally.accepted == ROWS
    assert len(destination.frozen_at_send) == 3  # 25 rows in batches of 10
    assert all(count > before for count in destination.frozen_at_send)
    assert gc.get_freeze_count() == before


def test_the_heap_is_handed_back_to_the_collector_when_the_send_fails(
    session: WarehouseSession,
) -> None:
    before = gc.get_freeze_count()
    destination = RecordingDestination(fail=True)

    with pytest.raises(RuntimeError, match="Iterable is down"):
        _run(session, destination).execute()

    assert destination.frozen_at_send and destination.frozen_at_send[0] > before
    assert gc.get_freeze_count() == before


def test_state_advances_for_the_rows_the_destination_accepted(
    session: WarehouseSession,
) -> None:
    _run(session, RecordingDestination()).execute()

    tables = SyncTables(make_sync().name)
    rows = session.query(f"SELECT PK, OUTCOME, FAST FROM {tables.state} ORDER BY FAST")
    assert [(r["PK"], r["OUTCOME"], r["FAST"]) for r in rows] == [
        (f"k{i}", "synced", i) for i in range(1, ROWS + 1)
    ]
