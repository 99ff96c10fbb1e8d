"""The records SQL on a real DuckDB file: which values are held back before sending."""

from typing import Any

from iterable_sync.sync.plan.records import records_sql
from iterable_sync.sync.plan.tables import SyncTables, snapshot_table
from iterable_sync.sync.plan.values import (
    BOOLEAN,
    DATE_TEXT,
    DOUBLE,
    LONG,
    type_check_sql,
    value_kind,
)
from iterable_sync.sync.planning import column_types
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.sync.harness import make_sync

SYNC = make_sync(
    identifiers={"email": "EMAIL"},
    mapping=[
        {"column": "SEEN_AT", "field": "seenAt"},
        {"column": "OPTED_IN", "field": "optedIn"},
        {"column": "SEATS", "field": "seats"},
        {"column": "SCORE", "field": "score"},
    ],
)
FIELD_TYPES = {"seenAt": "date", "optedIn": "boolean", "seats": "long", "score": "double"}


def _records(warehouse: DuckDBWarehouse, rows: list[str]) -> list[dict[str, Any]]:
    with warehouse.session() as session:
        session.execute("CREATE SCHEMA IF NOT EXISTS ITERABLE_SYNC")
        session.execute(
            f"CREATE TABLE {snapshot_table(SYNC)} (CONTACT_ID VARCHAR, EMAIL VARCHAR,"
            " SEEN_AT TIMESTAMP, OPTED_IN BOOLEAN, SEATS INTEGER, SCORE DOUBLE)"
        )
        for row in rows:
            session.execute_native(f"INSERT INTO {snapshot_table(SYNC)} VALUES {row}")
        types = column_types(session, SYNC)
        session.execute(records_sql(SYNC, snapshot_table(SYNC), types, "email", FIELD_TYPES))
        return session.query(
            "SELECT PK, INVALID_FIELD, INVALID_VALUE FROM"
            f" {SyncTables(SYNC.name).records} ORDER BY PK"
        )


def test_typed_columns_fit_their_fields_and_a_five_digit_year_does_not(
    warehouse: DuckDBWarehouse,
) -> None:
    records = _records(
        warehouse,
        [
            "('C1', 'a@example.com', TIMESTAMP '2026-11-02 09:30:00', true, 3, 0.5)",
            "('C2', 'b@example.com', TIMESTAMP '0001-01-01 00:00:00', false, -7, 1e300)",
            "('C3', 'c@example.com', TIMESTAMP '12026-01-01 00:00:00', NULL, NULL, NULL)",
            # Year 0 is written 0000; the year before it, -1; infinity, as a word.
            "('C4', 'd@example.com', TIMESTAMP '0001-06-01' - INTERVAL 1 YEAR, NULL, NULL, NULL)",
            "('C5', 'e@example.com', TIMESTAMP '0001-06-01' - INTERVAL 2 YEAR, NULL, NULL, NULL)",
            "('C6', 'f@example.com', TIMESTAMP 'infinity', NULL, NULL, NULL)",
            "('C7', 'g@example.com', TIMESTAMP '9999-12-31 23:59:59', NULL, NULL, NULL)",
        ],
    )
    assert [(r["PK"], r["INVALID_FIELD"], r["INVALID_VALUE"]) for r in records] == [
        ("C1", None, None),
        ("C2", None, None),
        ("C3", "seenAt", "12026-01-01 00:00:00"),
        ("C4", None, None),
        ("C5", "seenAt", "0002-06-01 (BC) 00:00:00"),
        ("C6", "seenAt", "infinity"),
        ("C7", None, None),
    ]


def test_only_what_a_column_type_leaves_open_is_checked_row_by_row() -> None:
    types = {"SEEN_AT": "TIMESTAMP", "OPTED_IN": "BOOLEAN", "SEATS": "INTEGER"}
    by_field = {m.field: value_kind(m, types.get(m.column, "DOUBLE")) for m in SYNC.mapping}
    assert by_field == {
        "seenAt": DATE_TEXT,
        "optedIn": BOOLEAN,
        "seats": LONG,
        "score": DOUBLE,
    }
    # Snowflake's integers are NUMBER(38, 0), wider than Iterable's long: still checked.
    seats = next(m for m in SYNC.mapping if m.field == "seats")
    assert value_kind(seats, "NUMBER(38,0)") is None
    assert value_kind(seats, "NUMBER(18,0)") == LONG
    assert type_check_sql("V", "long", None) is not None
    assert type_check_sql("V", "long", LONG) is None


def test_text_cast_to_a_date_is_held_back_when_it_does_not_parse_or_has_a_long_year(
    warehouse: DuckDBWarehouse,
) -> None:
    sync = make_sync(
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "TRIAL", "field": "trialStart", "cast": "date"}],
    )
    texts = ["2026-11-02 09:30:00", "0000-00-00 00:00:00", "soon", "", None,
             "9999-12-31 23:59:59", "12026-01-01 00:00:00", "2026-1-2 3:04:05"]  # fmt: skip
    with warehouse.session() as session:
        session.execute("CREATE SCHEMA IF NOT EXISTS ITERABLE_SYNC")
        session.execute(
            f"CREATE TABLE {snapshot_table(sync)}"
            " (CONTACT_ID VARCHAR, EMAIL VARCHAR, TRIAL VARCHAR)"
        )
        for i, text in enumerate(texts):
            session.execute_native(
                f"INSERT INTO {snapshot_table(sync)} VALUES (?, ?, ?)",
                [f"C{i}", f"u{i}@example.com", text],
            )
        types = column_types(session, sync)
        session.execute(
            records_sql(sync, snapshot_table(sync), types, "email", {"trialStart": "date"})
        )
        held = session.query(
            f"SELECT PK, INVALID_VALUE FROM {SyncTables(sync.name).records}"
            " WHERE INVALID_FIELD = 'trialStart' ORDER BY PK"
        )

    assert [(r["PK"], r["INVALID_VALUE"]) for r in held] == [
        ("C1", "0000-00-00 00:00:00"),
        ("C2", "soon"),
        ("C3", ""),
        ("C6", "12026-01-01 00:00:00"),
    ]
