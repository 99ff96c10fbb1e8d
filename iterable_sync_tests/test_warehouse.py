"""The warehouse resource: Snowflake SQL run on the embedded DuckDB warehouse."""

import json

import pytest

from iterable_sync.warehouse import DuckDBWarehouse


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ('{"a": ",]", "b": "\\\\"}', {"a": ",]", "b": "\\"}),  # commas inside strings
        ("[1, 2,]", None),  # trailing commas: DuckDB's reader takes them, Snowflake's not
        ('{"a": 1,}', None),
        ('{"a": "\\"", "b": [1 ,\n]}', None),
        ("{not json", None),
    ],
)
def test_try_parse_json_reads_what_snowflake_reads(
    warehouse: DuckDBWarehouse, text: str, parsed: object
) -> None:
    with warehouse.session() as session:
        session.execute("CREATE TABLE t (X VARCHAR)")
        session.execute("INSERT INTO t VALUES (?)", [text])
        got = session.scalar("SELECT TRY_PARSE_JSON(X)::VARCHAR FROM t")
    assert (None if got is None else json.loads(got)) == parsed
