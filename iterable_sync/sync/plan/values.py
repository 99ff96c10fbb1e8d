"""One mapped column's value as SQL, and whether it fits the Iterable type of its field."""

from iterable_sync.sync.config import Cast, FieldMapping
from iterable_sync.sync.plan import rules
from iterable_sync.sync.plan.text import DATE_FORMAT, as_text, is_json, is_temporal, q


def value_sql(mapping: FieldMapping, column_type: str, table: str | None = None) -> tuple[str, str]:
    """(value expression, invalid-value predicate) for one mapped column.

    A value that cannot become the Iterable type it is sent as is *invalid* — quarantined
    with its reason — rather than silently sent as null, which would wipe the field.
    ``table`` qualifies the column (an alias) when the expression is used in a join.
    """
    col = f"{table}.{q(mapping.column)}" if table else q(mapping.column)
    cast = mapping.cast
    if cast is None:
        if is_temporal(column_type):
            return f"TO_CHAR(CAST({col} AS TIMESTAMP_NTZ), '{DATE_FORMAT}')", "FALSE"
        return col, "FALSE"
    if cast is Cast.STRING:
        value = f"TO_JSON({col})" if is_json(column_type) else as_text(col)
        return value, "FALSE"
    if cast is Cast.DATE:
        if is_temporal(column_type):
            value = f"TO_CHAR(CAST({col} AS TIMESTAMP_NTZ), '{DATE_FORMAT}')"
        else:
            value = f"TO_CHAR(TRY_TO_TIMESTAMP({as_text(col)}, '{DATE_FORMAT}'), '{DATE_FORMAT}')"
    elif cast is Cast.JSON:
        value = col if is_json(column_type) else f"TRY_PARSE_JSON({as_text(col)})"
    else:
        target = {Cast.LONG: "BIGINT", Cast.DOUBLE: "DOUBLE", Cast.BOOLEAN: "BOOLEAN"}[cast]
        value = f"TRY_CAST(TRIM({as_text(col)}) AS {target})"
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
_ALWAYS_FITS = frozenset(
    {("long", LONG), ("double", LONG), ("double", DOUBLE), ("boolean", BOOLEAN)}
)
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
    if cast is Cast.DATE or (cast is None and is_temporal(upper)):
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


def json_kind(mapping: FieldMapping, column_type: str) -> str:
    """What JSON a mapped value becomes. The hash covers it: the text of 12 and "12" is one."""
    if mapping.cast is not None:
        kinds = {Cast.LONG: "number", Cast.DOUBLE: "number", Cast.BOOLEAN: "boolean"}
        return "json" if mapping.cast is Cast.JSON else kinds.get(mapping.cast, "string")
    upper = column_type.upper()
    if is_temporal(upper):
        return "string"
    if is_json(upper):
        return "json"
    if upper.startswith("BOOL"):
        return "boolean"
    return "number" if upper.startswith(_NUMERIC_TYPES) else "string"


def boolean_sql(col: str, column_type: str) -> str:
    """A subscription column as a boolean: a BOOLEAN as is, 1/0, or the text true/false
    (any case); NULL for anything else, which ``shapes.row_rules`` quarantines when the
    column was not null (a value that cannot say subscribed or not is never guessed)."""
    upper = column_type.upper()
    if upper.startswith("BOOL"):
        return col
    if upper.startswith(("NUMBER", "DECIMAL", "NUMERIC", "INT", "BIGINT", "SMALLINT", "TINYINT")):
        return f"(CASE WHEN {col} = 1 THEN TRUE WHEN {col} = 0 THEN FALSE END)"
    text = f"LOWER(TRIM({as_text(col)}))"
    return f"(CASE WHEN {text} = 'true' THEN TRUE WHEN {text} = 'false' THEN FALSE END)"
