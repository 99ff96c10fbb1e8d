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
from iterable_sync.sync import shapes
from iterable_sync.sync.config import (
    Cast,
    DuplicatePolicy,
    FieldMapping,
    NullPolicy,
    SyncConfig,
    SyncType,
)
from iterable_sync.sync.outcomes import NOT_FOUND

DATE_FORMAT = "YYYY-MM-DD HH24:MI:SS"

RUNS_TABLE = f"{SYNC_SCHEMA}.SYNC_RUNS"
API_CALLS_TABLE = f"{SYNC_SCHEMA}.API_CALLS"
ROW_ERRORS_TABLE = f"{SYNC_SCHEMA}.ROW_ERRORS"
HISTORY_TABLE = f"{SYNC_SCHEMA}.RECORD_HISTORY"


def q(identifier: str) -> str:
    """Quote a model column named in the config (validated: no quotes can occur in it) as
    Snowflake resolves the name unquoted: upper case. Quoted, a reserved word is a column;
    upper-cased, ``column: first_name`` still finds FIRST_NAME on Snowflake, where a quoted
    identifier is case-sensitive (DuckDB, and fakesnow, match either case)."""
    if '"' in identifier:
        raise ValueError(f"refusing identifier with a quote: {identifier!r}")
    return f'"{identifier.upper()}"'


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


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


def _is_temporal(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("TIMESTAMP", "DATE", "DATETIME"))


def _is_json(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("JSON", "VARIANT", "OBJECT", "ARRAY"))


def _as_text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def value_sql(mapping: FieldMapping, column_type: str, table: str | None = None) -> tuple[str, str]:
    """(value expression, invalid-value predicate) for one mapped column.

    A value that cannot become the Iterable type it is sent as is *invalid* — quarantined
    with its reason — rather than silently sent as null, which would wipe the field.
    ``table`` qualifies the column (an alias) when the expression is used in a join.
    """
    col = f"{table}.{q(mapping.column)}" if table else q(mapping.column)
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


def type_check_sql(
    value: str, iterable_type: str | None, kind: str | None = None, timestamp: str | None = None
) -> str | None:
    """Predicate: a non-null value does not fit the Iterable type its field has.

    ``kind`` is what the value expression is known to hold (``value_kind``): a fit that
    follows from it is not checked row by row — a BOOLEAN column always fits a boolean
    field — which was most of the cost of building records over a wide model.
    """
    if iterable_type is None:
        return None
    if (iterable_type, kind) in _ALWAYS_FITS:
        return None
    if (iterable_type, kind) == ("date", DATE_TEXT):
        # Formatted here as 'YYYY-MM-DD HH24:MI:SS' from a real timestamp: a date Iterable
        # reads, unless the year has more than four digits (or a sign). Asked of the
        # timestamp itself where there is one: its year is a fraction of the cost of the text.
        if timestamp is not None:
            year_fits = f"COALESCE(YEAR({timestamp}) BETWEEN 0 AND 9999, FALSE)"
            return f"({timestamp} IS NOT NULL AND NOT {year_fits})"
        return f"({value} IS NOT NULL AND LENGTH({value}) <> 19)"
    fits = rules.fits_type(value, iterable_type)
    return None if fits is None else f"({value} IS NOT NULL AND NOT COALESCE({fits}, FALSE))"


#: What a mapped value's SQL expression holds, where that settles its fit (``value_kind``).
DATE_TEXT, LONG, DOUBLE, BOOLEAN = "date text", "long", "double", "boolean"
_ALWAYS_FITS = {("long", LONG), ("double", LONG), ("double", DOUBLE), ("boolean", BOOLEAN)}
#: DuckDB's integer column types whose every value is a 64-bit integer.
_INT64_TYPES = ("BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT", "BYTEINT", "INT8", "INT4")


def number_digits(column_type: str) -> int | None:
    """The precision of Snowflake's integer type, NUMBER(p, 0) (as SnowflakeWarehouse
    spells it); None for any other type."""
    upper = column_type.upper().replace(" ", "")
    if not (upper.startswith("NUMBER(") and upper.endswith(",0)")):
        return None
    digits = upper.removeprefix("NUMBER(").split(",")[0]
    return int(digits) if digits.isdigit() else None


def is_integer_type(column_type: str) -> bool:
    """An integer column, in DuckDB's spelling or Snowflake's."""
    upper = column_type.upper()
    return (
        upper.startswith(("BIGINT", "INT", "SMALLINT", "TINYINT", "HUGEINT"))
        or number_digits(upper) is not None
    )


def value_kind(mapping: FieldMapping, column_type: str) -> str | None:
    """What the value expression of ``value_sql`` holds when its type settles it: a date
    text it formatted, a 64-bit integer, a double, a boolean; None for anything else."""
    upper = column_type.upper().replace(" ", "")
    cast = mapping.cast
    if cast is Cast.DATE or (cast is None and _is_temporal(upper)):
        return DATE_TEXT
    if cast is not None:
        # Not Cast.LONG: Snowflake's BIGINT is NUMBER(38, 0), wider than Iterable's long.
        return {Cast.DOUBLE: DOUBLE, Cast.BOOLEAN: BOOLEAN}.get(cast)
    digits = number_digits(upper)
    if upper in _INT64_TYPES or (digits is not None and digits <= 18):
        return LONG
    if upper.startswith(("DOUBLE", "FLOAT", "REAL")):
        return DOUBLE
    if upper.startswith("BOOL"):
        return BOOLEAN
    return None


_NUMERIC_TYPES = (
    "NUMBER", "DECIMAL", "NUMERIC", "INT", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT",
    "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT",
    "DOUBLE", "FLOAT", "REAL",
)  # fmt: skip


def _json_kind(mapping: FieldMapping, column_type: str) -> str:
    """What JSON a mapped value becomes. The hash covers it: the text of 12 and "12" is one."""
    if mapping.cast is not None:
        kinds = {Cast.LONG: "number", Cast.DOUBLE: "number", Cast.BOOLEAN: "boolean"}
        return "json" if mapping.cast is Cast.JSON else kinds.get(mapping.cast, "string")
    upper = column_type.upper()
    if _is_temporal(upper):
        return "string"
    if _is_json(upper):
        return "json"
    if upper.startswith("BOOL"):
        return "boolean"
    return "number" if upper.startswith(_NUMERIC_TYPES) else "string"


#: The record hash starts with a tag of the sync's target (``target_tag``) and this colon;
#: a state hash without it was written before field-by-field comparison (an older version).
TAG_LENGTH = 9


def target_tag(sync: SyncConfig) -> str:
    """8 hex characters naming the sync's type and the object its rows go to (a catalog, a
    list). A new target has none of the rows, so a record whose state carries another tag is
    sent again whatever its values."""
    shape = json.dumps(sync.target_shape(), sort_keys=True)
    return hashlib.md5(shape.encode()).hexdigest()[:8]


def field_tags(kinds: dict[str, str]) -> dict[str, str]:
    """A short fixed-width tag per field (its Iterable name and JSON kind digested), which
    the record hash puts before the field's value. Spelling out each name cost as many bytes
    as the values themselves, and MD5 time goes with the bytes (at 10M rows of the shipped
    sync: 616 bytes a row, 330 with tags). Widened until no two fields of the sync share one.
    """
    for width in (4, 8, 32):
        tags = {f: hashlib.md5(f"{f}:{k}".encode()).hexdigest()[:width] for f, k in kinds.items()}
        if len(set(tags.values())) == len(tags):
            return tags
    raise AssertionError("two fields share one MD5")  # pragma: no cover


def json_text(value: str) -> str:
    """A value as the JSON text sent for it; NULL for NULL (and for JSON null)."""
    return f"NULLIF(TO_JSON({value}), 'null')"


@dataclass(frozen=True)
class RecordSQL:
    """The expressions that make one record of a model row (Snowflake dialect)."""

    pk: str
    email: str
    user_id: str
    #: field → (value, invalid-value predicate), fields in sorted order.
    values: dict[str, tuple[str, str]]
    #: Payload key beside ``dataFields`` → its value (event name, id, items...), sorted.
    typed: dict[str, str]
    hash: str
    #: A 63-bit hash of the columns the record is made of (``fast_hash_sql``).
    fast: str


def record_sql(
    sync: SyncConfig, column_types: dict[str, str], table: str | None = None
) -> RecordSQL:
    """Primary key, identifiers, values and hash of a row of the model snapshot.

    The hash is the MD5 of what would be sent, as text: the identifiers and the type's own
    keys, then each mapped field *that has a value* by a tag of its Iterable name and JSON
    kind (``field_tags``; the text of 12 and "12" is one). So renaming a model column, or
    adding a field that is null, leaves the hash alone, and a field's new cast changes it.
    Only rows whose fast hash moved (``fast_hash_sql``) get it computed; only those whose
    hash moved are compared field by field; only rows that are sent get a payload (the diff).
    """
    used: set[str] = set()

    def column(name: str) -> str:
        used.add(name.upper())
        return f"{table}.{q(name)}" if table else q(name)

    def identifier(name: str | None) -> str:
        if not name:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF(TRIM({_as_text(column(name))}), '')"

    mappings = sorted(sync.mapping, key=lambda m: m.field)
    values = {m.field: value_sql(m, column_types[m.column.upper()], table) for m in mappings}
    email, user_id = identifier(sync.identifiers.email), identifier(sync.identifiers.userId)
    # Event names and ids, items and totals, new emails: what each type sends beside fields.
    typed = shapes.payload_parts(sync, column_types, column)
    texts = [email, user_id, *(text for _, text in typed.values())]
    # CONCAT of arguments that cannot be NULL (the warehouse module relies on this shape to
    # translate it to DuckDB's CONCAT without a NULL guard).
    parts = [f"CHR(31), COALESCE({text}, CHR(30))" for text in texts]
    kinds = {m.field: _json_kind(m, column_types[m.column.upper()]) for m in mappings}
    tags = field_tags(kinds)
    for mapping in mappings:
        text = _as_text(values[mapping.field][0])
        tag = literal(f"\x1f{tags[mapping.field]}")
        parts.append(
            f"COALESCE(CASE WHEN {text} IS NOT NULL THEN {tag} END, ''), COALESCE({text}, '')"
        )
    digest = f"MD5(CONCAT({', '.join(parts)}))"
    record_hash = f"CONCAT({literal(target_tag(sync) + ':')}, {digest})"
    used.update(m.column.upper() for m in mappings)
    # The salt names the hash's recipe unqualified, so records and the diff (which reads the
    # snapshot as ``m``) agree on it.
    recipe = record_hash if table is None else record_sql(sync, column_types).hash
    return RecordSQL(
        pk=_as_text(column(sync.primary_key)),
        email=email,
        user_id=user_id,
        values=values,
        typed={key: value for key, (value, _) in typed.items()},
        hash=record_hash,
        fast=fast_hash_sql({name: column(name) for name in sorted(used)}, recipe, column_types),
    )


#: Bumped when what goes into the fast hash changes: every stored one then misses once.
FAST_HASH_VERSION = 1


def fast_hash_sql(columns: dict[str, str], recipe: str, column_types: dict[str, str]) -> str:
    """The warehouse's own hash (``HASH``) of the raw columns a record is made of, salted
    with the record hash's recipe and the columns' types, as a 63-bit integer.

    It is about a tenth of the MD5's cost (no value is turned into text): every row of the
    model gets it, only rows whose fast hash moved get the MD5. It is not stable across
    warehouse versions (DuckDB's ``hash`` is not), and need not be: a fast hash that no
    longer matches costs one MD5, which is the stable hash state is judged by; and a mapping,
    cast or column-type change changes the salt, so raw values that stay alike cannot hide a
    payload that changed.
    """
    types = [(name, column_types.get(name, "")) for name in sorted(columns)]
    shape = json.dumps([FAST_HASH_VERSION, recipe, types])
    salt = int(hashlib.md5(shape.encode()).hexdigest()[:15], 16)
    hashed = ", ".join(columns[name] for name in sorted(columns))
    return f"CAST(BITAND(BITXOR(HASH({hashed}), {salt}), {2**63 - 1}) AS BIGINT)"


#: Where each sync's records came from (snapshot table, column types), for its diff to build
#: payloads from. Set by records_sql, which always runs first in a diff.
_RECORD_SOURCES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
#: Syncs whose records were last refreshed (refresh_records_sql): their stale keys' rows are
#: in a table of their own, which the diff reads instead of the whole snapshot.
_REFRESHED: set[str] = set()


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
    _RECORD_SOURCES[sync.name] = (snapshot_table, tuple(sorted(column_types.items())))
    _REFRESHED.discard(sync.name)
    return f"CREATE OR REPLACE TABLE {SyncTables(sync.name).records} AS\n{select}"


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
    identity = shapes.identity_cases(sync, project_type)
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
        stamp = f"CAST({q(column.column)} AS TIMESTAMP_NTZ)" if _is_temporal(column_type) else None
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
                (field, "(" + " OR ".join(predicates) + ")", _as_text(q(column.column)), expected)
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
  CASE WHEN NOT {dropped} THEN INVALID_TYPE END AS INVALID_TYPE"""
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
RECORDS_VERSION = 1
#: Past this share of keys to rebuild, the records are made again whole: a refresh deletes
#: and inserts each of them, a rebuild writes a new table in one pass.
REBUILD_SHARE = 0.25
RECORD_COLUMNS = (
    "PK, EMAIL, USER_ID, FAST, COPIES, INVALID_REASON, INVALID_CHECK, INVALID_FIELD,"
    " INVALID_VALUE, INVALID_TYPE"
)


def records_recipe(
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None = None,
) -> str:
    """A digest of how records are made (their SQL, with the field types and project type in
    it): kept records are refreshed only while it is the one they were made by."""
    # The select alone: records_sql also says where the diff reads from (_RECORD_SOURCES).
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
    select = _records_select(sync, t.records_stale_rows, column_types, project_type, field_types)
    _RECORD_SOURCES[sync.name] = (snapshot_table, tuple(sorted(column_types.items())))
    # Kept for the diff, which drops them (diff_sql): most rows it compares are these.
    _REFRESHED.add(sync.name)
    record = record_sql(sync, column_types)
    return [
        f"CREATE OR REPLACE TABLE {t.records_stale_rows} AS SELECT * FROM {snapshot_table}"
        f" WHERE {record.pk} IN (SELECT PK FROM {t.records_stale})",
        f"DELETE FROM {t.records} WHERE PK IN (SELECT PK FROM {t.records_stale})",
        f"INSERT INTO {t.records} ({RECORD_COLUMNS})\nSELECT * FROM (\n{select}\n)",
    ]


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
  LAST_RUN_ID VARCHAR,
  FAST BIGINT,
  NOT_FOUND_SINCE TIMESTAMP_NTZ,
  NOT_FOUND_TRIES BIGINT,
  LAST_TRIED TIMESTAMP_NTZ
)"""


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


#: Why a row of the diff is sent (its REASON), in the order they take precedence.
#: ``retry not found``: Iterable answered "not found" last time and the row is due again
#: (syncs.yaml ``not_found``), whether or not its data changed since.
NEW, RETRY_NOT_FOUND, VALUE_CHANGED, FIELD_ADDED, FIELD_CLEARED, RESYNC, REMOVED = (
    "new", "retry not found", "value changed", "field added", "field cleared", "resync",
    "removed",
)  # fmt: skip
REASONS = (NEW, RETRY_NOT_FOUND, VALUE_CHANGED, FIELD_ADDED, FIELD_CLEARED, RESYNC, REMOVED)
#: A record whose hash moved although nothing sent would change (a field removed from the
#: mapping, a value gone null under ``nulls: keep``): its state takes the new hash and the
#: row leaves the diff (``refresh_unchanged_sql``).
UNCHANGED = "unchanged"


def _any(predicates: list[str]) -> str:
    return "(" + " OR ".join(predicates) + ")" if predicates else "FALSE"


def _json_path(*keys: str) -> str:
    """A GET_PATH path of literal keys (quoted, so a field name with a dot is one key)."""
    return literal(".".join(f'"{key}"' for key in keys))


def _payload_text(
    sync: SyncConfig,
    fields: list[str],
    typed: list[str],
    cleared: list[str] | None,
    values: list[str] | None = None,
) -> str:
    """The JSON text of the payload, built as text from the columns' JSON: fields without a
    value are left out, fields being cleared are sent as null (``cleared``: a predicate per
    field), the type's own keys are always there. Text, because no JSON constructor that
    drops nulls is spelled alike in Snowflake and DuckDB. ``values``: each field's JSON
    text, when not its column's (``J0``, ``J1``...)."""
    pieces = []
    for i, field in enumerate(fields):
        key = f',"{field}":'
        value = values[i] if values else f"J{i}"
        if cleared is None:
            pieces.append(f"COALESCE(CONCAT({literal(key)}, {value}), '')")
        else:
            pieces.append(
                f"COALESCE(CONCAT({literal(key)}, {value}),"
                f" CASE WHEN {cleared[i]} THEN {literal(key + 'null')} END, '')"
            )
    joined = ", ".join(pieces) or "''"
    inner = f"CONCAT('{{', SUBSTR(CONCAT({joined}), 2), '}}')"
    if sync.type is SyncType.USERS:
        return inner
    pairs = [("dataFields", inner)]
    pairs += [(key, f"COALESCE(T{i}, 'null')") for i, key in enumerate(typed)]
    keys = {key: literal(f'"{key}":') for key, _ in pairs}
    body = ", ',', ".join(f"{keys[key]}, {value}" for key, value in sorted(pairs))
    return f"CONCAT('{{', {body}, '}}')"


def diff_sql(
    sync: SyncConfig,
    full_resync: bool = False,
    snapshot_table: str | None = None,
    column_types: dict[str, str] | None = None,
) -> list[str]:
    """Added, changed and removed records, each with why it is sent; unchanged ones never
    leave the warehouse.

    A record whose fast hash matches its state's is unchanged (most rows, one comparison
    each of two integers). The others get their MD5: one that matches state's hash is
    unchanged too (its fast hash is then stored, ``refresh_unchanged_sql``); the rest — few
    on an ordinary day, more after a mapping change — are compared field by field with the
    payload last sent (state's PAYLOAD): a value that differs, a field that gained a value,
    and under ``nulls: clear`` a field that lost one send the row;
    anything else (a column renamed, a field dropped from the mapping, a value gone null
    under ``nulls: keep``) sends nothing. Payloads are built here, from the snapshot, for
    those rows only. The snapshot and its column types default to those records_sql was
    last given.
    """
    t = SyncTables(sync.name)
    refreshed = snapshot_table is None and sync.name in _REFRESHED
    _REFRESHED.discard(sync.name)  # the statements below drop the stale keys' tables
    if snapshot_table is None or column_types is None:
        if sync.name not in _RECORD_SOURCES:
            raise ValueError(f"sync {sync.name!r}: build its records (records_sql) first")
        source_table, source_types = _RECORD_SOURCES[sync.name]
        snapshot_table = snapshot_table or source_table
        column_types = column_types or dict(source_types)
    row = record_sql(sync, column_types, table="m")
    # The model rows the compare reads: after a refresh, the stale keys' rows copied out of
    # the snapshot (one scan of it, done already), then the snapshot's rows of any other key
    # compared (a row state has not caught up with, such as one that failed to send).
    model_rows = snapshot_table
    if refreshed:
        unstale = f"SELECT PK FROM {t.diff_keys} EXCEPT SELECT PK FROM {t.records_stale}"
        model_rows = (
            f"(SELECT * FROM {t.records_stale_rows} UNION ALL SELECT * FROM {snapshot_table}"
            f" WHERE {record_sql(sync, column_types).pk} IN ({unstale}))"
        )
    # Which rows already in state go again, and whether leaving the model counts: per
    # type (users: every change; deletions: a key's first appearance only; shapes.py).
    resend = shapes.resend_predicate(sync, full_resync)
    removal = shapes.removal_predicate(sync)
    # Rows Iterable answered "not found" and due again (syncs.yaml `not_found`): sent whole,
    # as if new — the user holds none of their fields — with a reason of their own.
    retry_due = shapes.retry_due(sync)
    fields = list(row.values)
    typed = list(row.typed)
    users = sync.type is SyncType.USERS
    clear = sync.nulls is NullPolicy.CLEAR

    def old_path(field: str) -> str:
        return _json_path(field) if users else _json_path("dataFields", field)

    new_values = [f"{json_text(value)} AS J{i}" for i, (value, _) in enumerate(row.values.values())]
    new_values += [f"{json_text(value)} AS T{i}" for i, value in enumerate(row.typed.values())]
    current_columns = ", ".join(["n.*", f"{row.hash} AS RECORD_HASH", *new_values])
    old_values = [
        f"NULLIF(TO_JSON(GET_PATH(LAST_SENT, {old_path(f)})), 'null') AS O{i}"
        for i, f in enumerate(fields)
    ]
    old_values += [
        f"NULLIF(TO_JSON(GET_PATH(LAST_SENT, {_json_path(k)})), 'null') AS OT{i}"
        for i, k in enumerate(typed)
    ]
    # Per field: C = its value changed, A = it gained one, X = it is cleared (sent as null).
    flags = []
    for i in range(len(fields)):
        flags.append(
            f"(NOT SAME AND J{i} IS NOT NULL AND O{i} IS NOT NULL AND J{i} <> O{i}) AS C{i}"
        )
        flags.append(f"(NOT SAME AND J{i} IS NOT NULL AND O{i} IS NULL) AS A{i}")
        cleared = f"LAST_SENT IS NOT NULL AND NOT SAME AND J{i} IS NULL AND O{i} IS NOT NULL"
        flags.append(f"({cleared if clear else 'FALSE'}) AS X{i}")
    typed_changed = _any([f"T{i} IS DISTINCT FROM OT{i}" for i in range(len(typed))])
    flags.append(f"(NOT SAME AND LAST_SENT IS NOT NULL AND {typed_changed}) AS TYPED_CHANGED")
    n = range(len(fields))
    reason = f"""CASE
    WHEN IS_NEW THEN {literal(NEW)}
    WHEN IS_RETRY THEN {literal(RETRY_NOT_FOUND)}
    WHEN IDENTITY_CHANGED OR TYPED_CHANGED OR {_any([f"C{i}" for i in n])}
      THEN {literal(VALUE_CHANGED)}
    WHEN {_any([f"A{i}" for i in n])} THEN {literal(FIELD_ADDED)}
    WHEN {_any([f"X{i}" for i in n])} THEN {literal(FIELD_CLEARED)}
    WHEN {"TRUE" if full_resync else "FALSE"} THEN {literal(RESYNC)}
  END"""
    cleared_names = ", ".join(
        f"COALESCE(CASE WHEN X{i} THEN {literal(field + ' ')} END, '')"
        for i, field in enumerate(fields)
    )
    cleared_list = f"NULLIF(TRIM(CONCAT({cleared_names})), '')" if fields else "NULL"
    payload = _payload_text(sync, fields, typed, [f"X{i}" for i in n])
    base = _payload_text(sync, fields, typed, None)
    # What Iterable holds once a row is sent: under `nulls: keep` a field left out because
    # its value went null keeps its old value there, so state records that value, not the
    # payload; else the value returning later would look like a field added and be resent.
    # Users only: bulkUpdate merges data fields, where an event or item sent again replaces
    # the old one whole. NULL where nothing is kept (the state takes the payload).
    if users and not clear and fields:
        held = _payload_text(sync, fields, typed, None, [f"COALESCE(J{i}, O{i})" for i in n])
        kept = _any([f"(J{i} IS NULL AND O{i} IS NOT NULL)" for i in n])
        state_payload = f"CASE WHEN REASON IS NOT NULL AND {kept} THEN {held} END"
    else:
        state_payload = "CAST(NULL AS VARCHAR)"
    # A target tag in both hashes that differs: the rows go to a new catalog or list.
    retarget = (
        f"(SUBSTR(s.HASH, {TAG_LENGTH}, 1) = ':'"
        f" AND SUBSTR(s.HASH, 1, {TAG_LENGTH}) <> {literal(target_tag(sync) + ':')})"
    )
    out = (
        "SEQ, PK, EMAIL, USER_ID, {payload} AS PAYLOAD, {hash} AS HASH, FAST, {change} AS CHANGE,"
        " {reason} AS REASON, {cleared} AS CLEARED, PREVIOUS_OUTCOME, PREVIOUS_EMAIL,"
        " {state_payload} AS STATE_PAYLOAD"
    )
    sent = out.format(
        payload=f"CASE WHEN REASON IS NOT NULL THEN {payload} END",
        hash="RECORD_HASH",
        change=f"CASE WHEN REASON IS NULL THEN {literal(UNCHANGED)} ELSE CHANGE END",
        reason="REASON",
        cleared="CLEARED",
        state_payload=state_payload,
    )
    gone = out.format(
        payload="PREVIOUS_PAYLOAD",
        hash="STATE_HASH",
        change="CHANGE",
        reason=literal(REMOVED),
        cleared="CAST(NULL AS VARCHAR)",
        state_payload="CAST(NULL AS VARCHAR)",
    )
    # Keys and sequence numbers are settled on narrow rows first; only then are the rows to
    # compare joined back to the snapshot for their values.
    # Two statements: the keys to look at are numbered into their own narrow table first.
    # As one statement DuckDB kept the numbering, the snapshot join and the state join in
    # memory together: a mapping change touching every row of 1M records ran out of a 1 GB
    # limit (peaking near 3 GB); split, it stays within it.
    # One join of records and state finds all three kinds: a key in records only (added), in
    # both with a new hash (changed), in state only (removed). Only keys and hashes take part,
    # in a statement of its own: carrying every column through a join of 10M rows by 10M
    # made its hash table spill (10 s at 10M rows, against 4 s narrow), and as a CTE of the
    # next statement a full resync of 10M rows ran out of a 1 GB limit.
    candidates = f"""
CREATE OR REPLACE TABLE {t.diff_candidates} AS
SELECT COALESCE(r.PK, s.PK) AS PK
FROM (SELECT PK, FAST, INVALID_REASON FROM {t.records}) r
FULL OUTER JOIN (SELECT PK, FAST, IN_MODEL, {retry_due} AS RETRY_DUE FROM {t.state}) s
  ON s.PK = r.PK
WHERE (r.PK IS NOT NULL AND r.INVALID_REASON IS NULL
    AND (s.PK IS NULL OR {resend} OR (s.IN_MODEL AND s.RETRY_DUE)))
  OR (r.PK IS NULL AND s.IN_MODEL AND {removal})"""
    keys = f"""
CREATE OR REPLACE TABLE {t.diff_keys} AS
WITH changes AS (
  -- The keys found, with what the diff reads of them: a candidate has a valid record, or
  -- none at all (removed).
  SELECT
    COALESCE(r.PK, s.PK) AS PK,
    CASE WHEN r.PK IS NULL THEN s.EMAIL ELSE r.EMAIL END AS EMAIL,
    CASE WHEN r.PK IS NULL THEN s.USER_ID ELSE r.USER_ID END AS USER_ID,
    r.FAST,
    s.HASH AS STATE_HASH,
    COALESCE(r.COPIES, 1) AS COPIES,
    CASE WHEN r.PK IS NULL THEN 'removed' WHEN s.PK IS NULL THEN 'added' ELSE 'changed' END
      AS CHANGE,
    -- Not in state, back in the model, or bound for a new target: sent whole.
    (r.PK IS NOT NULL AND (s.PK IS NULL OR NOT s.IN_MODEL OR {retarget})) AS IS_NEW,
    -- Answered "not found" and due again: sent whole too, as a retry.
    COALESCE(r.PK IS NOT NULL AND s.IN_MODEL AND s.RETRY_DUE, FALSE) AS IS_RETRY,
    (r.PK IS NOT NULL AND s.PK IS NOT NULL AND (s.EMAIL IS DISTINCT FROM r.EMAIL
      OR s.USER_ID IS DISTINCT FROM r.USER_ID)) AS IDENTITY_CHANGED,
    s.OUTCOME AS PREVIOUS_OUTCOME,
    s.EMAIL AS PREVIOUS_EMAIL
  FROM (
    SELECT r.PK, r.EMAIL, r.USER_ID, r.FAST, r.COPIES
    FROM {t.records} r JOIN {t.diff_candidates} k ON k.PK = r.PK
    WHERE r.INVALID_REASON IS NULL
  ) r
  FULL OUTER JOIN (
    SELECT s.PK, s.EMAIL, s.USER_ID, s.HASH, s.IN_MODEL, s.OUTCOME,
      {retry_due} AS RETRY_DUE
    FROM {t.state} s JOIN {t.diff_candidates} k ON k.PK = s.PK
  ) s ON s.PK = r.PK
),
numbered AS (
  SELECT ROW_NUMBER() OVER (ORDER BY CHANGE, PK) AS SEQ, * FROM changes
)
SELECT * FROM numbered"""
    compare = f"""
CREATE OR REPLACE TABLE {t.diff} AS
WITH numbered AS (SELECT * FROM {t.diff_keys}),
sent_before AS (
  -- The payload last sent, joined to the narrow numbered rows first: the hash tables of
  -- both joins hold these rows, never the model's values or their JSON. (Joined after the
  -- snapshot, a 1% change of 10M rows spilled under a 512MB limit: 14.7 s against 5.1 s.)
  SELECT n.*, s.PAYLOAD AS PREVIOUS_PAYLOAD
  FROM numbered n
  LEFT JOIN {t.state} s ON s.PK = n.PK
  WHERE n.CHANGE <> 'removed'
),
last_sent AS (
  SELECT {current_columns}
  FROM sent_before n
  JOIN {model_rows} m ON {row.pk} = n.PK
  WHERE n.COPIES = 1
  UNION ALL
  SELECT {current_columns}
  FROM sent_before n
  JOIN {model_rows} m ON {row.pk} = n.PK
  -- A duplicated key: the copy its record was made from (copies with one hash are alike).
  WHERE n.COPIES > 1 AND {row.fast} = n.FAST
  QUALIFY ROW_NUMBER() OVER (PARTITION BY n.PK ORDER BY n.SEQ) = 1
),
based AS (
  -- The MD5 state was judged by, or what would be sent without clearing anything, equal to
  -- the last payload: nothing to do. (A full resync compares every payload.)
  SELECT c.*,
    CASE WHEN IS_NEW OR IS_RETRY THEN FALSE
      WHEN {"FALSE" if full_resync else "RECORD_HASH = STATE_HASH"} THEN TRUE
      ELSE COALESCE({base} = PREVIOUS_PAYLOAD, FALSE) END AS SAME
  FROM last_sent c
),
parsed AS (
  -- The last payload is parsed only for rows whose text differs from it.
  SELECT b.*,
    CASE WHEN NOT SAME AND NOT IS_NEW AND NOT IS_RETRY THEN PARSE_JSON(PREVIOUS_PAYLOAD) END
      AS LAST_SENT
  FROM based b
),
compared AS (
  SELECT p.*{"".join(", " + v for v in old_values)} FROM parsed p
),
flagged AS (
  SELECT c.*, {", ".join(flags)} FROM compared c
),
reasoned AS (
  SELECT f.*, {reason} AS REASON, {cleared_list} AS CLEARED FROM flagged f
)
SELECT {sent}
FROM reasoned
UNION ALL
SELECT {gone}
FROM (
  SELECT n.*, s.PAYLOAD AS PREVIOUS_PAYLOAD
  FROM numbered n
  JOIN {t.state} s ON s.PK = n.PK
  WHERE n.CHANGE = 'removed'
)"""
    return [
        candidates,
        keys,
        compare,
        f"DROP TABLE IF EXISTS {t.diff_keys}",
        f"DROP TABLE IF EXISTS {t.diff_candidates}",
        f"DROP TABLE IF EXISTS {t.records_stale_rows}",
        f"DROP TABLE IF EXISTS {t.records_stale}",
    ]


def refresh_unchanged_sql(sync: SyncConfig) -> list[str]:
    """Records whose hash moved with nothing to send take their new hash and fast hash in
    state (so they are not hashed or compared again next run) and leave the diff. Nothing
    was sent for them, so their last payload — what Iterable holds — stays."""
    t = SyncTables(sync.name)
    return [
        f"UPDATE {t.state} AS st SET HASH = d.HASH, FAST = d.FAST FROM {t.diff} AS d"
        f" WHERE d.PK = st.PK AND d.CHANGE = {literal(UNCHANGED)}",
        f"DELETE FROM {t.diff} WHERE CHANGE = {literal(UNCHANGED)}",
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
