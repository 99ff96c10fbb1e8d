"""Per-record history and the alerts a team sees."""

import dagster as dg

from iterable_sync.alerts import read_alerts
from iterable_sync.history import print_history, record_history
from iterable_sync.sensors import build_rejected_rows_sensor, sync_run_failure_alert
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


def test_a_run_with_many_rejected_rows_raises_an_alert(home, warehouse, shared_emulator):
    rows = [contact(i) for i in range(100)]
    for row in rows[:6]:
        row["EMAIL"] = "not-an-email"  # 6%: warned by the check (tolerance raised to 10%)
    with warehouse.session() as session:
        create_contacts(session, rows)
    sync = make_sync(tolerances={"missing_identifiers": 0.10, "rejected_rows_alert": 0.05})
    harness = Harness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            harness.assets(),
            resources={"warehouse": warehouse, "iterable": harness.iterable()},
            instance=instance,
        )
        assert result.success
        sensor = build_rejected_rows_sensor(sync)
        repository = dg.Definitions(
            assets=harness.assets(),
            sensors=[sensor],
            resources={"warehouse": warehouse, "iterable": harness.iterable()},
        )
        context = dg.build_sensor_context(
            instance=instance, repository_def=repository.get_repository_def()
        )
        sensor.evaluate_tick(context)
    alerts = read_alerts()
    assert [(a["kind"], a["sync"]) for a in alerts] == [("rejected_rows", "contacts")]
    assert "6.0% of rows" in alerts[0]["message"]


def test_run_failures_are_recorded(home):
    @dg.op
    def boom() -> None:
        raise RuntimeError("warehouse unreachable")

    @dg.job(tags={"iterable_sync/sync": "contacts"})
    def failing_job() -> None:
        boom()

    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
        failure = result.get_run_failure_event()
        context = dg.build_run_status_sensor_context(
            sensor_name="sync_run_failure_alert",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
        ).for_run_failure()
        sync_run_failure_alert(context)
    alerts = read_alerts()
    assert len(alerts) == 1 and alerts[0]["kind"] == "run_failed"
    assert alerts[0]["sync"] == "contacts"
    assert alerts[0]["details"]["run_id"] == result.run_id
