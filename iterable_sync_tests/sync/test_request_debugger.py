"""The request debugger end to end: a sync with ``debugger: {capture: true}`` keeps each write
call's request and response bodies in ``ITERABLE_SYNC.API_CALL_BODIES`` (real DuckDB file,
and the Snowflake path under fakesnow; the emulator over real HTTP)."""

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from iterable_sync.calls import calls_report
from iterable_sync.sync.delivery import each_row
from iterable_sync.sync.outcomes import BATCH_KEYS, BatchOutcome, DiffRow
from iterable_sync.sync.plan.call_bodies import REDACTED
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

BODIES = "ITERABLE_SYNC.API_CALL_BODIES"
CAPTURE = {"capture": True}


def _harness(warehouse, emulator, rows: int = 20, **debugger: object) -> Harness:
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(rows)])
    sync = make_sync(debugger=debugger) if debugger else make_sync()
    return Harness(warehouse=warehouse, emulator=emulator, sync=sync)


def _every_stored_text(harness: Harness) -> str:
    """Every row of every table of the sync's schema, as text."""
    with harness.warehouse.session() as session:
        tables = session.query(
            "SELECT table_schema || '.' || table_name AS T FROM information_schema.tables"
            " WHERE table_schema = 'ITERABLE_SYNC'"
        )
        return " ".join(repr(session.query(f"SELECT * FROM {t['T']}")) for t in tables)


def test_a_failed_batch_shows_its_request_and_response_bodies(warehouse, emulator):
    harness = _harness(warehouse, emulator, **CAPTURE)
    harness.iterable_options = {"max_attempts": 1}
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": ["500"]})
    assert not harness.run(raise_on_error=False).success

    [stored] = harness.query(f"SELECT * FROM {BODIES} WHERE ENDPOINT = '/api/users/bulkUpdate'")
    assert (stored["METHOD"], stored["STATUS"], stored["ATTEMPT"]) == ("POST", 500, 1)
    request = json.loads(stored["REQUEST_BODY"])
    assert request["users"][3]["email"] == "user.3@example.com"
    assert request["users"][3]["dataFields"]["firstName"] == "First3"
    # What the emulator answered, as it came (its 500 body).
    answered = [c for c in emulator.admin.calls(limit=1000) if c["path"] == "/api/users/bulkUpdate"]
    assert answered and answered[-1]["status"] == 500
    assert stored["RESPONSE_BODY"]
    assert sorted(json.loads(stored["KEYS"])) == [f"C{i:09d}" for i in range(20)]

    with warehouse.session() as session:
        report = calls_report(session, "contacts")
    assert report is not None
    assert "POST /api/users/bulkUpdate  → 500" in report
    assert '"email": "user.3@example.com"' in report  # the request, pretty
    response = json.dumps(json.loads(stored["RESPONSE_BODY"]), indent=2, ensure_ascii=False)
    assert response in report  # the response, pretty


def test_the_api_key_is_in_no_stored_body_or_table(warehouse, emulator):
    harness = _harness(warehouse, emulator, **CAPTURE)
    harness.run()
    assert harness.query(f"SELECT count(*) AS N FROM {BODIES}")[0]["N"] >= 1
    stored = _every_stored_text(harness)
    assert "user.3@example.com" in stored  # the bodies are there ...
    assert emulator.api_key not in stored  # ... the key is not


def test_capture_is_off_by_default(warehouse, emulator):
    harness = _harness(warehouse, emulator)
    harness.run()
    assert harness.query("SELECT count(*) AS N FROM ITERABLE_SYNC.API_CALLS")[0]["N"] >= 1
    assert harness.query(f"SELECT count(*) AS N FROM {BODIES}")[0]["N"] == 0
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert "debugger_calls" not in meta


def test_named_columns_and_fields_are_redacted_in_request_and_response(warehouse, emulator):
    harness = _harness(warehouse, emulator, capture=True, redact=["FIRST_NAME", "EMAIL", "seats"])
    harness.run()
    [stored] = harness.query(f"SELECT * FROM {BODIES} WHERE ENDPOINT = '/api/users/bulkUpdate'")
    user = json.loads(stored["REQUEST_BODY"])["users"][3]
    assert user["email"] == REDACTED  # EMAIL is the email identifier's column
    assert user["dataFields"]["firstName"] == REDACTED  # FIRST_NAME is mapped to firstName
    assert user["dataFields"]["seats"] == REDACTED  # named by its Iterable field
    assert user["dataFields"]["plan"] == "free"  # not named: kept
    bodies = repr(harness.query(f"SELECT * FROM {BODIES}"))
    assert "First3" not in bodies and "user.3@example.com" not in bodies


def test_a_redacted_identifier_is_hidden_where_the_response_quotes_it(warehouse, emulator):
    """Update mode by userId sends the userId alone and Iterable lists the users it does not
    know in ``failedUpdates.notFoundUserIds`` (spec: BulkUpdateUsersResponse): the response
    quotes the redacted identifier, and is redacted too."""
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(3)])
    sync = make_sync(
        mode="update", match="userId", debugger={"capture": True, "redact": ["GITLAB_USER_ID"]}
    )
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=sync)
    harness.run()
    [stored] = harness.query(f"SELECT * FROM {BODIES} WHERE ENDPOINT = '/api/users/bulkUpdate'")
    assert {u["userId"] for u in json.loads(stored["REQUEST_BODY"])["users"]} == {REDACTED}
    response = json.loads(stored["RESPONSE_BODY"])
    assert response["failedUpdates"]["notFoundUserIds"] == [REDACTED] * 3
    assert "1000001" not in stored["REQUEST_BODY"] + stored["RESPONSE_BODY"]


def test_a_dropped_connection_is_stored_with_no_status_and_its_error(warehouse, emulator):
    harness = _harness(warehouse, emulator, **CAPTURE)
    harness.iterable_options = {"max_attempts": 1}
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": ["drop"]})
    assert not harness.run(raise_on_error=False).success
    [stored] = harness.query(f"SELECT * FROM {BODIES} WHERE ENDPOINT = '/api/users/bulkUpdate'")
    assert (stored["STATUS"], stored["RESPONSE_BODY"]) == (None, None)
    assert stored["ERROR_CODE"] == "RemoteProtocolError"
    assert "disconnected" in stored["ERROR"]
    assert len(json.loads(stored["REQUEST_BODY"])["users"]) == 20
    with warehouse.session() as session:
        report = calls_report(session, "contacts")
    assert report is not None and "→ no response" in report and "error: " in report


def test_captured_calls_past_keep_days_are_deleted_at_the_next_send(warehouse, emulator):
    harness = _harness(warehouse, emulator, capture=True, keep_days=3)
    harness.run()
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=4)
    recent = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=2)
    with warehouse.session() as session:
        session.append(
            BODIES,
            pa.table(
                {
                    "RUN_ID": ["old", "recent", "other-sync"],
                    "SYNC": ["contacts", "contacts", "another"],
                    "CALLED_AT": [old, recent, old],
                    "METHOD": ["POST"] * 3,
                    "ENDPOINT": ["/api/users/bulkUpdate"] * 3,
                }
            ),
        )
    harness.run()
    runs = {r["RUN_ID"] for r in harness.query(f"SELECT DISTINCT RUN_ID FROM {BODIES}")}
    assert "old" not in runs  # past keep_days
    assert {"recent", "other-sync"} <= runs  # within it, and another sync's (its own days)


def test_max_calls_caps_the_successful_and_the_failed_calls_stored_per_run_apart(
    warehouse, emulator
):
    harness = _harness(warehouse, emulator, rows=2_500, capture=True, max_calls=1)
    harness.iterable_options = {"max_in_flight": 1, "max_attempts": 2, "retry_backoff_s": 0.01}
    # Three batches of 1,000, one at a time: the first lands; the second and third each fail
    # once and land on their retry.
    script = ["ok", "500", "ok", "500", "ok"]
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": script})
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert meta["accepted"] == 2_500
    stored = harness.query(f"SELECT STATUS FROM {BODIES} ORDER BY CALL_SEQ")
    # One success and one failure kept: the success already kept does not crowd out the
    # failure that follows it.
    assert [r["STATUS"] for r in stored] == [200, 500]
    assert meta["debugger_calls"] == 2
    run_id = harness.query(f"SELECT DISTINCT RUN_ID FROM {BODIES}")[0]["RUN_ID"]
    assert f"calls contacts --run {run_id}" in meta["debugger_command"]


def test_one_records_calls_show_its_entry_of_the_batch(warehouse, emulator):
    harness = _harness(warehouse, emulator, **CAPTURE)
    harness.run()
    with warehouse.session() as session:
        report = calls_report(session, "contacts", primary_key="C000000007")
        nobody = calls_report(session, "contacts", primary_key="C999")
    assert report is not None and nobody is None
    assert "user.7@example.com" in report
    assert "user.8@example.com" not in report  # the batch's other users are left out
    assert "20 record(s)" in report  # though the call carried them all


def test_a_type_sent_one_call_per_row_keeps_each_call_with_its_own_key(warehouse, emulator):
    emulator.admin.seed_users([{"email": f"old.{n}@example.com"} for n in range(3)])
    sync = make(
        "email_updates",
        match="email",
        identifiers={"email": "EMAIL"},
        new_email_column="NEW_EMAIL",
        debugger={"capture": True},
    )
    harness = TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)
    rows = [{"ID": f"K{n}", "EMAIL": f"old.{n}@example.com", "NEW_EMAIL": f"new.{n}@example.com"}
            for n in range(3)]  # fmt: skip
    harness.load(rows, {"ID": "VARCHAR", "EMAIL": "VARCHAR", "NEW_EMAIL": "VARCHAR"})
    assert harness.sync_run()["accepted"] == 3
    stored = harness.query(f"SELECT KEYS, REQUEST_BODY, STATUS FROM {BODIES}")
    by_key = {tuple(json.loads(r["KEYS"])): json.loads(r["REQUEST_BODY"]) for r in stored}
    assert by_key == {
        (f"K{n}",): {"currentEmail": f"old.{n}@example.com", "newEmail": f"new.{n}@example.com"}
        for n in range(3)
    }


def test_a_call_made_per_row_carries_that_rows_key():
    rows = [DiffRow(i, f"K{i}", None, None, "{}", "h", "added", None, None) for i in range(5)]
    seen: dict[str, tuple[str, ...]] = {}

    def send_one(row: DiffRow) -> BatchOutcome:
        seen[row.pk] = BATCH_KEYS.get()
        return BatchOutcome(accepted=[row])

    token = BATCH_KEYS.set(tuple(r.pk for r in rows))  # the batch's keys, set by the engine
    try:
        each_row(rows, send_one)
    finally:
        BATCH_KEYS.reset(token)
    assert seen == {f"K{i}": (f"K{i}",) for i in range(5)}


@pytest.mark.parametrize("any_warehouse", ["snowflake"], indirect=True)
def test_the_snowflake_path_stores_and_expires_bodies(any_warehouse, shared_emulator):
    harness = _harness(any_warehouse, shared_emulator, capture=True, redact=["FIRST_NAME"])
    harness.run()
    [stored] = harness.query(f"SELECT * FROM {BODIES} WHERE ENDPOINT = '/api/users/bulkUpdate'")
    assert stored["STATUS"] == 200
    user = json.loads(stored["REQUEST_BODY"])["users"][0]
    assert user["dataFields"]["firstName"] == REDACTED
    assert json.loads(stored["RESPONSE_BODY"])["successCount"] == 20
    assert shared_emulator.api_key not in _every_stored_text(harness)
    with any_warehouse.session() as session:
        report = calls_report(session, "contacts", primary_key="C000000002")
        assert report is not None and "user.2@example.com" in report
        session.execute(f"UPDATE {BODIES} SET CALLED_AT = DATEADD(DAY, -8, CALLED_AT)")
    harness.run()  # keep_days 7: the first run's calls go
    assert harness.query(f"SELECT count(*) AS N FROM {BODIES}")[0]["N"] == 0
