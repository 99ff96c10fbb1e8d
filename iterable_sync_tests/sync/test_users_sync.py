"""The users sync end to end: a real DuckDB file, the emulator over real HTTP. (The no-change
rerun and the 1% change run on both warehouse paths: ``test_warehouse_paths.py``.)"""

import pytest

from iterable_sync.metadata import table_rows
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

N = 1_000


@pytest.fixture
def harness(warehouse, emulator) -> Harness:
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(N)])
    return Harness(warehouse=warehouse, emulator=emulator, sync=make_sync())


def test_first_run_delivers_every_valid_row(harness):
    result = harness.run()
    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["added"], meta["sent"], meta["accepted"], meta["failed"]) == (N, N, N, 0)
    assert harness.emulator.admin.state()["users"] == N
    user = harness.user("user.7@example.com")
    assert user["dataFields"]["firstName"] == "First7"
    assert user["dataFields"]["namespaces"][0]["path"] == "group-7"
    state = harness.query(
        "SELECT count(*) AS N FROM ITERABLE_SYNC.CONTACTS__STATE WHERE OUTCOME = 'synced'"
    )
    assert state[0]["N"] == N


def test_one_zero_date_among_good_rows_is_quarantined_before_sending(warehouse, emulator):
    rows = [contact(i) for i in range(N)]
    rows[500]["TRIAL_START_DATE"] = "0000-00-00 00:00:00"
    with warehouse.session() as session:
        create_contacts(session, rows)
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=make_sync())
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert (meta["accepted"], meta["quarantined"], meta["failed"]) == (N - 1, 1, 0)
    assert emulator.admin.state()["users"] == N - 1
    errors = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert len(errors) == 1
    error = errors[0]
    assert error["PK"] == "C000000500"
    assert error["FIELD"] == "trialStart"
    assert error["VALUE"] == "0000-00-00 00:00:00"
    assert error["OPERATION"] == "validate"
    assert "not a valid date" in error["MESSAGE"]
    # Not in state: it is tried again next run, once the value is fixed.
    pending = harness.query(
        "SELECT count(*) AS N FROM ITERABLE_SYNC.CONTACTS__STATE WHERE PK = 'C000000500'"
    )
    assert pending[0]["N"] == 0


def test_429s_server_errors_and_dropped_connections_lose_nothing(harness):
    # Every kind of failure once, in a row, on the batch: the last one is applied by
    # Iterable but its answer is lost, so the retry re-sends an upsert that already landed.
    script = ["429", "500", "503", "drop", "drop_after_apply", "ok"]
    harness.iterable_options = {"retry_backoff_s": 0.05}
    harness.emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": script})
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert (meta["accepted"], meta["failed"]) == (N, 0)
    assert harness.emulator.admin.state()["users"] == N
    attempts = harness.query(
        "SELECT STATUS FROM ITERABLE_SYNC.API_CALLS WHERE ENDPOINT = '/api/users/bulkUpdate'"
    )
    assert len(attempts) == len(script)
    assert sorted(a["STATUS"] or 0 for a in attempts) == [0, 0, 200, 429, 500, 503]


def test_update_mode_by_user_id_creates_no_user_and_reports_unknown_ones_not_found(
    warehouse, emulator
):
    """Update mode "only syncs records that already exist in Iterable". In an email-based
    project the userId goes alone, without preferUserId (spec: "Whether or not a new user
    should be created if the request includes a userId that doesn't yet exist"): Iterable
    refuses the unknown ones (failedUpdates.notFoundUserIds), no lookups needed."""
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(N)])
    existing = [
        {"email": f"user.{i}@example.com", "userId": str(1_000_000 + i)} for i in range(0, N, 2)
    ]
    emulator.admin.seed_users(existing)
    sync = make_sync(mode="update", match="userId")
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=sync)
    before = len(emulator.admin.calls(limit=100_000))
    meta = harness.sync_metadata(harness.run(), sync)
    assert (meta["accepted"], meta["not_found"], meta["lookups"]) == (N // 2, N // 2, 0)
    calls = emulator.admin.calls(since=before, limit=100_000)
    assert {c["path"] for c in calls} == {"/api/users/getFields", "/api/users/bulkUpdate"}
    assert emulator.admin.state()["users"] == N // 2  # nobody created
    with emulator.client() as client:
        unknown = client.get(f"/api/users/byUserId/{1_000_001}").json()
    assert unknown == {}  # no placeholder user


def test_upsert_by_user_id_without_email_creates_a_placeholder_email_user(
    warehouse, shared_emulator
):
    """Upsert matched by userId in an email-based project sends preferUserId: true; a row
    with no email creates its user with "an auto-generated @placeholder.email address"
    (support article 29156459027348)."""
    sync = make(
        "users", mode="upsert", match="userId",
        identifiers={"email": "EMAIL", "userId": "USER_ID"},
        mapping=[{"column": "PLAN", "field": "plan"}],
    )  # fmt: skip
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    columns = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "PLAN": "VARCHAR"}
    harness.load(
        [
            {"ID": "1", "EMAIL": "one@example.com", "USER_ID": "u1", "PLAN": "free"},
            {"ID": "2", "EMAIL": None, "USER_ID": "u2", "PLAN": "gold"},
        ],
        columns,
    )
    meta = harness.sync_run()
    assert (meta["accepted"], meta["not_found"], meta["failed"]) == (2, 0, 0)
    assert shared_emulator.admin.state()["users"] == 2
    with shared_emulator.client() as client:
        user = client.get("/api/users/byUserId/u2").json()["user"]
    assert user["email"].endswith("@placeholder.email")
    assert user["dataFields"]["plan"] == "gold"
    assert harness.user("one@example.com")["userId"] == "u1"


def test_update_mode_by_email_looks_up_and_never_creates(warehouse, emulator):
    rows = [contact(i) for i in range(40)]
    with warehouse.session() as session:
        create_contacts(session, rows)
    emulator.admin.seed_users([{"email": f"user.{i}@example.com"} for i in range(0, 40, 4)])
    sync = make_sync(mode="update", match="email")
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=sync)
    meta = harness.sync_metadata(harness.run(), sync)
    assert (meta["accepted"], meta["not_found"], meta["lookups"]) == (10, 30, 40)
    assert emulator.admin.state()["users"] == 10
    # Users not found are looked up again next run (they may exist by then), and still
    # never created; the users found are neither looked up nor sent again.
    again = harness.sync_metadata(harness.run(), sync)
    assert (again["sent"], again["lookups"], again["not_found"]) == (30, 30, 30)
    assert again["write_calls"] == 0
    assert emulator.admin.state()["users"] == 10


def test_invalid_identifiers_are_quarantined_before_sending(warehouse, emulator):
    rows = [contact(i) for i in range(100)]
    rows[3]["EMAIL"] = None
    rows[4]["EMAIL"] = "no-at-sign.example.com"
    with warehouse.session() as session:
        create_contacts(session, rows)
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=make_sync())
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert (meta["accepted"], meta["quarantined"]) == (98, 2)
    reasons = {r["PK"]: r["CODE"] for r in harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")}
    assert reasons == {"C000000003": "missing email", "C000000004": "malformed email"}


def test_every_api_call_is_written_back_without_the_key(harness):
    harness.run()
    calls = harness.query("SELECT * FROM ITERABLE_SYNC.API_CALLS")
    assert sorted((c["METHOD"], c["ENDPOINT"], c["STATUS"], c["BATCH_SIZE"]) for c in calls) == [
        ("GET", "/api/users/getFields", 200, None),
        ("POST", "/api/users/bulkUpdate", 200, N),
    ]
    dump = repr(harness.query("SELECT * FROM ITERABLE_SYNC.API_CALLS"))
    dump += repr(harness.query("SELECT * FROM ITERABLE_SYNC.SYNC_RUNS"))
    assert harness.emulator.api_key not in dump


def test_dry_run_sends_nothing_and_keeps_state(harness):
    result = harness.run(run_config={"ops": {"iterable__contacts": {"config": {"dry_run": True}}}})
    meta = harness.sync_metadata(result, harness.sync)
    assert meta["dry_run"] is True and meta["added"] == N
    would_send = table_rows(meta["would_send"])
    assert "user.0@example.com" in {row["EMAIL"] for row in would_send}
    assert harness.emulator.admin.state()["users"] == 0
    assert harness.query("SELECT count(*) AS N FROM ITERABLE_SYNC.CONTACTS__STATE")[0]["N"] == 0


def test_full_resync_resends_every_row(harness):
    harness.run()
    result = harness.run(run_config={"ops": {"contacts_diff": {"config": {"full_resync": True}}}})
    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["changed"], meta["accepted"]) == (N, N)


def test_a_run_that_dies_between_batches_resumes_without_duplicates(warehouse, emulator):
    rows = [contact(i) for i in range(2_500)]  # three batches
    with warehouse.session() as session:
        create_contacts(session, rows)
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=make_sync())
    harness.iterable_options = {"max_attempts": 1, "max_in_flight": 1}
    # The first batch lands; the second fails for good and the run dies.
    script = ["ok", "500", "500", "500"]
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": script})
    assert not harness.run(raise_on_error=False).success
    synced = harness.query("SELECT count(*) AS N FROM ITERABLE_SYNC.CONTACTS__STATE")[0]["N"]
    assert synced == emulator.admin.state()["users"] == 1_000

    emulator.admin.clear_faults()
    harness.iterable_options = {}
    meta = harness.sync_metadata(harness.run(), harness.sync)
    assert (meta["added"], meta["accepted"]) == (1_500, 1_500)  # only what was missing
    assert emulator.admin.state()["users"] == 2_500
    state = harness.query("SELECT count(*) AS N FROM ITERABLE_SYNC.CONTACTS__STATE")[0]["N"]
    assert state == 2_500


def test_the_api_key_is_in_no_log_metadata_or_table(harness):
    result = harness.run()
    key = harness.emulator.api_key
    logged = " ".join(repr(event) for event in result.all_events)
    assert key not in logged
    with harness.warehouse.session() as session:
        tables = session.query(
            "SELECT table_schema || '.' || table_name AS T FROM information_schema.tables"
            " WHERE table_schema = 'ITERABLE_SYNC'"
        )
        for table in tables:
            assert key not in repr(session.query(f"SELECT * FROM {table['T']}"))
    assert key not in repr(harness.emulator.admin.calls(limit=100_000))


def test_the_send_shows_the_first_rows_it_sent_as_a_table(harness):
    meta = harness.sync_metadata(harness.run(), harness.sync)
    preview = table_rows(meta["preview"])
    assert len(preview) == 10 and {row["CHANGE"] for row in preview} == {"added"}
    assert [c.name for c in meta["preview"].schema.columns][:3] == ["CHANGE", "REASON", "PK"]
