"""``python -m iterable_sync calls``: the request debugger's command line, over the warehouse
the environment names (a real DuckDB file) after real sends to the emulator."""

from iterable_sync.calls import narrow
from iterable_sync.cli import main
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync


def test_the_calls_of_a_failed_run_show_their_bodies(
    home, warehouse, emulator, monkeypatch, capsys
):
    monkeypatch.setenv("ITERABLE_SYNC_DUCKDB_PATH", warehouse.path)
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(5)])
    harness = Harness(
        warehouse=warehouse, emulator=emulator, sync=make_sync(debugger={"capture": True})
    )
    harness.run()  # accepted
    harness.iterable_options = {"max_attempts": 1}
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": ["503"]})
    full = {"ops": {"contacts_diff": {"config": {"full_resync": True}}}}
    failed = harness.run(run_config=full, raise_on_error=False)
    assert not failed.success

    assert main(["calls", "contacts"]) == 0  # the latest run: the failed one
    out = capsys.readouterr().out
    assert f"contacts / run {failed.run_id}: 1 captured call(s)" in out
    assert "POST /api/users/bulkUpdate  → 503" in out
    assert '"firstName": "First4"' in out  # the request body, pretty
    [stored] = harness.query(
        f"SELECT RESPONSE_BODY FROM ITERABLE_SYNC.API_CALL_BODIES WHERE RUN_ID = '{failed.run_id}'"
    )
    # The 503's body as it came (the emulator's is not JSON, so it is printed as it is).
    assert stored["RESPONSE_BODY"] and stored["RESPONSE_BODY"].strip() in out
    assert emulator.api_key not in out

    assert main(["calls", "contacts", "--record", "C000000002"]) == 0
    out = capsys.readouterr().out
    assert out.count("POST /api/users/bulkUpdate") == 2  # both runs carried it
    assert "→ 200" in out and "→ 503" in out
    assert "user.2@example.com" in out and "user.3@example.com" not in out

    assert main(["calls", "contacts", "--record", "C000000002", "--last", "1"]) == 0
    assert capsys.readouterr().out.count("POST /api/users/bulkUpdate") == 1


def test_a_sync_without_captured_calls_says_how_to_turn_the_debugger_on(
    home, warehouse, monkeypatch, capsys
):
    monkeypatch.setenv("ITERABLE_SYNC_DUCKDB_PATH", warehouse.path)
    assert main(["calls", "contacts", "--run", "nope"]) == 1
    assert "debugger: {capture: true}" in capsys.readouterr().out


def test_one_records_part_of_a_batch_body_is_its_entries():
    users = {"users": [{"email": "a@x.io", "dataFields": {"n": 1}}, {"email": "b@x.io"}]}
    assert narrow(users, {"K1", "b@x.io"}) == {"users": [{"email": "b@x.io"}]}
    # A catalog batch: its items keyed by id (the record's key).
    items = {"documents": {"plan-free": {"p": 0}, "plan-pro": {"p": 9}}, "replace": True}
    assert narrow(items, {"plan-pro"}) == {"documents": {"plan-pro": {"p": 9}}, "replace": True}
    # Nothing names the record: the body as it is.
    assert narrow(users, {"K9"}) == users
