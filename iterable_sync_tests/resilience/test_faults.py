"""Nothing lost under faults: about 10,000 rows across a users, an events, a list and a
catalog sync, sent through an emulator answering 10% 429s, 2% 500/503s, 1% dropped
connections and latency spikes, while the sync process is SIGKILLed at random points and
run again until done. Afterwards Iterable, the models and the state tables agree."""

import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.fixtures.emulator import TEST_API_KEY
from iterable_sync_tests.resilience import chaos, scenario

ROWS = 10_000
SIZES = scenario.Sizes.of(ROWS)
KILLS = 3


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """The scenario run to completion under faults and kills, once for the module:
    (report, verdict, warehouse, emulator)."""
    tmp = tmp_path_factory.mktemp("faults")
    warehouse = DuckDBWarehouse(path=str(tmp / "warehouse.duckdb"))
    scenario.write_models(warehouse, SIZES)
    syncs_file = tmp / "syncs.yaml"
    syncs_file.write_text(scenario.SYNCS_YAML)
    with EmulatorProcess(TEST_API_KEY, state_dir=tmp / "emulator", rate_limits="off") as emulator:
        emulator.admin.set_faults({**chaos.FAULTS, "seed": 9})
        report = chaos.run_until_done(
            warehouse=warehouse,
            warehouse_path=warehouse.path,
            syncs_file=syncs_file,
            sync_names=[s.name for s in scenario.syncs()],
            emulator=emulator,
            home=tmp / "home",
            kills=KILLS,
            # A clean pass makes about 200 write calls (10,000 rows, 50 a call): kills
            # within 60 calls each all land before the work is done.
            kill_after_calls=(5, 60),
            batch=50,
            seed=9,
            max_runs=8,
            run_timeout_s=90,
            # A killed run cannot free its sync: its lease (sync/plan/locks.py) lapses instead,
            # before the next child has even imported Dagster.
            env={"ITERABLE_SYNC_LOCK_LEASE_S": "2"},
        )
        emulator.admin.clear_faults()
        verdict = scenario.verify(warehouse, emulator.state_dir, SIZES)
        calls = emulator.admin.calls(limit=1_000_000)
        print(
            f"\nfaults {dict(report.faults)}, latency spikes {report.spikes}, calls "
            f"{report.calls}, runs {report.runs}, killed {report.killed} after "
            f"{report.kill_points} write calls, rows verified {verdict.rows_verified}, "
            f"mismatches {verdict.mismatches}"
        )
        yield report, verdict, warehouse, calls


@pytest.mark.faults
def test_iterable_equals_the_models_after_faults_and_kills(faulty_run):
    report, verdict, _, _ = faulty_run
    # The faults and the kills did happen, or the test proved nothing.
    assert report.killed == KILLS
    assert report.faults["429"] > 0 and report.faults["500"] + report.faults["503"] > 0
    assert verdict.rows_verified == SIZES.total
    assert verdict.mismatches == 0, verdict.samples


@pytest.mark.faults
def test_the_key_is_in_no_child_output_table_or_call_log(faulty_run):
    report, _, warehouse, calls = faulty_run
    for log in report.logs:  # Dagster's whole stdout and stderr, killed runs included
        assert TEST_API_KEY not in log.read_text(errors="replace"), log
    with warehouse.session() as session:
        tables = session.query(
            "SELECT table_schema || '.' || table_name AS T FROM information_schema.tables"
        )
        assert len(tables) > 10
        for table in tables:
            assert TEST_API_KEY not in repr(session.query(f"SELECT * FROM {table['T']}"))
    assert calls and TEST_API_KEY not in repr(calls)
