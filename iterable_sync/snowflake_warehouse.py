"""The production warehouse: Snowflake through dagster-snowflake's SnowflakeResource.

A module of its own so the embedded path never imports dagster-snowflake and the Snowflake
connector (about 200 MB of a run's memory); ``resources.py`` imports it only when
``ITERABLE_SYNC_WAREHOUSE=snowflake``.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pyarrow as pa
from dagster_snowflake import SnowflakeResource

from iterable_sync.warehouse import DEFAULT_BATCH_ROWS, Params, WarehouseSession
from iterable_sync.warehouse_resource import Warehouse


class _SnowflakeSession(WarehouseSession):
    dialect = "snowflake"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute_native(self, sql: str, params: Params = None) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, tuple(params) if params is not None else None)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql, [tuple(row) for row in rows])

    def iter_arrow(
        self, sql: str, params: Params = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, tuple(params) if params is not None else None)
            names = [column[0].upper() for column in cursor.description or []]
            while True:
                rows = cursor.fetchmany(batch_rows)
                if not rows:
                    break
                yield pa.RecordBatch.from_pylist(
                    [dict(zip(names, row, strict=True)) for row in rows]
                )
        finally:
            cursor.close()

    def append(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        names = data.schema.names
        placeholders = ", ".join("?" for _ in names)
        columns = ", ".join(names)
        with self.conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                [tuple(row[name] for name in names) for row in data.to_pylist()],
            )

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "SELECT count(*) AS N FROM information_schema.tables"
            " WHERE upper(table_schema) = upper(?) AND upper(table_name) = upper(?)",
            [schema, table],
        )
        return bool(rows and rows[0]["N"])

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT column_name AS NAME, data_type AS TYPE, numeric_precision AS P,"
            " numeric_scale AS S FROM information_schema.columns"
            " WHERE upper(table_schema) = upper(?) AND upper(table_name) = upper(?)"
            " ORDER BY ordinal_position",
            [schema, table],
        )
        # Snowflake's data_type is NUMBER for every fixed-point column, INTEGER included:
        # the scale is what tells an integer (NUMBER(38,0)) from a decimal, as DuckDB's
        # DECIMAL(p,s) does.
        return [
            (
                str(row["NAME"]),
                f"NUMBER({row['P']},{row['S']})"
                if str(row["TYPE"]).upper() == "NUMBER" and row["S"] is not None
                else str(row["TYPE"]),
            )
            for row in rows
        ]


class SnowflakeWarehouse(Warehouse):
    """Production: Snowflake through dagster-snowflake's SnowflakeResource."""

    snowflake: dg.ResourceDependency[SnowflakeResource]

    @property
    def dialect(self) -> str:
        return "snowflake"

    @property
    def kind(self) -> str:
        return "snowflake"

    @contextmanager
    def session(self) -> Iterator[WarehouseSession]:
        with self.snowflake.get_connection() as conn:
            yield _SnowflakeSession(conn)


def snowflake_resource_from_env() -> SnowflakeResource:
    """SnowflakeResource whose credentials are read from the environment at run time."""
    return SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        password=dg.EnvVar("SNOWFLAKE_PASSWORD"),
        warehouse=dg.EnvVar("SNOWFLAKE_WAREHOUSE"),
        database=dg.EnvVar("SNOWFLAKE_DATABASE"),
        role=dg.EnvVar("SNOWFLAKE_ROLE"),
        # `?` placeholders, the same as DuckDB's, so one SQL text serves both.
        paramstyle="qmark",
        timezone="UTC",
    )
