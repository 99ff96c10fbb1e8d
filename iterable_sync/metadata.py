"""Helpers that turn warehouse results into Dagster metadata people can read in the UI.

Rows are shown as ``dg.MetadataValue.table`` with a ``dg.TableSchema``: the UI draws a
sortable table and the values stay typed for whoever reads the run's metadata back (tests,
``make demo``). ``markdown_table`` is kept for text outside the UI (the history CLI, the
checks' samples).
"""

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import dagster as dg

_MAX_CELL = 60
#: A table cell longer than this is cut: a payload of many fields would make rows unreadable.
_MAX_TABLE_CELL = 200


def _cell(value: Any) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A markdown table of a few rows; long values are cut so the table stays readable."""
    if not rows:
        return "_no rows_"
    names = list(columns or rows[0].keys())
    lines = [
        "| " + " | ".join(names) + " |",
        "| " + " | ".join("---" for _ in names) + " |",
    ]
    lines += ["| " + " | ".join(_cell(row.get(name)) for name in names) + " |" for row in rows]
    return "\n".join(lines)


def _table_value(value: Any) -> str | int | float | bool | None:
    """A value a ``TableRecord`` holds: numbers, booleans and None as they are, the rest as
    text (dates ISO, objects and arrays as JSON), cut to a readable length."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= _MAX_TABLE_CELL else text[: _MAX_TABLE_CELL - 1] + "…"


def _column_type(values: Sequence[Any]) -> str:
    """The TableColumn type of a column's values (the UI sorts numbers as numbers)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    return "string"


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
) -> dg.TableMetadataValue:
    """Rows as a sortable table; ``columns`` fixes their order (and the schema when there are
    no rows, so an empty table still says what it would hold)."""
    names = list(columns or (rows[0].keys() if rows else []))
    records = [{name: _table_value(row.get(name)) for name in names} for row in rows]
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, _column_type([r[name] for r in records])) for name in names]
    )
    return dg.MetadataValue.table(
        records=[dg.TableRecord(record) for record in records], schema=schema
    )


def table_rows(value: dg.TableMetadataValue) -> list[dict[str, Any]]:
    """A table's rows back as dicts (for tests and summaries)."""
    return [dict(record.data) for record in value.records]


def column_schema(columns: Sequence[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, type_) for name, type_ in columns])
