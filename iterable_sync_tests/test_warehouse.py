"""The warehouse resource: Snowflake SQL run on the embedded DuckDB warehouse."""

import json

import duckdb
import pytest

from iterable_sync.sync.plan.text import literal
from iterable_sync.warehouse import translate
from iterable_sync.warehouse_resource import DuckDBWarehouse


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


def test_paths_taken_from_one_json_column_read_alike_when_parsed_once(
    warehouse: DuckDBWarehouse,
) -> None:
    paths = ['"a"', '"b"."c"', '"d.e"', '"missing"']
    one_by_one = ", ".join(
        f"TO_JSON(GET_PATH(J, {literal(p)})) AS V{i}" for i, p in enumerate(paths)
    )
    query = f"SELECT {one_by_one} FROM (SELECT PARSE_JSON(?) AS J)"
    assert "json_extract" in translate(query, "duckdb").lower()
    document = json.dumps({"a": 1, "b": {"c": [1, "x"]}, "d.e": None, "z": "zz"})
    with warehouse.session() as session:
        rows = session.query(query, [document])
        # Two paths are taken apart, as written: the same values.
        apart = session.query(
            'SELECT TO_JSON(GET_PATH(J, \'"a"\')) AS V0, TO_JSON(GET_PATH(J, \'"b"."c"\'))'
            " AS V1 FROM (SELECT PARSE_JSON(?) AS J)",
            [document],
        )
    assert rows == [{"V0": "1", "V1": '[1,"x"]', "V2": "null", "V3": None}]
    assert apart == [{"V0": "1", "V1": '[1,"x"]'}]


def test_a_table_made_with_compressed_columns_stores_them_with_zstd(tmp_path):
    """State's payloads are most of its bytes; the session names them for ZSTD, since it
    leaves DuckDB's default string compression out for write speed."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.session() as session:
        session.execute("CREATE SCHEMA S")
        session.create_table(
            "S.T", [("PK", "VARCHAR NOT NULL"), ("PAYLOAD", "VARCHAR")], compressed=["PAYLOAD"]
        )
        session.execute(
            "INSERT INTO S.T SELECT 'k' || i, '{\"plan\":\"free\",\"n\":' || i || '}'"
            " FROM range(5000) t(i)"
        )
        session.execute_native("CHECKPOINT")
        used = {
            str(row["COLUMN_NAME"]): str(row["COMPRESSION"])
            for row in session.query(
                "SELECT column_name, compression FROM pragma_storage_info('S.T')"
                " WHERE segment_type = 'VARCHAR'"
            )
        }
        with pytest.raises(duckdb.ConstraintException):
            session.execute("INSERT INTO S.T (PK) VALUES (NULL)")
    assert used["PAYLOAD"] == "ZSTD"
    assert used["PK"] != "ZSTD"
