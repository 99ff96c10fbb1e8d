"""Fields Iterable dropped (a project that does not create unknown fields) end to end: a real
DuckDB file, the emulator over HTTP set to drop unrecognized fields, then to allow them.

Iterable's spec, UserBulkUpdateListResponse.filteredOutFields: "Fields that were dropped
because createNewFields was false or createNewFields was not set and the project is
configured to drop unrecognized user profile fields."
"""

import json
from typing import Any

import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.sync.plan.tables import ROW_ERRORS_TABLE, RUNS_TABLE
from iterable_sync_tests.fixtures.contacts import SOURCE_TABLE, contact, create_contacts
from iterable_sync_tests.sync.harness import BASE_SYNC, Harness, make_sync
from iterable_sync_tests.sync.typed_harness import TypedHarness, make, upsert_users

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR", "SEATS": "INTEGER"}
ROWS = [
    {"ID": "C0", "EMAIL": "c0@example.com", "PLAN": "free", "SEATS": 5},
    {"ID": "C1", "EMAIL": "c1@example.com", "PLAN": "pro", "SEATS": 7},
    # No seats: nothing of this row is dropped.
    {"ID": "C2", "EMAIL": "c2@example.com", "PLAN": "free", "SEATS": None},
]


@pytest.fixture
def harness(warehouse, shared_emulator: EmulatorProcess) -> TypedHarness:
    """Users with ``plan`` (a field the project knows) and ``seats`` (one it does not), in
    a project that drops unrecognized fields."""
    shared_emulator.admin.seed_users([{"email": "seed@example.com", "dataFields": {"plan": "x"}}])
    shared_emulator.admin.set_unknown_fields("drop")
    sync = upsert_users(
        [{"column": "PLAN", "field": "plan"}, {"column": "SEATS", "field": "seats"}]
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(ROWS, COLUMNS)
    return harness


def errors(harness: TypedHarness, run_id: str | None = None) -> dict[str, tuple[Any, ...]]:
    where = f" WHERE RUN_ID = '{run_id}'" if run_id else ""
    rows = harness.query(f"SELECT * FROM {ROW_ERRORS_TABLE}{where}")
    return {r["PK"]: (r["CODE"], r["FIELD"], r["VALUE"]) for r in rows}


def state(harness: TypedHarness) -> dict[str, dict[str, Any]]:
    rows = harness.query(f"SELECT PK, PAYLOAD, OUTCOME FROM ITERABLE_SYNC.{_table(harness)}")
    return {r["PK"]: {"payload": json.loads(r["PAYLOAD"]), "outcome": r["OUTCOME"]} for r in rows}


def _table(harness: TypedHarness, suffix: str = "STATE") -> str:
    return f"{harness.sync.name.upper()}__{suffix}"


def test_a_dropped_field_is_a_row_error_and_never_counted_delivered(harness):
    meta = harness.sync_run()
    assert (meta["accepted"], meta["partially_delivered"], meta["failed"]) == (1, 2, 0)
    assert meta["filtered_out_fields"] == ["seats"]
    (run,) = harness.query(f"SELECT ACCEPTED, FAILED FROM {RUNS_TABLE}")
    assert (run["ACCEPTED"], run["FAILED"]) == (1, 2)
    assert errors(harness) == {
        "C0": ("filteredOutFields", "seats", "5"),
        "C1": ("filteredOutFields", "seats", "7"),
    }
    user = harness.user("c0@example.com")["dataFields"]
    assert user["plan"] == "free" and "seats" not in user
    # State records what Iterable holds: the user, without the field it dropped.
    kept = state(harness)
    assert kept["C0"] == {"payload": {"plan": "free"}, "outcome": "synced"}
    assert kept["C2"]["payload"] == {"plan": "free"}


def test_the_field_goes_again_once_the_project_accepts_it(harness):
    harness.sync_run()
    harness.emulator.admin.set_unknown_fields("allow")
    before = harness.last_seq()
    meta = harness.sync_run()
    # Only the rows that lost the field go again, found by the diff as "field added".
    reasons = harness.query(f"SELECT PK, REASON FROM ITERABLE_SYNC.{_table(harness, 'DIFF')}")
    assert {r["PK"]: r["REASON"] for r in reasons} == {"C0": "field added", "C1": "field added"}
    assert (meta["sent"], meta["accepted"], meta["partially_delivered"]) == (2, 2, 0)
    assert meta["created_fields"] == ["seats"]
    assert len(harness.calls_since(before)) == 1
    assert harness.user("c1@example.com")["dataFields"]["seats"] == 7
    assert state(harness)["C1"]["payload"] == {"plan": "pro", "seats": 7}
    # Delivered now: the next run has nothing to send.
    assert harness.sync_run()["write_calls"] == 0


def test_while_the_project_still_drops_it_every_run_says_so(harness):
    harness.sync_run()
    meta = harness.sync_run()
    assert (meta["sent"], meta["partially_delivered"]) == (2, 2)
    assert set(errors(harness)) == {"C0", "C1"}
    assert len(harness.query(f"SELECT * FROM {ROW_ERRORS_TABLE}")) == 4


def test_an_event_field_dropped_is_a_row_error_and_kept_out_of_state(warehouse, shared_emulator):
    shared_emulator.admin.set_unknown_fields("drop")
    sync = make(
        "events",
        event_name="seatsChanged",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "SEATS", "field": "seats"}],
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(ROWS[:1], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["partially_delivered"]) == (0, 1)
    assert errors(harness) == {"C0": ("filteredOutFields", "seats", "5")}
    assert "seats" not in state(harness)["C0"]["payload"]["dataFields"]


def test_a_list_member_whose_field_was_dropped_is_subscribed_with_a_row_error(
    warehouse, shared_emulator
):
    shared_emulator.admin.set_unknown_fields("drop")
    sync = make(
        "list", identifiers={"email": "EMAIL"}, mapping=[{"column": "PLAN", "field": "plan"}]
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(ROWS[:2], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["partially_delivered"]) == (0, 2)
    assert shared_emulator.admin.state()["lists"][0]["members"] == 2
    assert errors(harness) == {
        "C0": ("filteredOutFields", "plan", "free"),
        "C1": ("filteredOutFields", "plan", "pro"),
    }
    assert "plan" not in harness.user("c0@example.com")["dataFields"]


def test_the_fields_iterable_kept_are_not_taken_for_changes(warehouse, shared_emulator):
    # Objects in arrays, dates, unicode and decimals: the state kept for a row whose field
    # was dropped compares equal to the model on every other field, so the row goes again
    # for the dropped field alone ("field added", never "value changed").
    rows = [
        contact(i, FIRST_NAME=f"Zoë {i} ✓", LEAD_SCORE=0.1 + i / 3, SEAT_COUNT=None)
        for i in range(5)
    ]
    with warehouse.session() as session:
        create_contacts(session, rows)
    mapping = [*BASE_SYNC["mapping"], {"column": "LEAD_SCORE", "field": "leadScore"}]
    harness = Harness(
        warehouse=warehouse, emulator=shared_emulator, sync=make_sync(mapping=mapping)
    )
    assert harness.sync_metadata(harness.run(), harness.sync)["accepted"] == 5
    shared_emulator.admin.set_unknown_fields("drop")
    with warehouse.session() as session:
        session.execute(f"UPDATE {SOURCE_TABLE} SET SEAT_COUNT = 3")
    assert harness.sync_metadata(harness.run(), harness.sync)["partially_delivered"] == 5
    shared_emulator.admin.set_unknown_fields("allow")
    assert harness.sync_metadata(harness.run(), harness.sync)["accepted"] == 5
    reasons = harness.query("SELECT DISTINCT REASON FROM ITERABLE_SYNC.CONTACTS__DIFF")
    assert reasons == [{"REASON": "field added"}]
