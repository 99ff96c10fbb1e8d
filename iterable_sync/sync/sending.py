"""Sending a sync's diff, on a warehouse session and an Iterable client: diff → batches →
write-back (state, row errors, the call ledger, the run's record).

The engine's second half, plain functions Dagster only calls (``sync_assets.py``): it imports
no Dagster. What it needs of Iterable is an ``IterableTarget``: a way to open a client that
reports each call, how many batches may be in flight, and the label of where it writes.
"""

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pyarrow as pa

from iterable_sync.iterable import CallRecord, IterableClient
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.destinations import build_destination
from iterable_sync.sync.engine import CallLog, CallLogEntry, SyncRun, append_calls
from iterable_sync.sync.outcomes import RunTally
from iterable_sync.sync.plan import budget, call_bodies, locks, quarantine
from iterable_sync.sync.plan.ledgers import history_sql
from iterable_sync.sync.plan.tables import RUNS_TABLE, SyncTables
from iterable_sync.warehouse import WarehouseSession


class ClientFactory(Protocol):
    """Opens an Iterable client that reports each call it makes (``CallRecord``), with its
    bodies when ``keep_bodies`` (asked only of a sync whose request debugger is on)."""

    def __call__(
        self, on_call: Callable[[CallRecord], None], keep_bodies: bool = False
    ) -> AbstractContextManager[IterableClient]: ...


@dataclass(frozen=True)
class IterableTarget:
    """Where a send writes: how to open a client, how many batches may be in flight, and
    the destination's label (recorded with every call and run)."""

    client: ClientFactory
    max_in_flight: int
    written_to: str


def call_entry(record: CallRecord, bodies: bool = False) -> CallLogEntry:
    """The ledger's entry of a call; with its bodies when the request debugger keeps them."""
    return CallLogEntry(
        called_at=datetime.now(UTC).replace(tzinfo=None),
        method=record.method,
        endpoint=record.endpoint,
        status=record.status,
        latency_ms=record.latency_ms,
        batch_size=record.batch_size,
        success_count=record.success_count,
        fail_count=record.fail_count,
        error_code=record.error_code,
        attempt=record.attempt,
        request_body=record.request_body if bodies else None,
        response_body=record.response_body if bodies else None,
        error_message=record.error_message if bodies else None,
        captured=bodies,
    )


def capturing_log(sync: SyncConfig) -> CallLog:
    """The call log of a send: keeps bodies as the sync's ``debugger`` says."""
    return CallLog(max_bodies=sync.debugger.max_calls if sync.debugger.capture else 0)


def recorder(call_log: CallLog) -> Callable[[CallRecord], None]:
    """The client's ``on_call``: each attempt into the call log, bodies when it keeps them."""

    def record(call: CallRecord) -> None:
        call_log.record(call_entry(call, call_log.keeps_bodies(call.method, call.status)))

    return record


def write_calls(
    session: WarehouseSession,
    call_log: CallLog,
    sync: SyncConfig,
    run_id: str,
    written_to: str,
) -> None:
    """Calls made outside the send (schema reads) are accounted for too."""
    calls = call_log.drain()
    if calls:
        append_calls(session, calls, run_id, sync, written_to)


def quarantine_invalid_records(session: WarehouseSession, sync: SyncConfig, run_id: str) -> int:
    """Rows the warehouse already knows cannot be sent go to ROW_ERRORS in one statement."""
    session.execute(quarantine.row_errors_sql(sync), [run_id, sync.name])
    return int(session.scalar(quarantine.invalid_count_sql(sync)))


def record_run(
    session: WarehouseSession,
    sync: SyncConfig,
    run_id: str,
    started: datetime,
    tally: RunTally,
    dry_run: bool,
    destination: str,
) -> None:
    session.append(
        RUNS_TABLE,
        pa.table(
            {
                "DESTINATION": [destination],
                "RUN_ID": [run_id],
                "SYNC": [sync.name],
                "STARTED_AT": [started],
                "FINISHED_AT": [datetime.now(UTC).replace(tzinfo=None)],
                "DRY_RUN": [dry_run],
                "FULL_RESYNC": [False],
                "QUERIED": [tally.queried],
                "ADDED": [tally.added],
                "CHANGED": [tally.changed],
                "REMOVED": [tally.removed],
                "SENT": [tally.sent],
                "ACCEPTED": [tally.accepted],
                "NOT_FOUND": [tally.not_found],
                # Rows Iterable took without some fields count as failed here, so the
                # rejected-rows alert sees a project dropping a mapped field.
                "FAILED": [tally.failed + tally.partial],
                "QUARANTINED": [tally.quarantined + tally.invalid_in_model],
                "API_CALLS": [tally.api_calls],
                "SECONDS": [tally.seconds],
            }
        ),
    )


def send_diff(
    session: WarehouseSession,
    sync: SyncConfig,
    iterable: IterableTarget,
    project_type: str,
    run_id: str,
    log: object,
) -> RunTally:
    """Send the sync's diff in batches and write back what Iterable answered: state for the
    rows it accepted, ROW_ERRORS, the call ledger; returns the run's tally."""
    # Captured bodies past the sync's ``debugger.keep_days`` go first.
    session.execute(call_bodies.retention_sql(sync))
    call_log = capturing_log(sync)
    opened = (
        iterable.client(recorder(call_log), keep_bodies=True)
        if sync.debugger.capture
        else iterable.client(recorder(call_log))
    )
    with opened as client:
        # The sync's type picks the destination; its list or catalog is made here, once.
        destination = build_destination(client, sync, project_type, session)
        last_logged = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last_logged[0] > 5 or done == total:
                last_logged[0] = time.monotonic()
                getattr(log, "info", print)(f"{sync.name}: {done}/{total} rows sent")
                # Still sending: keep the sync's lease (and stop if it was taken over).
                locks.renew(session, sync.name, run_id)

        run = SyncRun(
            session=session,
            sync=sync,
            destination=destination,
            call_log=call_log,
            run_id=run_id,
            max_in_flight=iterable.max_in_flight,
            progress=progress,
            written_to=iterable.written_to,
        )
        tally = run.execute()
        tally.per_list = getattr(destination, "per_list", {})
    # Calls no batch carried to the ledger (creating a list when nothing was sent).
    leftover = call_log.drain()
    if leftover:
        append_calls(session, leftover, run_id, sync, iterable.written_to)
        for entry in leftover:
            tally.calls[(f"{entry.method} {entry.endpoint}", str(entry.status or "error"))] += 1
    tally.captured_calls = call_log.captured
    tally.invalid_in_model = quarantine_invalid_records(session, sync, run_id)
    return tally


def write_back(
    session: WarehouseSession,
    sync: SyncConfig,
    run_id: str,
    started: datetime,
    tally: RunTally,
    written_to: str,
) -> int:
    """After the send: each touched key's history, the records queried this billing period
    and the run's record. Returns the records queried in the period so far (the budget
    used)."""
    session.execute(history_sql(sync, sync.operation), [run_id, run_id, run_id, sync.name, run_id])
    period = budget.billing_period()
    budget.record_queried(session, sync, period)
    tally.queried = int(session.scalar(f"SELECT count(*) FROM {SyncTables(sync.name).records}"))
    used = budget.queried_in(session, period)
    record_run(session, sync, run_id, started, tally, dry_run=False, destination=written_to)
    return used
