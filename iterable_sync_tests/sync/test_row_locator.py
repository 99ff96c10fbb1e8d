"""DuckDB locates rows (``rowid``): its records keep the snapshot row each was made from, the
diff fetches rows by it, and duplicated keys are settled after one pass. Snowflake has no
such locator and joins on the key. Both ways must make the same records and the same diff."""

from datetime import datetime
from typing import Any

import pytest

from iterable_sync.sync import factory, sql
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {
    "ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR", "SEATS": "VARCHAR",
    "TRIAL_START": "VARCHAR", "UPDATED_AT": "TIMESTAMP_NTZ",
}  # fmt: skip
N = 400
DAY = datetime(2026, 11, 1)


def row(n: int, **values: Any) -> dict[str, Any]:
    found = {"ID": f"K{n:04d}", "EMAIL": f"user.{n}@example.com", "PLAN": "free",
             "SEATS": str(n % 7), "TRIAL_START": "2026-10-01 00:00:00",
             "UPDATED_AT": DAY}  # fmt: skip
    return {**found, **values}


def todays_rows() -> list[dict[str, Any]]:
    """A day later: values changed, keys gone and new, bad values, and duplicated keys —
    copies told apart by their order, copies tied on it, and copies alike."""
    changes: dict[int, dict[str, Any]] = {n: {"PLAN": "premium"} for n in range(0, N, 17)}
    changes[5] = {"SEATS": "many"}  # not a number
    changes[6] = {"TRIAL_START": "not a date"}
    changes[8] = {"EMAIL": None}
    rows = [row(n, **changes.get(n, {})) for n in range(N) if n % 50 != 3]  # 3, 53... left
    rows += [row(n) for n in range(N, N + 20)]  # new keys
    rows.append(row(10, PLAN="older", UPDATED_AT=datetime(2026, 10, 1)))  # the newer one wins
    rows.append(row(11, PLAN="tied"))  # same order: the smaller hash wins
    rows.append(row(12))  # alike
    rows += [row(13, PLAN=f"copy {i}", UPDATED_AT=datetime(2026, 9, i + 1)) for i in range(3)]
    return rows


def _table(session: Any, name: str, order: str) -> list[dict[str, Any]]:
    found = session.query(f"SELECT * FROM {name} ORDER BY {order}")
    return [{k: v for k, v in r.items() if k != "SNAPSHOT_ROW"} for r in found]


def _plan(session: Any, sync: Any, row_id: str | None) -> tuple[list[Any], list[Any]]:
    tables = sql.SyncTables(sync.name)
    types = factory._column_types(session, sync)
    field_types = {"plan": "string", "seats": "long", "trialStart": "date"}
    statements = [
        *sql.records_sql(sync, factory.snapshot_table(sync), types, "email", field_types, row_id),
        *sql.diff_sql(sync),
    ]
    for statement in statements:
        session.execute(statement)
    return _table(session, tables.records, "PK"), _table(session, tables.diff, "SEQ")


@pytest.mark.parametrize("policy", ["keep_one", "drop_all"])
def test_records_and_diff_are_the_same_fetched_by_row_or_joined_on_the_key(
    warehouse, shared_emulator, policy
):
    duplicates = {"order_by": "UPDATED_AT DESC"} if policy == "keep_one" else {}
    if policy == "drop_all":
        duplicates["policy"] = "drop_all"
    sync = make(
        "users",
        mode="upsert",
        match="email",
        identifiers={"email": "EMAIL"},
        mapping=[
            {"column": "PLAN", "field": "plan"},
            {"column": "SEATS", "field": "seats", "cast": "long"},
            {"column": "TRIAL_START", "field": "trialStart", "cast": "date"},
        ],
        duplicates=duplicates,
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(n) for n in range(N)], COLUMNS)
    assert harness.sync_run()["accepted"] == N
    harness.load(todays_rows())

    with warehouse.session() as session:
        assert session.row_id == "rowid"
        located = _plan(session, sync, session.row_id)
        joined = _plan(session, sync, None)

    records, diff = located
    assert (records, diff) == joined
    by_key = {r["PK"]: r for r in records}
    if policy == "keep_one":
        assert by_key["K0010"]["COPIES"] == 2 and by_key["K0013"]["COPIES"] == 4
        sent = {d["PK"]: d["PAYLOAD"] for d in diff}
        assert '"plan":"free"' in sent.get("K0010", '"plan":"free"')  # the newer copy
        assert "K0012" not in sent  # two alike copies of an unchanged row send nothing
    else:
        assert by_key["K0010"]["INVALID_REASON"] == "duplicate key (2 rows, all dropped)"
    assert by_key["K0005"]["INVALID_FIELD"] == "seats"
    assert by_key["K0006"]["INVALID_FIELD"] == "trialStart"
    assert {d["CHANGE"] for d in diff} == {"added", "changed", "removed"}
    assert len(records) == N - 8 + 20
