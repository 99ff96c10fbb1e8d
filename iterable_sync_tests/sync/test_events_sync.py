"""Custom events end to end: tracked once per row, an event id re-sent replaces its event."""

from datetime import datetime

import pytest

from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {
    "ID": "VARCHAR",
    "EMAIL": "VARCHAR",
    "USER_ID": "VARCHAR",
    "EVENT_ID": "VARCHAR",
    "HAPPENED_AT": "TIMESTAMP_NTZ",
    "PLAN": "VARCHAR",
    "SEATS": "INTEGER",
}


def row(n: int, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "ID": f"N{n}",
        "EMAIL": f"user.{n}@example.com",
        "USER_ID": f"u{n}",
        "EVENT_ID": f"namespace-{n}",
        "HAPPENED_AT": datetime(2026, 11, 1, 10, 0, n),
        "PLAN": "free",
        "SEATS": n,
    }
    values.update(overrides)
    return values


def events_of(harness: TypedHarness, email: str) -> list[dict]:
    with harness.emulator.client() as client:
        return client.get(f"/api/events/{email}").json()["events"]


@pytest.fixture
def harness(warehouse, shared_emulator) -> TypedHarness:
    sync = make(
        "events",
        event_name="namespaceCreated",
        event_id_column="EVENT_ID",
        created_at_column="HAPPENED_AT",
        identifiers={"email": "EMAIL", "userId": "USER_ID"},
        mapping=[{"column": "PLAN", "field": "plan"}, {"column": "SEATS", "field": "seats"}],
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(n) for n in range(5)], COLUMNS)
    return harness


def test_rows_are_tracked_in_bulk_with_their_id_time_and_fields(harness):
    meta = harness.sync_run()
    assert (meta["added"], meta["sent"], meta["accepted"]) == (5, 5, 5)
    assert harness.emulator.admin.state()["events"]["byName"] == {"namespaceCreated": 5}
    (event,) = events_of(harness, "user.3@example.com")
    assert event["_id"] == "namespace-3"
    assert event["createdAt"].startswith("2026-11-01 10:00:03")
    assert event["dataFields"] == {"plan": "free", "seats": 3}
    calls = harness.write_calls()
    assert [c["path"] for c in calls] == ["/api/events/trackBulk"]


def test_a_changed_row_resent_with_its_event_id_replaces_the_event(harness):
    harness.sync_run()
    harness.load([row(n, PLAN="premium" if n == 2 else "free") for n in range(5)])
    meta = harness.sync_run()
    assert (meta["changed"], meta["sent"], meta["accepted"]) == (1, 1, 1)
    # Still one event per id: the re-sent one replaced the first.
    assert harness.emulator.admin.state()["events"]["total"] == 5
    (event,) = events_of(harness, "user.2@example.com")
    assert event["dataFields"]["plan"] == "premium"


def test_without_an_id_column_a_derived_id_makes_a_resync_add_nothing(
    warehouse, shared_emulator
):
    sync = make("events", event_name="signup", identifiers={"email": "EMAIL"})
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(n) for n in range(4)], COLUMNS)
    harness.sync_run()
    # As if state were lost: every row is sent again, with the same derived ids.
    meta = harness.sync_run(ops={"test_events_diff": {"config": {"full_resync": True}}})
    assert meta["sent"] == 4
    assert harness.emulator.admin.state()["events"]["total"] == 4
    (event,) = events_of(harness, "user.1@example.com")
    assert len(event["_id"]) == 32  # md5 of the sync's name and the primary key
    assert "createdAt" in event  # Iterable's arrival time when no column gives one


def test_a_row_without_an_event_name_is_quarantined_and_the_rest_tracked(
    warehouse, shared_emulator
):
    sync = make(
        "events",
        event_name_column="PLAN",
        identifiers={"email": "EMAIL"},
        tolerances={"invalid_values": 0.5},
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(0, PLAN=None), row(1), row(2)], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["quarantined"]) == (2, 1)
    (error,) = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert (error["PK"], error["CODE"], error["FIELD"]) == ("N0", "missing event name", "eventName")

