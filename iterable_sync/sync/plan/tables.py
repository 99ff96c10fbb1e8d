"""Where the planner keeps rows in the warehouse: the ledgers and each sync's tables."""

from dataclasses import dataclass

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import SyncConfig

RUNS_TABLE = f"{SYNC_SCHEMA}.SYNC_RUNS"
API_CALLS_TABLE = f"{SYNC_SCHEMA}.API_CALLS"
ROW_ERRORS_TABLE = f"{SYNC_SCHEMA}.ROW_ERRORS"
HISTORY_TABLE = f"{SYNC_SCHEMA}.RECORD_HISTORY"
#: The request debugger's bodies of each captured call, beside API_CALLS (``call_bodies.py``).
CALL_BODIES_TABLE = f"{SYNC_SCHEMA}.API_CALL_BODIES"


class _Table:
    """A table of a sync's, named by the sync and a suffix (``SyncTables``)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def __get__(self, tables: "SyncTables", owner: type | None = None) -> str:
        return f"{SYNC_SCHEMA}.{tables.name.upper()}__{self.suffix}"


@dataclass(frozen=True)
class SyncTables:
    """Where one sync keeps its rows in the warehouse."""

    name: str

    records = _Table("RECORDS")
    #: The digest of how the kept records were made (``records_recipe``).
    records_recipe = _Table("RECORDS_RECIPE")
    #: The keys whose records a refresh makes again, and their rows of the snapshot.
    records_stale = _Table("RECORDS_STALE")
    records_stale_rows = _Table("RECORDS_STALE_ROWS")
    diff = _Table("DIFF")
    diff_keys = _Table("DIFF_KEYS")
    diff_candidates = _Table("DIFF_CANDIDATES")
    state = _Table("STATE")
    staging = _Table("STAGING")


def snapshot_table(sync: SyncConfig) -> str:
    return f"{SYNC_SCHEMA}.{sync.model.upper()}"
