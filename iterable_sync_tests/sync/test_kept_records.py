"""Records kept from the last run: only the keys whose rows moved are made again, and what
is kept is exactly what a rebuild would make (the same rows, verdicts and copies)."""

from typing import Any

import pytest

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync import planning
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan import rules
from iterable_sync.sync.plan.records import RECORD_COLUMNS, records_sql
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import literal
from iterable_sync.warehouse import WarehouseSession
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.sync.harness import make_sync
from iterable_sync_tests.sync.typed_harness import synced_users

SNAPSHOT = f"{SYNC_SCHEMA}.CONTACT_NAMESPACE"
REBUILT = f"{SYNC_SCHEMA}.REBUILT_RECORDS"
FIELD_TYPES = {"seats": "long", "trialStart": "date"}
N = 200


def row(n: int, **changes: Any) -> dict[str, Any]:
    values = {
        "CONTACT_ID": f"C{n:04d}",
        "EMAIL": f"user.{n}@example.com",
        "GITLAB_USER_ID": str(1000 + n),
        "FIRST_NAME": f"First{n}",
        "PLAN": "free",
        "NAMESPACES_ARRAY": "[]",
        "TRIAL_START_DATE": "2026-01-01 00:00:00",
        "SEAT_COUNT": str(n),
    }
    return {**values, **changes}


def load(session: WarehouseSession, rows: list[dict[str, Any]]) -> None:
    columns = list(row(0))
    session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
    session.execute(
        f"CREATE OR REPLACE TABLE {SNAPSHOT} ({', '.join(f'{c} VARCHAR' for c in columns)})"
    )
    session.conn.executemany(  # type: ignore[attr-defined]
        f"INSERT INTO {SNAPSHOT} VALUES ({', '.join('?' for _ in columns)})",
        [[r[c] for c in columns] for r in rows],
    )


def build(session: WarehouseSession, sync: SyncConfig, field_types: dict[str, str]) -> int:
    types = planning.column_types(session, sync)
    return planning.build_records(session, sync, types, "email", field_types).remade


def records(session: WarehouseSession, table: str) -> list[tuple[Any, ...]]:
    return session.conn.execute(  # type: ignore[attr-defined]
        f"SELECT {RECORD_COLUMNS} FROM {table} ORDER BY PK"
    ).fetchall()


def assert_as_rebuilt(
    session: WarehouseSession, sync: SyncConfig, field_types: dict[str, str]
) -> list[tuple[Any, ...]]:
    """The sync's records are what a rebuild makes of the snapshot now (in a table of its
    own); returns them."""
    types = planning.column_types(session, sync)
    text = records_sql(sync, SNAPSHOT, types, "email", field_types)
    session.execute(text.replace(SyncTables(sync.name).records, REBUILT, 1))
    kept = records(session, SyncTables(sync.name).records)
    assert kept == records(session, REBUILT)
    return kept


@pytest.fixture
def session(warehouse: DuckDBWarehouse) -> Any:
    with warehouse.session() as opened:
        yield opened


@pytest.fixture
def sync() -> SyncConfig:
    return make_sync(duplicates={"policy": "keep_one", "order_by": "FIRST_NAME DESC"})


def test_a_first_build_makes_every_record(session, sync):
    load(session, [row(n) for n in range(N)])

    assert build(session, sync, FIELD_TYPES) == N
    assert_as_rebuilt(session, sync, FIELD_TYPES)


def test_an_unchanged_model_remakes_no_record(session, sync):
    load(session, [row(n) for n in range(N)])
    build(session, sync, FIELD_TYPES)

    assert build(session, sync, FIELD_TYPES) == 0


def test_refreshed_records_are_what_a_rebuild_makes(session, sync):
    load(session, [row(n) for n in range(N)] + [row(5, FIRST_NAME="Copy")])
    build(session, sync, FIELD_TYPES)
    moved = [row(n) for n in range(N) if n not in (3, 4)]  # 3 and 4 leave the model
    moved[10] = row(12, PLAN="premium")  # a value changes
    moved[11] = row(13, SEAT_COUNT="lots")  # a value stops fitting its type
    moved[12] = row(14, EMAIL=None)  # the row can no longer name its user
    moved += [row(N), row(N + 1)]  # new keys
    moved += [row(20, FIRST_NAME="Twin")]  # a key gains a copy; 5 loses its copy
    load(session, moved)

    remade = build(session, sync, FIELD_TYPES)

    # 3, 4 gone; 5, 12, 13, 14, 20, N, N+1 made again.
    assert remade == 9
    kept = assert_as_rebuilt(session, sync, FIELD_TYPES)
    by_key = {r[0]: r for r in kept}
    assert by_key["C0013"][5] == "invalid value"
    assert (by_key["C0020"][4], by_key["C0005"][4]) == (2, 1)


def test_a_record_held_back_for_an_identity_collision_is_judged_again(session, sync):
    load(session, [row(n) for n in range(N)])
    build(session, sync, FIELD_TYPES)
    table = SyncTables(sync.name).records
    # What the identity check does to a colliding row (checks/identity.py).
    session.execute(
        f"UPDATE {table} SET INVALID_REASON = 'identity collision: x',"
        f" INVALID_CHECK = {literal(rules.IDENTITIES_UNAMBIGUOUS)} WHERE PK = 'C0007'"
    )

    assert build(session, sync, FIELD_TYPES) == 1
    assert_as_rebuilt(session, sync, FIELD_TYPES)


def test_new_field_types_rebuild_every_record(session, sync):
    load(session, [row(n) for n in range(N)])
    build(session, sync, FIELD_TYPES)
    as_text = {**FIELD_TYPES, "seats": "string"}

    assert build(session, sync, as_text) == N
    assert_as_rebuilt(session, sync, as_text)


def test_most_keys_moved_rebuild_every_record(session, sync):
    load(session, [row(n) for n in range(N)])
    build(session, sync, FIELD_TYPES)
    load(session, [row(n, PLAN="premium") for n in range(N)])

    assert build(session, sync, FIELD_TYPES) == N
    assert_as_rebuilt(session, sync, FIELD_TYPES)


def test_records_dropped_by_hand_are_made_again(session, sync):
    load(session, [row(n) for n in range(N)])
    build(session, sync, FIELD_TYPES)
    table = SyncTables(sync.name).records
    session.execute(f"DELETE FROM {table} WHERE PK IN ('C0001', 'C0002')")

    assert build(session, sync, FIELD_TYPES) == 2
    assert_as_rebuilt(session, sync, FIELD_TYPES)


# ------------------------------------------------------------------- through a whole run

USER_COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR"}


def user_row(n: int, plan: str = "free") -> dict[str, object]:
    return {"ID": f"K{n:04d}", "EMAIL": f"user.{n}@example.com", "PLAN": plan}


def test_a_run_compares_kept_and_remade_records_alike(warehouse, shared_emulator):
    synced = synced_users(
        warehouse,
        shared_emulator,
        [{"column": "PLAN", "field": "plan"}],
        [user_row(n) for n in range(N)],
        USER_COLUMNS,
    )
    state = SyncTables(synced.sync.name).state
    # A kept record whose state has not caught up with it (as after a send that failed):
    # Iterable holds an older plan for user 9. And a row of the model changes (user 7).
    with warehouse.session() as session:
        session.execute(
            f"UPDATE {state} SET FAST = FAST + 1, HASH = 'older',"
            """ PAYLOAD = '{"plan":"trial"}' WHERE PK = 'K0009'"""
        )
    synced.load([user_row(n, "premium" if n == 7 else "free") for n in range(N)])

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"], meta["accepted"]) == (2, 2, 2)
    assert synced.user("user.7@example.com")["dataFields"]["plan"] == "premium"
    assert synced.user("user.9@example.com")["dataFields"]["plan"] == "free"
