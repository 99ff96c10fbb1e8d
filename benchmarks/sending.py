"""Case 2 — sending: 100,000 changed users to the emulator, real rate limits, 50 ms latency.

Iterable allows users/bulkUpdate 5 requests/s of 1,000 users: a ceiling of 5,000 users/s.
The product sends through ``sending.send_diff`` (``SyncRun`` + ``UsersDestination``, the
sync asset's own code) in upsert mode, so every user is created. The baseline is what a
hand-written sync does: a sequential loop posting 1,000-user batches with httpx, with no
pacing (a 429 is retried after a second). Both run in a process of their own, so their CPU
time (user + system, DuckDB's threads included) over the send is theirs alone; the emulator
is another process, started here. 429s are counted from the emulator's call log.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._harness import progress
from benchmarks.planning import PROJECT_TYPE, seeded_database, shipped_sync, snapshot

USERS = 100_000
CEILING = 5 * 1_000  # users/s: 5 bulkUpdate requests/s x 1,000 users
ENDPOINT = "/api/users/bulkUpdate"
KEY = "benchmark-key"


def upsert_sync() -> Any:
    from iterable_sync.sync.config import Mode

    return shipped_sync().model_copy(update={"mode": Mode.UPSERT})


def rows_for(users: int) -> int:
    """Seeded rows that give at least ``users`` sendable records (about 2% are invalid)."""
    return int(users * 1.1) + 1_000


def prepare(users: int, log: Any = print) -> str:
    """A warehouse whose diff holds exactly ``users`` added users, and no state."""
    from iterable_sync import sync_assets
    from iterable_sync.sync import planning
    from iterable_sync.sync.plan import locks
    from iterable_sync.sync.plan.tables import (
        API_CALLS_TABLE,
        ROW_ERRORS_TABLE,
        RUNS_TABLE,
        SyncTables,
    )
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    path = seeded_database(rows_for(users), log)
    sync = upsert_sync()
    tables = SyncTables(sync.name)
    with DuckDBWarehouse(path=str(path)).session() as session:
        snapshot(session, sync, "unchanged")
        for table in (tables.state, tables.diff, tables.records):
            session.execute(f"DROP TABLE IF EXISTS {table}")
        sync_assets.ensure_ledgers(session)
        # A lock left by a run that was stopped would refuse the next one for its lease.
        session.execute(locks.LOCKS_DDL)
        session.execute(f"DELETE FROM {locks.LOCKS_TABLE}")
        for table in (API_CALLS_TABLE, ROW_ERRORS_TABLE, RUNS_TABLE):
            session.execute(f"DELETE FROM {table}")
        counts = planning.build_records_and_diff(session, sync, PROJECT_TYPE, False)
        if counts["added"] < users:
            raise RuntimeError(f"only {counts['added']} sendable users, {users} wanted")
        session.execute(f"DELETE FROM {tables.diff} WHERE SEQ > ?", [users])
    return str(path)


def send_product(path: str, base_url: str) -> dict[str, Any]:
    """(In a child.) The sync asset's send: ``sending.send_diff`` on the prepared diff."""
    import logging
    import resource

    from iterable_sync.iterable_resource import IterableResource
    from iterable_sync.sync import sending
    from iterable_sync.sync.plan import locks
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    sync = upsert_sync()
    run_id = "bench-send"
    iterable = IterableResource(api_key=KEY, base_url=base_url, project_type=PROJECT_TYPE)
    with DuckDBWarehouse(path=path).session() as session:
        # The sync asset holds the sync while it sends (its progress renews the lease).
        locks.claim(session, sync.name, run_id)
        progress("sending")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = usage.ru_utime + usage.ru_stime
        started = time.perf_counter()
        try:
            target = sending.IterableTarget(
                iterable.client, iterable.max_in_flight, iterable.destination.label
            )
            tally = sending.send_diff(
                session, sync, target, PROJECT_TYPE, run_id, logging.getLogger("bench")
            )
        finally:
            wall = time.perf_counter() - started
            usage = resource.getrusage(resource.RUSAGE_SELF)
            locks.release(session, sync.name, run_id)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
        "sent": tally.sent,
        "accepted": tally.accepted,
        "failed": tally.failed,
        "quarantined": tally.quarantined,
        "api_calls": tally.api_calls,
    }


def send_baseline(path: str, base_url: str) -> dict[str, Any]:
    """(In a child.) The naive loop: read the rows, post 1,000 at a time, no pacing."""
    import json
    import resource

    import duckdb
    import httpx

    from iterable_sync.sync.plan.tables import SyncTables

    sync = upsert_sync()
    conn = duckdb.connect(path, read_only=True)
    rows = conn.execute(
        f"SELECT EMAIL, USER_ID, PAYLOAD FROM {SyncTables(sync.name).diff} ORDER BY SEQ"
    ).fetchall()
    conn.close()
    progress("sending")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    accepted = throttled = requests = 0
    with httpx.Client(base_url=base_url, headers={"Api-Key": KEY}, timeout=30) as client:
        for start in range(0, len(rows), 1_000):
            users = [
                {"email": email, "userId": user_id, "dataFields": json.loads(payload)}
                for email, user_id, payload in rows[start : start + 1_000]
            ]
            while True:
                requests += 1
                response = client.post(ENDPOINT, json={"users": users})
                if response.status_code != 429:
                    break
                throttled += 1
                time.sleep(1.0)
            response.raise_for_status()
            accepted += response.json().get("successCount", 0)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
        "accepted": accepted,
        "requests": requests,
        "throttled": throttled,
    }


def bulk_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.admin.calls(limit=100_000) if c["path"] == ENDPOINT]


def steady_rate(calls: list[dict[str, Any]]) -> float | None:
    """Users/s in steady state: from the first accepted batch's completion to the last's,
    n - 1 intervals carrying the n - 1 later batches (so start-up is not counted)."""
    from datetime import datetime

    ok = sorted(
        (datetime.fromisoformat(c["time"]).timestamp(), c.get("batchSize") or 1_000)
        for c in calls
        if c["status"] == 200
    )
    if len(ok) < 2 or ok[-1][0] <= ok[0][0]:
        return None
    return sum(size for _, size in ok[1:]) / (ok[-1][0] - ok[0][0])
