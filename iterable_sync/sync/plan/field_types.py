"""The Iterable type each mapped field has, or would get from its first value: what the
records step judges a value's fit by."""

from iterable_sync.sync.config import Cast, SyncConfig
from iterable_sync.sync.plan import rules
from iterable_sync.sync.plan.text import q
from iterable_sync.sync.plan.values import is_integer_type
from iterable_sync.warehouse import WarehouseSession


def infer_field_types(
    session: WarehouseSession,
    sync: SyncConfig,
    snapshot_table: str,
    column_types: dict[str, str],
    existing: dict[str, str],
) -> dict[str, str]:
    """The Iterable type of each mapped field: what the project has (getFields), or what
    Iterable would infer from the first value — so text that is mostly dates is a date
    field, and its non-dates are the values that would sink a batch."""
    inferred: dict[str, str] = {}
    for mapping in sync.mapping:
        if mapping.field in existing:
            inferred[mapping.field] = existing[mapping.field]
            continue
        if mapping.cast is not None:
            if mapping.cast is not Cast.JSON:
                inferred[mapping.field] = mapping.cast.value
            continue
        column_type = column_types[mapping.column.upper()].upper()
        if column_type.startswith(("TIMESTAMP", "DATE")):
            inferred[mapping.field] = "date"
        elif is_integer_type(column_type):
            inferred[mapping.field] = "long"
        elif column_type.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMBER")):
            inferred[mapping.field] = "double"
        elif column_type.startswith("BOOL"):
            inferred[mapping.field] = "boolean"
        elif column_type.startswith(("VARCHAR", "TEXT", "STRING")):
            column = q(mapping.column)
            row = session.query(
                f"SELECT count({column}) AS N,"
                f" count_if({rules.is_iterable_date(column)}) AS DATES"
                f" FROM {snapshot_table}"
            )[0]
            n, dates = int(row["N"] or 0), int(row["DATES"] or 0)
            inferred[mapping.field] = "date" if n and dates * 2 >= n else "string"
    return inferred
