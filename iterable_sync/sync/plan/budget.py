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


def record_queried(session: WarehouseSession, sync: SyncConfig, period: str) -> int:
    """Count this run's records in the ledger (once per record per billing period)."""
    _ensure_ledger(session)
    records = SyncTables(sync.name).records
    before = int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE}"))
    session.execute(
        f"INSERT INTO {LEDGER_TABLE} (PERIOD, SYNC, PK, FIRST_QUERIED_AT)"
        f" SELECT ?, ?, r.PK, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ FROM {records} r"
        f" WHERE NOT EXISTS (SELECT 1 FROM {LEDGER_TABLE} l"
        f"  WHERE l.PERIOD = ? AND l.SYNC = ? AND l.PK = r.PK)",
        [period, sync.name, period, sync.name],
    )
    return int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE}")) - before


def queried_in(session: WarehouseSession, period: str) -> int:
    """Records counted in the period so far, every sync's."""
    return int(session.scalar(f"SELECT count(*) FROM {LEDGER_TABLE} WHERE PERIOD = ?", [period]))


def counted_and_new(session: WarehouseSession, sync: SyncConfig, period: str) -> tuple[int, int]:
    """(records counted in the period so far, this run's records not counted yet)."""
    _ensure_ledger(session)
    counted = queried_in(session, period)
    new = int(
        session.scalar(
            f"SELECT count(*) FROM {SyncTables(sync.name).records} r WHERE NOT EXISTS ("
            f" SELECT 1 FROM {LEDGER_TABLE} l"
            f" WHERE l.PERIOD = ? AND l.SYNC = ? AND l.PK = r.PK)",
            [period, sync.name],
        )
    )
    return counted, new
