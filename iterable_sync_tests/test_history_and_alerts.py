"""Per-record history (the alerts a team sees are in test_alerts.py)."""

from iterable_sync.history import print_history, record_history
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync


def test_history_answers_what_happened_to_a_record_run_by_run(
    home, warehouse, shared_emulator, monkeypatch, capsys
):
    monkeypatch.setenv("ITERABLE_SYNC_DUCKDB_PATH", warehouse.path)
    rows = [contact(i) for i in range(100)]
    rows[5]["TRIAL_START_DATE"] = "0000-00-00 00:00:00"
    with warehouse.session() as session:
        create_contacts(session, rows)
    harness = Harness(warehouse=warehouse, emulator=shared_emulator, sync=make_sync())
    harness.run()
    with warehouse.session() as session:
        session.execute(
            "UPDATE SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL"
            " SET PLAN = 'premium' WHERE CONTACT_ID = 'C000000001'"
        )
    harness.run()

    good = record_history("contacts", "C000000001")
    assert [(r["CHANGE"], r["OUTCOME"]) for r in good] == [
        ("added", "synced"),
        ("changed", "synced"),
    ]
    bad = record_history("contacts", "C000000005")
    assert [r["OUTCOME"] for r in bad] == ["quarantined", "quarantined"]
    assert "trialStart = 0000-00-00 00:00:00" in bad[0]["ERROR"]

    assert print_history("contacts", "C000000005") == 0
    assert "quarantined" in capsys.readouterr().out
    assert print_history("contacts", "C999") == 1
