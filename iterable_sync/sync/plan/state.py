"""What Iterable last accepted, per record: the state table, its upgrades, the staging
table a send writes, and the fold of accepted rows into state."""

from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.outcomes import NOT_FOUND
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import literal

#: The state table's columns (Snowflake types).
STATE_COLUMNS = (
    ("PK", "VARCHAR NOT NULL"),
    ("HASH", "VARCHAR"),
    ("EMAIL", "VARCHAR"),
    ("USER_ID", "VARCHAR"),
    ("PAYLOAD", "VARCHAR"),
    ("IN_MODEL", "BOOLEAN"),
    ("OUTCOME", "VARCHAR"),
    ("FIRST_SEEN", "TIMESTAMP_NTZ"),
    ("LAST_SYNCED", "TIMESTAMP_NTZ"),
    ("LAST_RUN_ID", "VARCHAR"),
    ("FAST", "BIGINT"),
    ("NOT_FOUND_SINCE", "TIMESTAMP_NTZ"),
    ("NOT_FOUND_TRIES", "BIGINT"),
    ("LAST_TRIED", "TIMESTAMP_NTZ"),
)
#: Compressed hard where the warehouse lets a table say so (``WarehouseSession.create_table``):
#: the payload last sent is most of state's bytes (a JSON text of every field, ~520 bytes a
#: row for the shipped sync), read back only for the few rows whose hash moved.
STATE_COMPRESSED = ("PAYLOAD", "HASH", "EMAIL", "USER_ID", "LAST_RUN_ID", "OUTCOME")


def state_ddl(sync: SyncConfig) -> str:
    """The state table's DDL as plain SQL (``planning`` creates it through the session, which
    also compresses it)."""
    columns = ",\n  ".join(f"{name} {type_}" for name, type_ in STATE_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {SyncTables(sync.name).state} (\n  {columns}\n)"


#: Columns later versions added to state, each with its type (``state_upgrade_sql``).
STATE_ADDED_COLUMNS = (
    # Fast hashes: empty at first, each row's MD5 is computed once, then its fast hash kept.
    ("FAST", "BIGINT"),
    # Retries of rows Iterable answered "not found" (shapes.retry_due): since when the row
    # has been answered so, how many times in a row, and when it was last sent. Empty in
    # older state: a not_found row then counts one try, made when it was last written.
    ("NOT_FOUND_SINCE", "TIMESTAMP_NTZ"),
    ("NOT_FOUND_TRIES", "BIGINT"),
    ("LAST_TRIED", "TIMESTAMP_NTZ"),
)


def state_upgrade_sql(sync: SyncConfig) -> list[str]:
    """State kept by an older version gains the columns it lacks (one statement each:
    DuckDB adds one column per ALTER)."""
    state = SyncTables(sync.name).state
    return [
        f"ALTER TABLE {state} ADD COLUMN IF NOT EXISTS {name} {type_}"
        for name, type_ in STATE_ADDED_COLUMNS
    ]


def staging_ddl(sync: SyncConfig) -> str:
    return f"""
CREATE OR REPLACE TABLE {SyncTables(sync.name).staging} (
  PK VARCHAR, HASH VARCHAR, EMAIL VARCHAR, USER_ID VARCHAR, PAYLOAD VARCHAR,
  IN_MODEL BOOLEAN, OUTCOME VARCHAR, RUN_ID VARCHAR, FAST BIGINT
)"""


def advance_state_sql(sync: SyncConfig, source: str | None = None) -> str:
    """Fold accepted rows (``source``, by default the staging table) into state.

    A row answered "not found" counts its tries in a row and keeps when the first of them
    was (reset by any other outcome); every row records when it was last tried, which the
    back-off of retries reads (``shapes.retry_due``). In the update, ``tgt`` columns are
    their values before it (the assignments are evaluated together)."""
    t = SyncTables(sync.name)
    nf, now = literal(NOT_FOUND), "CURRENT_TIMESTAMP()::TIMESTAMP_NTZ"
    return f"""
MERGE INTO {t.state} AS tgt
USING {source or t.staging} AS src
ON tgt.PK = src.PK
WHEN MATCHED THEN UPDATE SET
  HASH = src.HASH, FAST = src.FAST, EMAIL = src.EMAIL, USER_ID = src.USER_ID, PAYLOAD = src.PAYLOAD,
  IN_MODEL = src.IN_MODEL, OUTCOME = src.OUTCOME,
  NOT_FOUND_SINCE = CASE WHEN src.OUTCOME = {nf} THEN
    CASE WHEN tgt.OUTCOME = {nf} THEN COALESCE(tgt.NOT_FOUND_SINCE, tgt.LAST_SYNCED, {now})
      ELSE {now} END END,
  NOT_FOUND_TRIES = CASE WHEN src.OUTCOME = {nf} THEN
    CASE WHEN tgt.OUTCOME = {nf} THEN COALESCE(tgt.NOT_FOUND_TRIES, 1) ELSE 0 END + 1 END,
  LAST_TRIED = {now}, LAST_SYNCED = {now}, LAST_RUN_ID = src.RUN_ID
WHEN NOT MATCHED THEN INSERT
  (PK, HASH, FAST, EMAIL, USER_ID, PAYLOAD, IN_MODEL, OUTCOME, FIRST_SEEN, LAST_SYNCED,
   LAST_RUN_ID, NOT_FOUND_SINCE, NOT_FOUND_TRIES, LAST_TRIED)
VALUES
  (src.PK, src.HASH, src.FAST, src.EMAIL, src.USER_ID, src.PAYLOAD, src.IN_MODEL, src.OUTCOME,
   {now}, {now}, src.RUN_ID,
   CASE WHEN src.OUTCOME = {nf} THEN {now} END,
   CASE WHEN src.OUTCOME = {nf} THEN 1 END, {now})"""
