"""Rows shown in the UI are sortable tables with a schema, not hand-written markdown."""

from datetime import date

import dagster as dg

from iterable_sync.metadata import table, table_rows
from iterable_sync.sync.outcomes import RunTally
from iterable_sync.sync_assets import tally_metadata


def test_rows_become_a_table_with_a_typed_schema():
    shown = table(
        [
            {"PK": "C1", "ROWS": 3, "SHARE": 0.5, "OK": True, "ON": date(2026, 1, 2)},
            {"PK": "C2", "ROWS": 1, "SHARE": 1, "OK": False, "ON": None},
        ]
    )
    assert isinstance(shown, dg.TableMetadataValue)
    types = {c.name: c.type for c in shown.schema.columns}
    assert types == {"PK": "string", "ROWS": "int", "SHARE": "float", "OK": "bool", "ON": "string"}
    assert table_rows(shown)[0] == {
        "PK": "C1",
        "ROWS": 3,
        "SHARE": 0.5,
        "OK": True,
        "ON": "2026-01-02",
    }


def test_objects_are_json_and_long_values_are_cut():
    shown = table([{"PAYLOAD": {"firstName": "Ann"}, "LONG": "x" * 500}], ["PAYLOAD", "LONG"])
    row = table_rows(shown)[0]
    assert row["PAYLOAD"] == '{"firstName": "Ann"}'
    assert len(row["LONG"]) == 200 and row["LONG"].endswith("…")


def test_an_empty_table_still_names_its_columns():
    shown = table([], ["REASON", "ROWS"])
    assert [c.name for c in shown.schema.columns] == ["REASON", "ROWS"]
    assert table_rows(shown) == []


def test_the_sends_row_errors_are_a_table_by_reason():
    tally = RunTally()
    tally.errors_by_reason.update({"invalid value": 2, "not found": 5})
    errors = tally_metadata(tally)["row_errors"]
    assert isinstance(errors, dg.TableMetadataValue)
    assert table_rows(errors) == [
        {"REASON": "not found", "ROWS": 5},
        {"REASON": "invalid value", "ROWS": 2},
    ]
