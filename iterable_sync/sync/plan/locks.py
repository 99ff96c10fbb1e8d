"""One run at a time per sync, enforced in the warehouse (``ITERABLE_SYNC.SYNC_LOCKS``).

Dagster's run queue (``dagster.yaml``: tag ``iterable_sync/sync``, limit 1) keeps two queued
runs of a sync apart, but not runs launched past the queue (``materialize``, in-process
execution, a second Dagster instance). Two runs sending the same diff would both send it,
so the warehouse holds a lease per sync: one row, claimed by a single conditional UPDATE.

The diff asset claims it — the diff table it rebuilds is what the send reads — and the send
asset re-claims it (same run: a no-op that refreshes the lease), renews it while sending and
releases it when done. A run that finds another run holding it fails at once, naming the
sync and the holder. A holder that died without releasing (SIGKILL, a lost pod) is taken
over once its lease has expired or once Dagster reports its run finished.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from iterable_sync import settings
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.warehouse import WarehouseSession

LOCKS_TABLE = f"{SYNC_SCHEMA}.SYNC_LOCKS"
LOCKS_DDL = f"""CREATE TABLE IF NOT EXISTS {LOCKS_TABLE} (
  SYNC VARCHAR NOT NULL, RUN_ID VARCHAR, CLAIMED_AT TIMESTAMP_NTZ, EXPIRES_AT TIMESTAMP_NTZ
)"""
#: How long a claim lasts without renewal; the send renews it as batches complete.
DEFAULT_LEASE_S = 900.0


class SyncLockedError(RuntimeError):
    """Another run holds the sync."""


def lease_seconds() -> float:
    return settings.load().lock_lease_s


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _holders(session: WarehouseSession, sync: str) -> list[dict[str, object]]:
    return session.query(
        f"SELECT RUN_ID, CLAIMED_AT, EXPIRES_AT FROM {LOCKS_TABLE} WHERE SYNC = ?", [sync]
    )


def _refuse(sync: str, run_id: str, holder: dict[str, object]) -> SyncLockedError:
    return SyncLockedError(
        f"sync {sync!r} is held by run {holder['RUN_ID']} (claimed {holder['CLAIMED_AT']} UTC,"
        f" lease until {holder['EXPIRES_AT']} UTC); run {run_id} will not send it at the"
        " same time. Run it again once that run has ended."
    )


def claim(
    session: WarehouseSession,
    sync: str,
    run_id: str,
    is_finished: Callable[[str], bool] = lambda _run_id: False,
) -> None:
    """Hold ``sync`` for ``run_id`` (re-claiming refreshes the lease), or raise
    ``SyncLockedError`` naming the run that holds it."""
    session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
    session.execute(LOCKS_DDL)
    # The sync's row, free, the first time. Two runs racing here may both insert one; that
    # is harmless: every claim below updates all rows of the sync at once.
    session.execute(
        f"INSERT INTO {LOCKS_TABLE} (SYNC) SELECT ? WHERE NOT EXISTS"
        f" (SELECT 1 FROM {LOCKS_TABLE} WHERE SYNC = ?)",
        [sync, sync],
    )
    now = _now()
    for holder in _holders(session, sync):
        other = holder["RUN_ID"]
        # A run Dagster knows has ended holds nothing, whatever its lease says.
        if other not in (None, run_id) and is_finished(str(other)):
            session.execute(
                f"UPDATE {LOCKS_TABLE} SET RUN_ID = NULL WHERE SYNC = ? AND RUN_ID = ?",
                [sync, other],
            )
    failure: Exception | None = None
    try:
        # The claim itself: one statement, so of two runs only one can find the row free.
        session.execute(
            f"UPDATE {LOCKS_TABLE} SET RUN_ID = ?, CLAIMED_AT = ?, EXPIRES_AT = ?"
            f" WHERE SYNC = ? AND (RUN_ID IS NULL OR RUN_ID = ? OR EXPIRES_AT < ?)",
            [run_id, now, now + timedelta(seconds=lease_seconds()), sync, run_id, now],
        )
    except Exception as exc:
        # A write-write conflict (DuckDB refuses the second of two concurrent UPDATEs)
        # means another run got there first: reported below as such.
        failure = exc
    holders = _holders(session, sync)
    for holder in holders:
        if holder["RUN_ID"] not in (None, run_id):
            raise _refuse(sync, run_id, holder) from failure
    if failure is not None:
        # The other claim has not committed yet, so its run id is not visible.
        raise SyncLockedError(
            f"sync {sync!r}: another run claimed it at the same moment as run {run_id}"
            f" ({type(failure).__name__}); run it again once that run has ended."
        ) from failure
    if not holders or any(h["RUN_ID"] != run_id for h in holders):
        raise SyncLockedError(f"sync {sync!r}: run {run_id} could not claim {LOCKS_TABLE}")


def renew(session: WarehouseSession, sync: str, run_id: str) -> None:
    """Extend this run's lease; raise if another run took the sync over meanwhile."""
    session.execute(
        f"UPDATE {LOCKS_TABLE} SET EXPIRES_AT = ? WHERE SYNC = ? AND RUN_ID = ?",
        [_now() + timedelta(seconds=lease_seconds()), sync, run_id],
    )
    for holder in _holders(session, sync):
        if holder["RUN_ID"] != run_id:
            raise _refuse(sync, run_id, holder)


def release(session: WarehouseSession, sync: str, run_id: str) -> None:
    """Free ``sync`` if this run holds it (a no-op otherwise)."""
    session.execute(LOCKS_DDL)
    session.execute(
        f"UPDATE {LOCKS_TABLE} SET RUN_ID = NULL, EXPIRES_AT = NULL"
        f" WHERE SYNC = ? AND RUN_ID = ?",
        [sync, run_id],
    )
