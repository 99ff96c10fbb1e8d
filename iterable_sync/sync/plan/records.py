"""The records step: one row per primary key of the model snapshot, with its hash and
why it cannot be sent (if so), made whole or refreshed where rows moved.
"""

import hashlib
from dataclasses import dataclass

from iterable_sync.sync.config import DuplicatePolicy, SyncConfig
from iterable_sync.sync.plan import rules, shapes
from iterable_sync.sync.plan.identity import identity_cases
from iterable_sync.sync.plan.record import record_sql
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import as_text, is_temporal, literal, q
from iterable_sync.sync.plan.values import DATE_TEXT, type_check_sql, value_kind


@dataclass(frozen=True)
class Records:
    """What the records step decided, which the diff takes (``diff.diff_sql``): the rows the
    records were made of, their column types, and whether only the stale keys' records were
    made again (their rows then sit in a table of their own, which the diff reads instead of
    the whole snapshot, and drops)."""

    snapshot_table: str
    column_types: dict[str, str]
    refreshed: bool
    #: Keys whose records were made again (or dropped, gone from the model).
    remade: int = 0


def records_sql(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> str:
    """One row per primary key: identifiers, hash, and why it cannot be sent (if so).

    ``field_types`` are the Iterable types the mapped fields have (from getFields) or would
    get (inferred from the data): a value that does not fit is quarantined here, because
    Iterable would reject the whole batch it travels in.
    """
    select = _records_select(sync, snapshot_table, column_types, project_type, field_types)
    return f"CREATE OR REPLACE TABLE {SyncTables(sync.name).records} AS\n{select}"


def insert_records_sql(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> str:
    """``records_sql``'s rows, into a records table made beforehand (``RECORD_TYPES``), so
    the warehouse may compress it (a CREATE ... AS cannot say how)."""
    select = _records_select(sync, snapshot_table, column_types, project_type, field_types)
    # The select's WITH inside a subquery: an INSERT's query is a plain SELECT everywhere.
    records = SyncTables(sync.name).records
    return f"INSERT INTO {records} ({RECORD_COLUMNS})\nSELECT * FROM (\n{select}\n)"


def _records_select(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None,
) -> str:
    """The records of the rows of ``snapshot_table`` (the snapshot, or some of its rows)."""
    field_types = field_types or {}
    missing = [m.column for m in sync.mapping if m.column.upper() not in column_types]
    identifiers = [sync.identifiers.email, sync.identifiers.userId]
    required = [sync.primary_key, *identifiers, *shapes.required_columns(sync)]
    for column in [*required, *sync.order_columns]:
        if column and column.upper() not in column_types:
            missing.append(column)
    if missing:
        raise ValueError(
            f"sync {sync.name!r}: model {sync.model!r} has no column(s) {sorted(set(missing))}"
        )

    record = record_sql(sync, column_types)
    values = record.values

    # Rows that cannot name their user (per type and project type, see shapes.py).
    identity = identity_cases(sync, project_type)
    invalid_cases = [f"WHEN {when} THEN {literal(reason)}" for when, reason in identity]
    identity_check = literal(rules.IDENTIFIERS_VALID)
    identity_checks = " ".join(f"WHEN {when} THEN {identity_check}" for when, _ in identity)
    invalid_field_cases = []
    for field in values:
        value, invalid = values[field]
        column = next(m for m in sync.mapping if m.field == field)
        column_type = column_types[column.column.upper()]
        kind = value_kind(column, column_type)
        # A temporal column is formatted without a parse: its own year settles the fit.
        stamp = f"CAST({q(column.column)} AS TIMESTAMP_NTZ)" if is_temporal(column_type) else None
        mismatch = type_check_sql(value, field_types.get(field), kind, stamp)
        predicates = [p for p in (invalid if invalid != "FALSE" else None, mismatch) if p]
        parsed_date = kind == DATE_TEXT and stamp is None and field_types.get(field) == "date"
        if parsed_date and len(predicates) == 2:
            # Text cast to a date: unparsed, or parsed to a year of five digits. Asked as two
            # predicates, the parse ran three times a row (a second a 10M rows); here once.
            # (A value implies a text: the parse of NULL is NULL.)
            raw = q(column.column)
            predicates = [f"({raw} IS NOT NULL AND COALESCE(LENGTH({value}) <> 19, TRUE))"]
        if predicates:
            expected = field_types.get(field) or (column.cast.value if column.cast else "")
            invalid_field_cases.append(
                (field, "(" + " OR ".join(predicates) + ")", as_text(q(column.column)), expected)
            )

    # The first mapped field whose value is invalid is found once per row, in an inner
    # select (MAPPED_INVALID_FIELD); its value and expected type are then picked by that
    # name. Three CASEs over the same predicates evaluated them three times (a third of the
    # records step at 1M rows).
    field_case = " ".join(f"WHEN {inv} THEN {literal(f)}" for f, inv, _, _ in invalid_field_cases)
    value_case = " ".join(f"WHEN {literal(f)} THEN {raw}" for f, _, raw, _ in invalid_field_cases)
    type_case = " ".join(
        f"WHEN {literal(f)} THEN {literal(t)}" for f, _, _, t in invalid_field_cases
    )
    mapped_field = f"CASE {field_case} END" if field_case else "CAST(NULL AS VARCHAR)"
    invalid_field = "MAPPED_INVALID_FIELD"
    null_text = "CAST(NULL AS VARCHAR)"
    invalid_value = f"CASE {invalid_field} {value_case} END" if value_case else null_text
    invalid_type = f"CASE {invalid_field} {type_case} END" if type_case else null_text
    # Rows the sync type refuses (a purchase without items, a bad catalog id): their rule
    # names the field and value, ahead of the mapped values' own problems.
    typed = shapes.rule_columns(sync, column_types, invalid_field, invalid_value, invalid_type)
    pk_column = q(sync.primary_key)
    policy = sync.duplicates.policy
    # drop_all: every copy of a duplicated key is held back, as Iterable's importer does.
    dropped = "COPIES > 1" if policy is DuplicatePolicy.DROP_ALL else "FALSE"
    drop_reason = "'duplicate key (' || CAST(COPIES AS VARCHAR) || ' rows, all dropped)'"
    # Which copy of a duplicated key is kept: the declared order (nulls last), then the
    # smallest hash, so the choice is the same every run.
    order_terms = [
        f"s.ORDER_{i} {direction} NULLS LAST"
        for i, (_, direction) in enumerate(sync.duplicates.order_terms)
    ]
    order_by = ", ".join([*order_terms, "s.HASH"])
    order_columns = "".join(
        f",\n      {q(name)} AS ORDER_{i}" for i, name in enumerate(sync.order_columns)
    )

    def source(where: str, ordered: bool = False) -> str:
        # The MD5 is computed for the few copies of duplicated keys only: their tie-break,
        # the same in every warehouse version. Every other row has its fast hash alone.
        tie_break = f",\n      {record.hash} AS HASH" if ordered else ""
        return f"""
    SELECT
      {record.pk} AS PK,
      {record.email} AS EMAIL,
      {record.user_id} AS USER_ID,
      {record.fast} AS FAST{tie_break},
      {typed.reason} AS TYPE_INVALID,
      {typed.check} AS TYPE_CHECK,
      {typed.field} AS INVALID_FIELD,
      {typed.value} AS INVALID_VALUE,
      {typed.type} AS INVALID_TYPE{order_columns if ordered else ""}
    FROM (
      SELECT *, {mapped_field} AS MAPPED_INVALID_FIELD
      FROM {snapshot_table}
      WHERE {pk_column} IS NOT NULL AND {where}
    )"""

    columns = f"""
  PK, EMAIL, USER_ID, FAST, COPIES,
  CASE WHEN {dropped} THEN {drop_reason} {" ".join(invalid_cases)}
    WHEN TYPE_INVALID IS NOT NULL THEN TYPE_INVALID
    WHEN INVALID_FIELD IS NOT NULL THEN 'invalid value'
  END AS INVALID_REASON,
  -- The asset check that counts the row (checks/sync_checks.py).
  CASE WHEN {dropped} THEN {literal(rules.PRIMARY_KEY_UNIQUE)} {identity_checks}
    WHEN TYPE_CHECK IS NOT NULL THEN TYPE_CHECK
    WHEN INVALID_FIELD IS NOT NULL THEN {literal(rules.VALUES_FIT_TYPES)}
  END AS INVALID_CHECK,
  CASE WHEN NOT {dropped} THEN INVALID_FIELD END AS INVALID_FIELD,
  CASE WHEN NOT {dropped} THEN INVALID_VALUE END AS INVALID_VALUE,
  CASE WHEN NOT {dropped} THEN INVALID_TYPE END AS INVALID_TYPE,
  -- The billing period this record was last counted in the queried-records ledger (set
  -- by the send, plan/budget.py): a record made again is counted again.
  CAST(NULL AS VARCHAR) AS QUERIED_IN"""
    # Keys are rarely duplicated: the rows of unique keys stream straight into the table,
    # and only the few duplicated ones go through the window that picks one per key.
    return f"""WITH duplicates AS (
  SELECT {record.pk} AS PK, COUNT(*) AS COPIES
  FROM {snapshot_table}
  WHERE {pk_column} IS NOT NULL
  GROUP BY 1
  HAVING COUNT(*) > 1
)
SELECT {columns}
FROM (
  SELECT s.*, 1 AS COPIES
  FROM ({source(f"{record.pk} NOT IN (SELECT PK FROM duplicates)")}) s
)
UNION ALL
SELECT {columns}
FROM (
  SELECT s.*, d.COPIES
  FROM ({source(f"{record.pk} IN (SELECT PK FROM duplicates)", ordered=True)}) s
  JOIN duplicates d ON d.PK = s.PK
  -- Duplicate keys: one record per key (syncs.yaml `duplicates`; drop_all marks it held back).
  QUALIFY ROW_NUMBER() OVER (PARTITION BY s.PK ORDER BY {order_by}) = 1
)
"""


#: Bumped when the records table's columns or meaning change: kept records are rebuilt.
RECORDS_VERSION = 2
#: Past this share of keys to rebuild, the records are made again whole: a refresh deletes
#: and inserts each of them, a rebuild writes a new table in one pass.
REBUILD_SHARE = 0.25
RECORD_COLUMNS = (
    "PK, EMAIL, USER_ID, FAST, COPIES, INVALID_REASON, INVALID_CHECK, INVALID_FIELD,"
    " INVALID_VALUE, INVALID_TYPE, QUERIED_IN"
)
#: The records table's columns (Snowflake types), as ``records_sql`` makes them.
RECORD_TYPES = (
    ("PK", "VARCHAR"), ("EMAIL", "VARCHAR"), ("USER_ID", "VARCHAR"), ("FAST", "BIGINT"),
    ("COPIES", "BIGINT"), ("INVALID_REASON", "VARCHAR"), ("INVALID_CHECK", "VARCHAR"),
    ("INVALID_FIELD", "VARCHAR"), ("INVALID_VALUE", "VARCHAR"), ("INVALID_TYPE", "VARCHAR"),
    ("QUERIED_IN", "VARCHAR"),
)  # fmt: skip
#: Compressed hard where the warehouse lets a table say so (``WarehouseSession.create_table``):
#: a record a row, kept from run to run (94 bytes a record uncompressed, 60 with ZSTD).
RECORDS_COMPRESSED = tuple(name for name, type_ in RECORD_TYPES if type_ == "VARCHAR")


def records_recipe(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> str:
    """A digest of how records are made (their SQL, with the field types and project type in
    it): kept records are refreshed only while it is the one they were made by."""
    text = _records_select(sync, snapshot_table, column_types, project_type, field_types)
    return hashlib.md5(f"{RECORDS_VERSION}:{text}".encode()).hexdigest()


def records_recipe_ddl(sync: SyncConfig) -> str:
    return f"CREATE TABLE IF NOT EXISTS {SyncTables(sync.name).records_recipe} (RECIPE VARCHAR)"


def stale_records_sql(sync: SyncConfig, snapshot_table: str, column_types: dict[str, str]) -> str:
    """The keys whose kept record no longer holds: its fast hash moved (the columns it is
    made of changed), the key is new or gone, it has copies now or had them, or the identity
    check held it back (collisions are found again each run, over the rows sent then).

    Every other record is what ``records_sql`` would make of its row again: its verdict
    follows from the columns the fast hash covers, the column types it is salted with, and
    the recipe (``records_recipe``), which holds the field types and project type.
    """
    t = SyncTables(sync.name)
    record = record_sql(sync, column_types)
    return f"""
CREATE OR REPLACE TABLE {t.records_stale} AS
SELECT COALESCE(f.PK, r.PK) AS PK
FROM (
  SELECT PK, COUNT(*) AS COPIES, MIN(FAST) AS FAST
  FROM (
    SELECT {record.pk} AS PK, {record.fast} AS FAST
    FROM {snapshot_table}
    WHERE {q(sync.primary_key)} IS NOT NULL
  )
  GROUP BY PK
) f
FULL OUTER JOIN (SELECT PK, FAST, COPIES, INVALID_CHECK FROM {t.records}) r ON r.PK = f.PK
WHERE f.PK IS NULL OR r.PK IS NULL OR f.COPIES > 1 OR r.COPIES > 1 OR f.FAST <> r.FAST
  OR COALESCE(r.INVALID_CHECK = {literal(rules.IDENTITIES_UNAMBIGUOUS)}, FALSE)"""


def refresh_records_sql(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> list[str]:
    """Make again the records of the stale keys (``stale_records_sql``) and keep the rest:
    a day's 1% of changed rows costs their own records, not every row's."""
    t = SyncTables(sync.name)
    # The stale keys' rows are copied out of the snapshot first, in one scan of it: the
    # records of a few rows are made from a table of a few rows (their copies found there).
    # Kept for the diff, which drops them (``Records.refreshed``): most rows it compares.
    record = record_sql(sync, column_types)
    return [
        f"CREATE OR REPLACE TABLE {t.records_stale_rows} AS SELECT * FROM {snapshot_table}"
        f" WHERE {record.pk} IN (SELECT PK FROM {t.records_stale})",
        f"DELETE FROM {t.records} WHERE PK IN (SELECT PK FROM {t.records_stale})",
        insert_records_sql(sync, t.records_stale_rows, column_types, project_type, field_types),
    ]
