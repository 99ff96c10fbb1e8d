"""What the checks read of the planned rows: how many records each rule held back, and a
sample of them. The checks (``checks/``) judge these figures; the SQL stays here."""

from typing import Any

from iterable_sync.sync.config import DuplicatePolicy, SyncConfig
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import literal
from iterable_sync.warehouse import WarehouseSession


def records(session: WarehouseSession, sync: SyncConfig) -> int:
    """The sync's records (one per primary key)."""
    return int(session.scalar(f"SELECT count(*) FROM {SyncTables(sync.name).records}"))


def model_rows(session: WarehouseSession, sync: SyncConfig) -> int:
    """The model rows the records were made of (copies of a key included)."""
    table = SyncTables(sync.name).records
    return int(session.scalar(f"SELECT coalesce(sum(COPIES), 0) FROM {table}"))


def duplicated(session: WarehouseSession, sync: SyncConfig) -> tuple[int, int]:
    """(duplicated keys, copies dropped): all but one per key, or all under drop_all."""
    dropped = "COPIES" if sync.duplicates.policy is DuplicatePolicy.DROP_ALL else "COPIES - 1"
    summary = session.query(
        f"SELECT count(*) AS KEYS, coalesce(sum({dropped}), 0) AS DROPPED"
        f" FROM {SyncTables(sync.name).records} WHERE COPIES > 1"
    )[0]
    return int(summary["KEYS"]), int(summary["DROPPED"])


def duplicated_sample(
    session: WarehouseSession, sync: SyncConfig, limit: int
) -> list[dict[str, Any]]:
    """The most copied keys first, with their model rows."""
    return session.query(
        f"SELECT PK, COPIES AS MODEL_ROWS FROM {SyncTables(sync.name).records}"
        f" WHERE COPIES > 1 ORDER BY COPIES DESC, PK LIMIT {int(limit)}"
    )


def held_back(session: WarehouseSession, sync: SyncConfig, check: str) -> int:
    """Records the rule named ``check`` held back."""
    return int(
        session.scalar(
            f"SELECT count(*) FROM {SyncTables(sync.name).records}"
            f" WHERE INVALID_CHECK = {literal(check)}"
        )
    )


def held_back_sample(
    session: WarehouseSession, sync: SyncConfig, check: str, columns: str, limit: int
) -> list[dict[str, Any]]:
    """The first records (by key) the rule named ``check`` held back: ``columns`` of them."""
    return session.query(
        f"SELECT {columns} FROM {SyncTables(sync.name).records}"
        f" WHERE INVALID_CHECK = {literal(check)} ORDER BY PK LIMIT {int(limit)}"
    )
