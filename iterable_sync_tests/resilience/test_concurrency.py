"""Two runs of the same sync at once never both send: the warehouse lease (sync/plan/locks.py)
lets the first through and stops the second with a message naming the sync and the run
that holds it — in-process runs too, which Dagster's run queue does not see."""

import threading
import time

import pytest

from iterable_sync.sync.plan import locks
from iterable_sync.sync.plan.locks import SyncLockedError
from iterable_sync_tests.sync.typed_harness import TypedHarness, plan_users

ROWS = 300


@pytest.fixture
def harness(warehouse, emulator):
    return plan_users(warehouse, emulator, ROWS)


def _bulk_updates(harness: TypedHarness) -> list[dict]:
    return [c for c in harness.write_calls() if c["path"] == "/api/users/bulkUpdate"]


def _wait_for_holder(harness: TypedHarness) -> str:
    """The run id holding the sync, once the first run has claimed it (bounded wait)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with harness.warehouse.session() as session:
            if session.table_exists("ITERABLE_SYNC", "SYNC_LOCKS"):
                rows = session.query(
                    "SELECT RUN_ID FROM ITERABLE_SYNC.SYNC_LOCKS WHERE RUN_ID IS NOT NULL"
                )
                if rows:
                    return str(rows[0]["RUN_ID"])
        time.sleep(0.05)
    raise AssertionError("the first run never claimed the sync")


@pytest.mark.emulator(rate_limits="off")
def test_a_second_run_while_the_first_sends_fails_naming_the_holder(harness):
    # Slow answers keep the first run sending while the second starts.
    harness.emulator.admin.set_faults(latency_ms=1_500, paths=["/api/users/bulkUpdate"])
    first: dict = {}
    runner = threading.Thread(target=lambda: first.update(result=harness.run()))
    runner.start()
    try:
        holder = _wait_for_holder(harness)
        second = harness.run(raise_on_error=False)
    finally:
        runner.join(timeout=120)
    assert first["result"].success
    assert not second.success
    failure = next(e for e in second.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    message = error.message + (error.cause.message if error.cause else "")
    assert "sync 'test_users' is held by run" in message and holder in message
    # One run's sends only: 300 rows in one batch of 1,000, sent once.
    assert len(_bulk_updates(harness)) == 1
    state = harness.query("SELECT count(*) AS N FROM ITERABLE_SYNC.TEST_USERS__STATE")
    assert state[0]["N"] == ROWS


@pytest.mark.emulator(rate_limits="off")
def test_the_sync_is_free_again_once_its_run_ends(harness):
    assert harness.run().success
    harness.load([{"ID": "C0", "EMAIL": "c0@example.com", "PLAN": "premium"}])
    assert harness.sync_run()["accepted"] == 1
    assert harness.query("SELECT RUN_ID FROM ITERABLE_SYNC.SYNC_LOCKS") == [{"RUN_ID": None}]


def test_a_claim_is_refused_while_another_run_holds_the_lease(warehouse):
    with warehouse.session() as session:
        locks.claim(session, "contacts", "run-a")
        with pytest.raises(SyncLockedError, match="sync 'contacts' is held by run run-a"):
            locks.claim(session, "contacts", "run-b")
        # The holder itself may claim again (its send after its diff).
        locks.claim(session, "contacts", "run-a")


def test_an_expired_lease_of_a_dead_run_is_taken_over(warehouse):
    with warehouse.session() as session:
        locks.claim(session, "contacts", "killed-run")
        # The run was killed and its lease ran out (a lease must be positive: the settings
        # refuse ITERABLE_SYNC_LOCK_LEASE_S <= 0, so time is moved instead).
        session.execute(
            "UPDATE ITERABLE_SYNC.SYNC_LOCKS SET EXPIRES_AT = EXPIRES_AT - INTERVAL 1 DAY"
        )
        locks.claim(session, "contacts", "next-run")
        rows = session.query("SELECT RUN_ID FROM ITERABLE_SYNC.SYNC_LOCKS")
    assert rows == [{"RUN_ID": "next-run"}]


def test_a_run_dagster_reports_finished_holds_nothing(warehouse):
    with warehouse.session() as session:
        locks.claim(session, "contacts", "failed-run")
        locks.claim(session, "contacts", "next-run", is_finished=lambda run: run == "failed-run")
        rows = session.query("SELECT RUN_ID FROM ITERABLE_SYNC.SYNC_LOCKS")
    assert rows == [{"RUN_ID": "next-run"}]
