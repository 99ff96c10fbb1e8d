"""Planning called directly, without Dagster: what the records step decides is a value the
diff takes, so a diff depends on its arguments and nothing that ran before it."""

from typing import Any

import pytest

from iterable_sync.sync import planning
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.diff import diff_sql
from iterable_sync.sync.plan.records import Records, records_sql, refresh_records_sql
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.sync.harness import make_sync
from iterable_sync_tests.sync.test_kept_records import FIELD_TYPES, SNAPSHOT, load, row

N = 50
TYPES = {column: "VARCHAR" for column in row(0)}


@pytest.fixture
def session(warehouse: DuckDBWarehouse) -> Any:
    with warehouse.session() as opened:
        yield opened


@pytest.fixture
def sync() -> SyncConfig:
    return make_sync()


def test_a_first_plan_makes_every_record_and_diffs_them_all_as_added(session, sync):
    load(session, [row(n) for n in range(N)])

    counts = planning.build_records_and_diff(session, sync, "email", False, FIELD_TYPES)

    assert (counts["records"], counts["records_remade"], counts["added"]) == (N, N, N)
    assert session.scalar(f"SELECT count(*) FROM {SyncTables(sync.name).diff}") == N


def test_records_say_whether_they_were_refreshed_and_from_which_rows(session, sync):
    load(session, [row(n) for n in range(N)])
    types = planning.column_types(session, sync)
    first = planning.build_records(session, sync, types, "email", FIELD_TYPES)
    load(session, [row(n, FIRST_NAME="Changed" if n == 7 else f"First{n}") for n in range(N)])

    again = planning.build_records(session, sync, types, "email", FIELD_TYPES)

    assert first == Records(SNAPSHOT, types, refreshed=False, remade=N)
    assert again == Records(SNAPSHOT, types, refreshed=True, remade=1)


def test_a_refreshed_plan_still_diffs_every_row_of_the_snapshot(session, sync):
    # After a refresh the diff reads the stale keys' rows from their own table and the
    # rest from the snapshot: told so by the records step's value, it misses no row.
    load(session, [row(n) for n in range(N)])
    planning.build_records_and_diff(session, sync, "email", False, FIELD_TYPES)
    load(session, [row(n, FIRST_NAME="Changed" if n == 7 else f"First{n}") for n in range(N)])

    counts = planning.build_records_and_diff(session, sync, "email", False, FIELD_TYPES)

    assert (counts["records_remade"], counts["added"]) == (1, N)


def test_the_diff_depends_on_its_arguments_alone(sync):
    whole = Records(SNAPSHOT, TYPES, refreshed=False)
    refreshed = Records(SNAPSHOT, TYPES, refreshed=True)
    before = diff_sql(sync, whole), diff_sql(sync, refreshed)

    # Building another snapshot's records, refreshed or whole, changes no later diff.
    records_sql(sync, "OTHER.SNAPSHOT", TYPES, "email")
    refresh_records_sql(sync, "OTHER.SNAPSHOT", TYPES, "email")

    assert (diff_sql(sync, whole), diff_sql(sync, refreshed)) == before
    # ...and what the value says is what the diff does: a refresh reads the stale rows.
    stale_rows = SyncTables(sync.name).records_stale_rows
    assert stale_rows in before[1][2] and stale_rows not in before[0][2]


def test_the_plans_tables_keep_their_payloads_compressed(session, sync):
    """A first run's diff holds a payload per record, as state does: both, and the records'
    text, are written ZSTD-compressed on DuckDB (the session leaves its default string
    compression out for speed, which left them uncompressed)."""
    load(session, [row(n) for n in range(N)])
    planning.build_records_and_diff(session, sync, "email", False, FIELD_TYPES)
    tables = SyncTables(sync.name)
    session.execute(
        f"INSERT INTO {tables.state} (PK, HASH, PAYLOAD)"
        f" SELECT PK, HASH, PAYLOAD FROM {tables.diff}"
    )
    session.execute_native("CHECKPOINT")

    def compression(table: str, column: str) -> str:
        return str(
            session.scalar(
                f"SELECT any_value(compression) FROM pragma_storage_info('{table}')"
                f" WHERE column_name = '{column}' AND segment_type = 'VARCHAR'"
            )
        )

    assert compression(tables.diff, "PAYLOAD") == "ZSTD"
    assert compression(tables.state, "PAYLOAD") == "ZSTD"
    assert compression(tables.records, "EMAIL") == "ZSTD"
