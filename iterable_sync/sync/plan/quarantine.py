"""Holding rows back: the planner acts on the checks' verdicts.

A record the records step judged invalid (``INVALID_REASON``) never enters the diff; a row
the identity check's verdict names (``sync/plan/collisions.py``) is marked so and leaves the
diff here. Either way the send writes it to ROW_ERRORS, and the checks count it.
"""

from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.collisions import IDENTITIES_UNAMBIGUOUS, collisions_table
from iterable_sync.sync.plan.tables import ROW_ERRORS_TABLE, SyncTables
from iterable_sync.sync.plan.text import literal


def collisions_sql(sync: SyncConfig) -> list[str]:
    """Hold each colliding row back, for its most specific collision: it leaves the diff,
    the send writes it to ROW_ERRORS, and the check counts it."""
    tables = SyncTables(sync.name)
    return [
        f"""
UPDATE {tables.records} r SET
  INVALID_REASON = 'identity collision: ' || c.KIND,
  INVALID_CHECK = {literal(IDENTITIES_UNAMBIGUOUS)},
  INVALID_FIELD = c.FIELD,
  INVALID_VALUE = c.DETAIL
FROM (
  SELECT PK, KIND, FIELD, DETAIL FROM {collisions_table(sync)}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY PK ORDER BY PRIORITY) = 1
) c
WHERE r.PK = c.PK AND r.INVALID_REASON IS NULL""",
        f"DELETE FROM {tables.diff} WHERE PK IN (SELECT PK FROM {collisions_table(sync)})",
    ]


def row_errors_sql(sync: SyncConfig) -> str:
    """Rows the warehouse already knows cannot be sent, to ROW_ERRORS in one statement.

    Parameters: run id, sync name."""
    return f"""
INSERT INTO {ROW_ERRORS_TABLE}
  (RUN_ID, SYNC, PK, OPERATION, CODE, FIELD, VALUE, MESSAGE, RECORDED_AT)
SELECT ?, ?, PK, 'validate', INVALID_REASON, INVALID_FIELD, INVALID_VALUE,
  CASE WHEN INVALID_REASON = 'invalid value'
    THEN 'value ' || COALESCE(INVALID_VALUE, 'null') || ' of field ' || INVALID_FIELD
      || ' is not a valid ' || COALESCE(NULLIF(INVALID_TYPE, ''), 'value')
      || ' (Iterable would reject its whole batch)'
    ELSE INVALID_REASON END,
  CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
FROM {SyncTables(sync.name).records} WHERE INVALID_REASON IS NOT NULL"""


def invalid_count_sql(sync: SyncConfig) -> str:
    return f"SELECT count(*) FROM {SyncTables(sync.name).records} WHERE INVALID_REASON IS NOT NULL"
