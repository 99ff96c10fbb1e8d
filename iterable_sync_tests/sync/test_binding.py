"""A sync's state is bound to the Iterable destination it was written against: a run
against another one (here: a second, empty emulator on the same warehouse) refuses before
sending, and goes on only with ``rebind`` (same project: keep state) or ``full_resync``
(another project: send everything)."""

from typing import Any

import dagster as dg
import pytest
import yaml

from iterable_sync import cli
from iterable_sync.emulator import EmulatorProcess
from iterable_sync.iterable_resource import key_fingerprint
from iterable_sync.sync import binding
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.sync.test_rerun_every_type import COLUMNS, SYNCS, row
from iterable_sync_tests.sync.typed_harness import TypedHarness, make, plan_users

ROWS = 5
REBIND = {"ops": {"test_users_diff": {"config": {"rebind": True}}}}
FULL_RESYNC = {"ops": {"test_users_diff": {"config": {"full_resync": True}}}}


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the run did not fail"
    return "\n".join(str(e.step_failure_data) for e in failures)


def moved_to(harness: TypedHarness, emulator: EmulatorProcess) -> TypedHarness:
    """The same sync and warehouse, now configured for another project."""
    harness.emulator = emulator
    return harness


def bindings(harness: TypedHarness) -> list[dict[str, Any]]:
    return harness.query(
        f"SELECT DESTINATION, FINGERPRINT, REASON FROM {binding.DESTINATIONS_TABLE}"
        " ORDER BY BOUND_AT"
    )


@pytest.fixture
def synced_on_a(warehouse: DuckDBWarehouse, shared_emulator: EmulatorProcess) -> TypedHarness:
    """Project A (the shared emulator) holds the sync's rows; state says so."""
    harness = plan_users(warehouse, shared_emulator, ROWS)
    assert harness.sync_run()["accepted"] == ROWS
    return harness


def test_a_run_against_another_destination_refuses_naming_both(synced_on_a, emulator):
    a = synced_on_a.iterable().destination
    harness = moved_to(synced_on_a, emulator)
    b = harness.iterable().destination

    result = harness.run(raise_on_error=False)

    assert not result.success
    text = failure_text(result)
    assert a.label in text and b.label in text and a.host != b.host
    assert "rebind" in text and "full_resync" in text
    assert emulator.api_key not in text
    assert harness.write_calls() == []
    assert emulator.admin.state()["users"] == 0


def test_rebind_keeps_state_and_sends_nothing(synced_on_a, emulator):
    harness = moved_to(synced_on_a, emulator)
    assert not harness.run(raise_on_error=False).success

    meta = harness.sync_run(**REBIND)

    assert (meta["sent"], meta["write_calls"]) == (0, 0)
    assert harness.write_calls() == []
    b = harness.iterable().destination
    assert bindings(harness)[-1] == {
        "DESTINATION": b.host,
        "FINGERPRINT": b.fingerprint,
        "REASON": "rebind",
    }
    # Bound to B now: the next plain run goes ahead.
    assert harness.sync_run()["sent"] == 0


def test_full_resync_sends_every_row_to_the_new_project(synced_on_a, emulator):
    harness = moved_to(synced_on_a, emulator)

    meta = harness.sync_run(**FULL_RESYNC)

    assert (meta["sent"], meta["accepted"]) == (ROWS, ROWS)
    assert emulator.admin.state()["users"] == ROWS
    assert harness.user("c3@example.com")["dataFields"]["plan"] == "free"
    assert bindings(harness)[-1]["REASON"] == "full resync"
    assert harness.sync_run()["sent"] == 0  # bound to B, and B holds every row


@pytest.mark.parametrize("type_", sorted(SYNCS))
def test_full_resync_to_a_new_project_sends_every_row_whatever_the_type(
    warehouse, shared_emulator, emulator, type_
):
    """One-shot actions (deletions, email changes) included: they never happened in the
    new project. (Both projects hold the users, so that those actions are accepted.)"""
    users = [{"email": f"person.{n}@example.com", "userId": f"u{n}"} for n in range(6)]
    for project in (shared_emulator, emulator):
        project.admin.seed_users(users)
    harness = TypedHarness(
        warehouse=warehouse, emulator=shared_emulator, sync=make(type_, **SYNCS[type_])
    )
    harness.load([row(n) for n in range(6)], COLUMNS)
    assert harness.sync_run()["accepted"] == 6

    moved_to(harness, emulator)
    config = {"ops": {f"test_{type_}_diff": {"config": {"full_resync": True}}}}
    meta = harness.sync_run(**config)

    assert (meta["sent"], meta["accepted"], meta["failed"]) == (6, 6, 0)
    assert harness.write_calls() != []


def test_state_written_before_destinations_were_recorded_is_not_trusted(synced_on_a):
    with synced_on_a.warehouse.session() as session:
        session.execute(f"DELETE FROM {binding.DESTINATIONS_TABLE}")
    before = synced_on_a.write_calls()

    result = synced_on_a.run(raise_on_error=False)

    assert not result.success
    assert "an unrecorded destination" in failure_text(result)
    assert synced_on_a.write_calls() == before


def test_a_sync_binds_to_the_destination_of_its_first_send(synced_on_a):
    a = synced_on_a.iterable().destination
    assert bindings(synced_on_a) == [
        {"DESTINATION": a.host, "FINGERPRINT": a.fingerprint, "REASON": "first send"}
    ]


def test_the_destination_is_recorded_with_runs_calls_and_metadata(synced_on_a):
    label = synced_on_a.iterable().destination.label
    runs = synced_on_a.query("SELECT DISTINCT DESTINATION FROM ITERABLE_SYNC.SYNC_RUNS")
    calls = synced_on_a.query("SELECT DISTINCT DESTINATION FROM ITERABLE_SYNC.API_CALLS")
    assert runs == [{"DESTINATION": label}] and calls == [{"DESTINATION": label}]

    result = synced_on_a.run()
    for materialization in result.get_asset_materialization_events():
        meta = materialization.materialization.metadata
        assert meta["destination"].value == label


@pytest.mark.emulator(api_key="kxq7-Secret-Api-Key-0c9f1e2d3b4a")
def test_the_key_appears_nowhere_in_the_warehouse(warehouse, emulator):
    key = emulator.api_key
    harness = plan_users(warehouse, emulator, ROWS)
    harness.sync_run()

    fingerprint = harness.iterable().destination.fingerprint
    assert fingerprint == key_fingerprint(key) and key not in fingerprint
    assert fingerprint not in key
    with warehouse.session() as session:
        tables = session.query(
            "SELECT table_schema AS S, table_name AS T FROM information_schema.tables"
        )
        dump = "".join(repr(session.query(f'SELECT * FROM "{t["S"]}"."{t["T"]}"')) for t in tables)
    assert fingerprint in dump
    assert key not in dump and key.lower() not in dump.lower()


def test_the_rebind_command_rebinds_to_the_environments_destination(
    synced_on_a, emulator, tmp_path, monkeypatch
):
    harness = moved_to(synced_on_a, emulator)
    syncs_file = tmp_path / "syncs.yaml"
    entry = {
        "name": "test_users",
        "model": "test_model",
        "type": "users",
        "primary_key": "ID",
        "mode": "upsert",
        "identifiers": {"email": "EMAIL"},
        "mapping": [{"column": "PLAN", "field": "plan"}],
    }
    syncs_file.write_text(yaml.safe_dump({"syncs": [entry]}))
    monkeypatch.setenv("ITERABLE_SYNC_SYNCS_FILE", str(syncs_file))
    monkeypatch.setenv("ITERABLE_SYNC_DUCKDB_PATH", harness.warehouse.path)
    monkeypatch.setenv("ITERABLE_SYNC_WAREHOUSE", "duckdb")
    monkeypatch.setenv("ITERABLE_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ITERABLE_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ITERABLE_API_KEY", emulator.api_key)

    assert cli.main(["rebind", "test_users"]) == 0

    assert bindings(harness)[-1]["DESTINATION"] == harness.iterable().destination.host
    meta = harness.sync_run()
    assert (meta["sent"], meta["write_calls"]) == (0, 0)


def test_the_rebind_command_refuses_a_base_url_without_a_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ITERABLE_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ITERABLE_BASE_URL", "https://api.eu.iterable.com")
    monkeypatch.delenv("ITERABLE_API_KEY", raising=False)

    assert cli.main(["rebind", "--all"]) == 2

    assert "ITERABLE_API_KEY is not" in capsys.readouterr().err
