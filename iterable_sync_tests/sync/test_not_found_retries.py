"""Rows Iterable answered "not found" are tried again on later runs, without waiting for
their data to change (syncs.yaml ``not_found``): on every run by default, or on a back-off.

A real DuckDB file and the emulator over HTTP. Users are matched by email in update mode
(a lookup first, which never creates a user), or by a userId no user holds: both read the
same whatever preferUserId is sent.
"""

from typing import Any

import dagster as dg
import pytest

from iterable_sync.metadata import table_rows
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync_assets import diff_key
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

STATE = "ITERABLE_SYNC.CONTACTS__STATE"
FIELDS = {"firstName", "plan", "namespaces", "trialStart", "seats"}


def diff_metadata(result: dg.ExecuteInProcessResult, harness: Harness) -> dict[str, Any]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == diff_key(harness.sync)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def run(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run: (the diff's metadata, the send's)."""
    result = harness.run()
    return diff_metadata(result, harness), harness.sync_metadata(result, harness.sync)


def update_by_email(warehouse, emulator, rows: int, existing: range, **sync: Any) -> Harness:
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(rows)])
    if existing:
        emulator.admin.seed_users([{"email": f"user.{i}@example.com"} for i in existing])
    return Harness(
        warehouse=warehouse,
        emulator=emulator,
        sync=make_sync(mode="update", match="email", **sync),
    )


def state_of(harness: Harness, pk: str) -> dict[str, Any]:
    table = SyncTables(harness.sync.name).state
    (row,) = harness.query(f"SELECT * FROM {table} WHERE PK = '{pk}'")
    return row


def days_pass(harness: Harness, days: int) -> None:
    """As if ``days`` had passed since every row was last tried (state's clock moved back)."""
    table = SyncTables(harness.sync.name).state
    with harness.warehouse.session() as session:
        session.execute(f"UPDATE {table} SET LAST_TRIED = DATEADD(DAY, -{days}, LAST_TRIED)")


def test_a_user_created_between_runs_gets_every_field_on_the_next_run(warehouse, emulator):
    harness = update_by_email(warehouse, emulator, 20, range(10))
    _, first = run(harness)
    assert (first["accepted"], first["not_found"]) == (10, 10)
    assert state_of(harness, "C000000015")["OUTCOME"] == "not_found"
    assert run(harness)[1]["not_found"] == 10  # the records are kept from here on

    # A sign-up form (or another sync) creates user 15 in Iterable, with nothing of ours.
    emulator.admin.seed_users([{"email": "user.15@example.com"}])
    diff, sent = run(harness)

    # The ten not found go again as retries, though the model is as it was and its records
    # are kept (none made again).
    assert (diff["sent_retry_not_found"], diff["changed"], diff["records_remade"]) == (10, 10, 0)
    assert (sent["accepted"], sent["not_found"], sent["lookups"]) == (1, 9, 10)
    fields = harness.user("user.15@example.com")["dataFields"]
    assert set(fields) >= FIELDS
    assert (fields["firstName"], fields["seats"]) == ("First15", 5)
    assert fields["namespaces"][0]["path"] == "group-15"
    accepted = state_of(harness, "C000000015")
    assert (accepted["OUTCOME"], accepted["NOT_FOUND_TRIES"]) == ("synced", None)
    assert accepted["NOT_FOUND_SINCE"] is None
    assert state_of(harness, "C000000016")["NOT_FOUND_TRIES"] == 3
    assert emulator.admin.state()["users"] == 11  # update mode still creates nobody


def test_a_row_that_stays_not_found_is_counted_and_never_accepted(warehouse, emulator):
    harness = update_by_email(warehouse, emulator, 4, range(1))
    run(harness)
    since = state_of(harness, "C000000002")["NOT_FOUND_SINCE"]
    for tries in (2, 3):
        before = len(emulator.admin.calls(limit=100_000))
        diff, sent = run(harness)
        assert (diff["sent_retry_not_found"], diff["unchanged"]) == (3, 1)
        reasons = {r["REASON"]: r["ROWS"] for r in table_rows(diff["rows_by_reason"])}
        assert reasons["retry not found"] == 3
        assert (sent["sent"], sent["not_found"], sent["accepted"]) == (3, 3, 0)
        # Looked up again, not written: the lookups are the retry's only calls.
        assert sent["lookups"] == 3 and harness.write_calls(since=before) == []
        row = state_of(harness, "C000000002")
        assert (row["OUTCOME"], row["NOT_FOUND_TRIES"]) == ("not_found", tries)
        assert row["NOT_FOUND_SINCE"] == since and row["LAST_TRIED"] >= since
    runs = harness.query("SELECT ACCEPTED, NOT_FOUND FROM ITERABLE_SYNC.SYNC_RUNS")
    assert sorted((r["ACCEPTED"], r["NOT_FOUND"]) for r in runs) == [(0, 3), (0, 3), (1, 3)]
    assert emulator.admin.state()["users"] == 1


def test_backoff_retries_after_1_then_2_days_capped(warehouse, emulator):
    backoff = {"retry": "backoff", "first_after_days": 1, "max_after_days": 2}
    harness = update_by_email(warehouse, emulator, 3, range(0), not_found=backoff)
    assert run(harness)[1]["not_found"] == 3  # tried once: due after 1 day

    def retried() -> int:
        diff, sent = run(harness)
        assert sent["not_found"] == sent["sent"] == sent["lookups"]
        assert diff["sent_retry_not_found"] == sent["sent"]
        return sent["sent"]

    assert retried() == 0  # the same day: not due, not even looked up
    days_pass(harness, 1)
    assert retried() == 3  # tried twice: due after 2 days
    days_pass(harness, 1)
    assert retried() == 0
    days_pass(harness, 1)
    assert retried() == 3  # tried three times: 4 days, capped at 2
    days_pass(harness, 2)
    assert retried() == 3
    assert state_of(harness, "C000000001")["NOT_FOUND_TRIES"] == 4
    assert emulator.admin.state()["users"] == 0


def test_retry_never_keeps_not_found_rows_until_their_data_changes(warehouse, emulator):
    harness = update_by_email(warehouse, emulator, 3, range(0), not_found={"retry": "never"})
    run(harness)
    diff, sent = run(harness)
    assert (diff["sent_retry_not_found"], sent["sent"], sent["api_calls"]) == (0, 0, 0)


def test_a_no_change_rerun_without_not_found_rows_makes_no_call(warehouse, emulator):
    harness = update_by_email(warehouse, emulator, 30, range(30))
    assert run(harness)[1]["accepted"] == 30
    before = len(emulator.admin.calls(limit=100_000))
    diff, sent = run(harness)
    assert (diff["sent_retry_not_found"], sent["sent"], sent["lookups"]) == (0, 0, 0)
    assert sent["write_calls"] == 0 and harness.write_calls(since=before) == []


@pytest.mark.emulator(rate_limits="off")
def test_by_user_id_a_retry_is_a_slot_in_a_bulk_call(warehouse, emulator):
    """The cost of retries matched by userId: no lookup, 1,000 rows a users/bulkUpdate."""
    rows = 2_500
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(rows)])
    # userIds no user holds (the project's users have other ones).
    emulator.admin.seed_users([{"email": "someone@example.com", "userId": "1"}])
    harness = Harness(
        warehouse=warehouse, emulator=emulator, sync=make_sync(mode="update", match="userId")
    )
    assert run(harness)[1]["not_found"] == rows
    before = len(emulator.admin.calls(limit=100_000))
    diff, sent = run(harness)
    assert (diff["sent_retry_not_found"], sent["not_found"], sent["lookups"]) == (rows, rows, 0)
    calls = harness.write_calls(since=before)
    assert [c["path"] for c in calls] == ["/api/users/bulkUpdate"] * 3
    assert emulator.admin.state()["users"] == 1


# ------------------------------------------------------------------ one-row endpoints

EMAIL_COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "NEW_EMAIL": "VARCHAR"}


def test_an_email_update_is_applied_once_its_user_gains_the_user_id(warehouse, shared_emulator):
    shared_emulator.admin.seed_users([{"email": "old.0@example.com"}])
    sync = make(
        "email_updates", match="userId", identifiers={"userId": "USER_ID"},
        new_email_column="NEW_EMAIL",
    )  # fmt: skip
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [{"ID": "K0", "EMAIL": "old.0@example.com", "USER_ID": "u0",
          "NEW_EMAIL": "new.0@example.com"}],
        EMAIL_COLUMNS,
    )  # fmt: skip
    # No user holds userId u0 yet: users/updateEmail answers 400 UnknownUserIdError.
    assert (harness.sync_run()["not_found"], harness.user("new.0@example.com")) == (1, {})

    shared_emulator.admin.seed_users([{"email": "old.0@example.com", "userId": "u0"}])
    meta = harness.sync_run()

    assert (meta["sent"], meta["accepted"], meta["not_found"]) == (1, 1, 0)
    assert harness.user("new.0@example.com")["userId"] == "u0"
    assert harness.query(f"SELECT OUTCOME FROM {SyncTables(sync.name).state}") == [
        {"OUTCOME": "synced"}
    ]


def test_deleting_a_user_already_gone_is_done_not_retried(warehouse, shared_emulator):
    sync = make("deletions", action="delete", identifiers={"email": "EMAIL"})
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [{"ID": "K0", "EMAIL": "gone@example.com", "USER_ID": None, "NEW_EMAIL": None}],
        EMAIL_COLUMNS,
    )
    # DELETE of an unknown user: 400 with failedUpdates.notFoundEmails. What was wanted.
    meta = harness.sync_run()
    assert (meta["sent"], meta["accepted"], meta["not_found"]) == (1, 1, 0)
    assert harness.sync_run()["write_calls"] == 0


def test_an_event_of_a_user_id_nobody_held_is_tracked_once_the_user_exists(
    warehouse, shared_emulator
):
    sync = make(
        "events", event_name="signup", identifiers={"userId": "USER_ID"},
        mapping=[{"column": "PLAN", "field": "plan"}],
    )  # fmt: skip
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [{"ID": "E0", "USER_ID": "u0", "PLAN": "free"}],
        {"ID": "VARCHAR", "USER_ID": "VARCHAR", "PLAN": "VARCHAR"},
    )
    # events/trackBulk: failedUpdates.notFoundUserIds ["u0"], nothing tracked.
    assert harness.sync_run()["not_found"] == 1

    shared_emulator.admin.seed_users([{"email": "zero@example.com", "userId": "u0"}])
    meta = harness.sync_run()

    assert (meta["sent"], meta["accepted"], meta["not_found"]) == (1, 1, 0)
    with shared_emulator.client() as client:
        (event,) = client.get("/api/events/zero@example.com").json()["events"]
    assert (event["eventName"], event["dataFields"]) == ("signup", {"plan": "free"})
