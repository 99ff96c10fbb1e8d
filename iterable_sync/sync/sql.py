"""The SQL of a sync: records, validation, hash, diff and state (Snowflake dialect).

The warehouse does this work so that Python holds one batch at a time and unchanged rows
never leave the warehouse. Every identifier that reaches this module was validated by the
config models against a strict pattern, and is quoted here as well.
"""

import hashlib
import json
from dataclasses import dataclass

from iterable_sync.checks import rules
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import Cast, FieldMapping, Match, Mode, SyncConfig

DATE_FORMAT = "YYYY-MM-DD HH24:MI:SS"

RUNS_TABLE = f"{SYNC_SCHEMA}.SYNC_RUNS"
API_CALLS_TABLE = f"{SYNC_SCHEMA}.API_CALLS"
ROW_ERRORS_TABLE = f"{SYNC_SCHEMA}.ROW_ERRORS"
HISTORY_TABLE = f"{SYNC_SCHEMA}.RECORD_HISTORY"


def q(identifier: str) -> str:
    """Quote an identifier already validated by the config (no quotes can occur in it)."""
    if '"' in identifier:
        raise ValueError(f"refusing identifier with a quote: {identifier!r}")
    return f'"{identifier}"'


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class SyncTables:
    """Where one sync keeps its rows in the warehouse."""

    name: str

    @property
    def records(self) -> str:
        return f"{SYNC_SCHEMA}.{self.name.upper()}__RECORDS"

    @property
    def diff(self) -> str:
        return f"{SYNC_SCHEMA}.{self.name.upper()}__DIFF"

    @property
    def state(self) -> str:
        return f"{SYNC_SCHEMA}.{self.name.upper()}__STATE"

    @property
    def staging(self) -> str:
        return f"{SYNC_SCHEMA}.{self.name.upper()}__STAGING"


def mapping_fingerprint(sync: SyncConfig) -> str:
    """Changes whenever what is sent for a row would change shape: a new mapping resyncs."""
    shape = {
        "type": sync.type.value,
        "match": sync.match.value,
        "identifiers": sync.identifiers.model_dump(),
        "mapping": [m.model_dump(mode="json") for m in sync.mapping],
    }
    return hashlib.md5(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]


def _is_temporal(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("TIMESTAMP", "DATE", "DATETIME"))


def _is_json(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("JSON", "VARIANT", "OBJECT", "ARRAY"))


def _as_text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def value_sql(mapping: FieldMapping, column_type: str) -> tuple[str, str]:
    """(value expression, invalid-value predicate) for one mapped column.

    A value that cannot become the Iterable type it is sent as is *invalid* — quarantined
    with its reason — rather than silently sent as null, which would wipe the field.
    """
    col = q(mapping.column)
    cast = mapping.cast
    if cast is None:
        if _is_temporal(column_type):
            return f"TO_CHAR(CAST({col} AS TIMESTAMP_NTZ), '{DATE_FORMAT}')", "FALSE"
        return col, "FALSE"
    if cast is Cast.STRING:
        value = f"TO_JSON({col})" if _is_json(column_type) else _as_text(col)
        return value, "FALSE"
    if cast is Cast.DATE:
        if _is_temporal(column_type):
            value = f"TO_CHAR(CAST({col} AS TIMESTAMP_NTZ), '{DATE_FORMAT}')"
        else:
            value = f"TO_CHAR(TRY_TO_TIMESTAMP({_as_text(col)}, '{DATE_FORMAT}'), '{DATE_FORMAT}')"
    elif cast is Cast.JSON:
        value = col if _is_json(column_type) else f"TRY_PARSE_JSON({_as_text(col)})"
    else:
        target = {Cast.LONG: "BIGINT", Cast.DOUBLE: "DOUBLE", Cast.BOOLEAN: "BOOLEAN"}[cast]
        value = f"TRY_CAST(TRIM({_as_text(col)}) AS {target})"
    return value, f"({col} IS NOT NULL AND {value} IS NULL)"


def type_check_sql(value: str, iterable_type: str | None) -> str | None:
    """Predicate: a non-null value does not fit the Iterable type its field has."""
    if iterable_type is None:
        return None
    fits = rules.fits_type(value, iterable_type)
    return None if fits is None else f"({value} IS NOT NULL AND NOT COALESCE({fits}, FALSE))"


def records_sql(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> str:
    """One row per primary key: identifiers, payload, hash, and why it cannot be sent (if so).

    ``field_types`` are the Iterable types the mapped fields have (from getFields) or would
    get (inferred from the data): a value that does not fit is quarantined here, because
    Iterable would reject the whole batch it travels in.
    """
    field_types = field_types or {}
    tables = SyncTables(sync.name)
    missing = [m.column for m in sync.mapping if m.column.upper() not in column_types]
    for column in [sync.primary_key, sync.identifiers.email, sync.identifiers.userId]:
        if column and column.upper() not in column_types:
            missing.append(column)
    if missing:
        raise ValueError(
            f"sync {sync.name!r}: model {sync.model!r} has no column(s) {sorted(set(missing))}"
        )

    email = (
        f"NULLIF(TRIM({_as_text(q(sync.identifiers.email))}), '')"
        if sync.identifiers.email
        else "CAST(NULL AS VARCHAR)"
    )
    user_id = (
        f"NULLIF(TRIM({_as_text(q(sync.identifiers.userId))}), '')"
        if sync.identifiers.userId
        else "CAST(NULL AS VARCHAR)"
    )
    values = {m.field: value_sql(m, column_types[m.column.upper()]) for m in sync.mapping}
    # Keys in sorted order: the JSON text, and so the hash, is canonical.
    pairs = ", ".join(f"{literal(field)}, {values[field][0]}" for field in sorted(values))
    data_fields = f"OBJECT_CONSTRUCT_KEEP_NULL({pairs})" if pairs else "OBJECT_CONSTRUCT()"

    invalid_cases = []
    match_name = sync.match.value
    invalid_cases.append(
        f"WHEN {'EMAIL' if sync.match is Match.EMAIL else 'USER_ID'} IS NULL "
        f"THEN 'missing {match_name}'"
    )
    # Matched by userId with preferUserId, the email is never sent: its shape is moot.
    prefers_user_id = (
        sync.mode is Mode.UPDATE and sync.match is Match.USER_ID and project_type == "email"
    )
    if not prefers_user_id:
        invalid_cases.append(
            f"WHEN EMAIL IS NOT NULL AND NOT {rules.is_email('EMAIL')} THEN 'malformed email'"
        )
    if project_type == "userId":
        invalid_cases.append("WHEN LENGTH(USER_ID) > 52 THEN 'userId longer than 52 characters'")
    needs_email_to_create = (
        sync.mode is Mode.UPSERT and sync.match is Match.USER_ID and project_type == "email"
    )
    if needs_email_to_create:
        invalid_cases.append(
            "WHEN EMAIL IS NULL"
            " THEN 'missing email (an email-based project creates users by email)'"
        )
    invalid_field_cases = []
    for field in sorted(values):
        value, invalid = values[field]
        column = next(m for m in sync.mapping if m.field == field)
        mismatch = type_check_sql(value, field_types.get(field))
        predicates = [p for p in (invalid if invalid != "FALSE" else None, mismatch) if p]
        if predicates:
            expected = field_types.get(field) or (column.cast.value if column.cast else "")
            invalid_field_cases.append(
                (field, "(" + " OR ".join(predicates) + ")", _as_text(q(column.column)), expected)
            )

    field_case = " ".join(f"WHEN {inv} THEN {literal(f)}" for f, inv, _, _ in invalid_field_cases)
    value_case = " ".join(f"WHEN {inv} THEN {raw}" for _, inv, raw, _ in invalid_field_cases)
    type_case = " ".join(f"WHEN {inv} THEN {literal(t)}" for _, inv, _, t in invalid_field_cases)
    invalid_field = f"CASE {field_case} END" if field_case else "CAST(NULL AS VARCHAR)"
    invalid_value = f"CASE {value_case} END" if value_case else "CAST(NULL AS VARCHAR)"
    invalid_type = f"CASE {type_case} END" if type_case else "CAST(NULL AS VARCHAR)"
    fingerprint = literal(mapping_fingerprint(sync))

    return f"""
CREATE OR REPLACE TABLE {tables.records} AS
WITH source AS (
  SELECT
    {_as_text(q(sync.primary_key))} AS PK,
    {email} AS EMAIL,
    {user_id} AS USER_ID,
    TO_JSON({data_fields}) AS PAYLOAD,
    {invalid_field} AS INVALID_FIELD,
    {invalid_value} AS INVALID_VALUE,
    {invalid_type} AS INVALID_TYPE
  FROM {snapshot_table}
  WHERE {q(sync.primary_key)} IS NOT NULL
),
hashed AS (
  SELECT
    *,
    MD5(TO_JSON(OBJECT_CONSTRUCT_KEEP_NULL(
      'email', EMAIL, 'userId', USER_ID, 'payload', PAYLOAD, 'mapping', {fingerprint}
    ))) AS HASH,
    COUNT(*) OVER (PARTITION BY PK) AS COPIES
  FROM source
)
SELECT
  PK, EMAIL, USER_ID, PAYLOAD, HASH, COPIES,
  CASE {" ".join(invalid_cases)}
    WHEN INVALID_FIELD IS NOT NULL THEN 'invalid value'
  END AS INVALID_REASON,
  INVALID_FIELD,
  INVALID_VALUE,
  INVALID_TYPE
FROM hashed
-- Duplicate keys: keep one row per key, chosen deterministically (the smallest hash).
QUALIFY ROW_NUMBER() OVER (PARTITION BY PK ORDER BY HASH) = 1
"""


def state_ddl(sync: SyncConfig) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {SyncTables(sync.name).state} (
  PK VARCHAR NOT NULL,
  HASH VARCHAR,
  EMAIL VARCHAR,
  USER_ID VARCHAR,
  PAYLOAD VARCHAR,
  IN_MODEL BOOLEAN,
  OUTCOME VARCHAR,
  FIRST_SEEN TIMESTAMP_NTZ,
  LAST_SYNCED TIMESTAMP_NTZ,
  LAST_RUN_ID VARCHAR
)"""


def diff_sql(sync: SyncConfig, full_resync: bool = False) -> str:
    """Added, changed and removed records; unchanged ones never leave the warehouse."""
    t = SyncTables(sync.name)
    changed = "TRUE" if full_resync else "s.HASH IS DISTINCT FROM r.HASH"
    return f"""
CREATE OR REPLACE TABLE {t.diff} AS
SELECT
  ROW_NUMBER() OVER (ORDER BY CHANGE, PK) AS SEQ, *
FROM (
  SELECT
    r.PK, r.EMAIL, r.USER_ID, r.PAYLOAD, r.HASH,
    CASE WHEN s.PK IS NULL THEN 'added' ELSE 'changed' END AS CHANGE,
    s.OUTCOME AS PREVIOUS_OUTCOME,
    s.EMAIL AS PREVIOUS_EMAIL
  FROM {t.records} r
  LEFT JOIN {t.state} s ON s.PK = r.PK
  WHERE r.INVALID_REASON IS NULL
    AND (s.PK IS NULL OR {changed} OR NOT s.IN_MODEL)
  UNION ALL
  SELECT
    s.PK, s.EMAIL, s.USER_ID, s.PAYLOAD, s.HASH,
    'removed' AS CHANGE,
    s.OUTCOME AS PREVIOUS_OUTCOME,
    s.EMAIL AS PREVIOUS_EMAIL
  FROM {t.state} s
  LEFT JOIN {t.records} r ON r.PK = s.PK
  WHERE r.PK IS NULL AND s.IN_MODEL
)"""


def staging_ddl(sync: SyncConfig) -> str:
    return f"""
CREATE OR REPLACE TABLE {SyncTables(sync.name).staging} (
  PK VARCHAR, HASH VARCHAR, EMAIL VARCHAR, USER_ID VARCHAR, PAYLOAD VARCHAR,
  IN_MODEL BOOLEAN, OUTCOME VARCHAR, RUN_ID VARCHAR
)"""


def advance_state_sql(sync: SyncConfig) -> str:
    """Fold one batch's accepted rows (in staging) into state."""
    t = SyncTables(sync.name)
    return f"""
MERGE INTO {t.state} AS tgt
USING {t.staging} AS src
ON tgt.PK = src.PK
WHEN MATCHED THEN UPDATE SET
  HASH = src.HASH, EMAIL = src.EMAIL, USER_ID = src.USER_ID, PAYLOAD = src.PAYLOAD,
  IN_MODEL = src.IN_MODEL, OUTCOME = src.OUTCOME,
  LAST_SYNCED = CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, LAST_RUN_ID = src.RUN_ID
WHEN NOT MATCHED THEN INSERT
  (PK, HASH, EMAIL, USER_ID, PAYLOAD, IN_MODEL, OUTCOME, FIRST_SEEN, LAST_SYNCED, LAST_RUN_ID)
VALUES
  (src.PK, src.HASH, src.EMAIL, src.USER_ID, src.PAYLOAD, src.IN_MODEL, src.OUTCOME,
   CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, src.RUN_ID)"""


WRITE_BACK_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
  RUN_ID VARCHAR, SYNC VARCHAR, STARTED_AT TIMESTAMP_NTZ, FINISHED_AT TIMESTAMP_NTZ,
  DRY_RUN BOOLEAN, FULL_RESYNC BOOLEAN,
  QUERIED BIGINT, ADDED BIGINT, CHANGED BIGINT, REMOVED BIGINT, SENT BIGINT, ACCEPTED BIGINT,
  NOT_FOUND BIGINT, FAILED BIGINT, QUARANTINED BIGINT, API_CALLS BIGINT, SECONDS DOUBLE
)""",
    f"""CREATE TABLE IF NOT EXISTS {API_CALLS_TABLE} (
  RUN_ID VARCHAR, SYNC VARCHAR, CALLED_AT TIMESTAMP_NTZ, METHOD VARCHAR, ENDPOINT VARCHAR,
  STATUS INTEGER, LATENCY_MS DOUBLE, BATCH_SIZE INTEGER, SUCCESS_COUNT INTEGER,
  FAIL_COUNT INTEGER, ERROR_CODE VARCHAR, ATTEMPT INTEGER
)""",
    f"""CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
  RUN_ID VARCHAR, SYNC VARCHAR, PK VARCHAR, CHANGE VARCHAR, OPERATION VARCHAR,
  OUTCOME VARCHAR, ERROR VARCHAR, RECORDED_AT TIMESTAMP_NTZ
)""",
    f"""CREATE TABLE IF NOT EXISTS {ROW_ERRORS_TABLE} (
  RUN_ID VARCHAR, SYNC VARCHAR, PK VARCHAR, OPERATION VARCHAR, CODE VARCHAR, FIELD VARCHAR,
  VALUE VARCHAR, MESSAGE VARCHAR, RECORDED_AT TIMESTAMP_NTZ
)""",
]


def history_sql(sync: SyncConfig, operation: str) -> str:
    """One row per record this run touched or held back, written in bulk after the send.

    Parameters: run id (4 times), sync name.
    """
    t = SyncTables(sync.name)
    return f"""
INSERT INTO {HISTORY_TABLE} (RUN_ID, SYNC, PK, CHANGE, OPERATION, OUTCOME, ERROR, RECORDED_AT)
SELECT ?, {literal(sync.name)}, d.PK, d.CHANGE, {literal(operation)},
  CASE
    WHEN e.PK IS NOT NULL THEN 'rejected'
    WHEN s.LAST_RUN_ID = ? THEN s.OUTCOME
    ELSE 'not sent'
  END,
  e.ERROR,
  CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
FROM {t.diff} d
LEFT JOIN {t.state} s ON s.PK = d.PK
LEFT JOIN (
  SELECT PK, MAX(CODE || ': ' || MESSAGE) AS ERROR
  FROM {ROW_ERRORS_TABLE} WHERE RUN_ID = ? AND SYNC = ? GROUP BY PK
) e ON e.PK = d.PK
UNION ALL
SELECT ?, {literal(sync.name)}, r.PK, 'held back', 'validate', 'quarantined',
  INVALID_REASON || COALESCE(': ' || INVALID_FIELD || ' = ' || INVALID_VALUE, ''),
  CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
FROM {t.records} r WHERE r.INVALID_REASON IS NOT NULL"""
