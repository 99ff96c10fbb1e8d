"""The queried-records ledger: each record counted once per billing period, across runs
and syncs' runs alike (the sync's ``budget``; the budget check reads this ledger)."""

from datetime import UTC, datetime

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse import WarehouseSession

LEDGER_TABLE = f"{SYNC_SCHEMA}.QUERIED_RECORDS"
LEDGER_COLUMNS = (
    ("PERIOD", "VARCHAR"),
    ("SYNC", "VARCHAR"),
    ("PK", "VARCHAR"),
    ("FIRST_QUERIED_AT", "TIMESTAMP_NTZ"),
)


def _ensure_ledger(session: WarehouseSession) -> None:
    # A row per record and month: its text compressed (50 bytes a record uncompressed).
    session.create_table(LEDGER_TABLE, LEDGER_COLUMNS, compressed=("PERIOD", "SYNC", "PK"))


def billing_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def _not_counted(sync: SyncConfig) -> str:
    """This run's records not yet in the ledger for the period (parameters: the period twice,
    then the sync's name). A record whose ``QUERIED_IN`` names the period was counted when the
    send marked it (``record_queried``), so only the others — the records made again since,
    all of them on a period's first run — are looked up in the ledger: a lookup of every
    record took 1.5 s a run at 10M records."""
    records = SyncTables(sync.name).records
    return (
        f"FROM {records} r WHERE r.QUERIED_IN IS DISTINCT FROM ?"
        f" AND NOT EXISTS (SELECT 1 FROM {LEDGER_TABLE} l"
        f"  WHERE l.PERIOD = ? AND l.SYNC = ? AND l.PK = r.PK)"
    )


def record_queried(session: WarehouseSession, sync: SyncConfig, period: str) -> int:
    """Count this run's records in the ledger (once per record per billing period), and
    mark each record counted in the period."""
    _ensure_ledger(session)
    records = SyncTables(sync.name).records
    before = int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE}"))
    session.execute(
        f"INSERT INTO {LEDGER_TABLE} (PERIOD, SYNC, PK, FIRST_QUERIED_AT)"
        f" SELECT ?, ?, r.PK, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ {_not_counted(sync)}",
        [period, sync.name, period, period, sync.name],
    )
    session.execute(
        f"UPDATE {records} SET QUERIED_IN = ? WHERE QUERIED_IN IS DISTINCT FROM ?",
        [period, period],
    )
    return int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE}")) - before


def queried_in(session: WarehouseSession, period: str) -> int:
    """Records counted in the period so far, every sync's."""
    return int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE} WHERE PERIOD = ?", [period]))


def counted_and_new(session: WarehouseSession, sync: SyncConfig, period: str) -> tuple[int, int]:
    """(records counted in the period so far, this run's records not counted yet)."""
    _ensure_ledger(session)
    counted = queried_in(session, period)
    new = int(session.scalar(f"SELECT count(*) {_not_counted(sync)}", [period, period, sync.name]))
    return counted, new
