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
from snowflake.connector.errors import NotSupportedError, ProgrammingError

from iterable_sync import settings
from iterable_sync.warehouse import DEFAULT_BATCH_ROWS, Params, WarehouseSession
from iterable_sync.warehouse_resource import Warehouse


def _arrow_tables(cursor: Any) -> Iterator[pa.Table] | None:
    """The result as Arrow tables, straight from the connector's Arrow result chunks
    (``fetch_arrow_batches``), or None when the cursor cannot give them: fakesnow's cursor
    has no such method; the connector raises ``NotSupportedError`` for a result that came
    back as JSON rather than Arrow, and ``ProgrammingError`` on a platform without its Arrow
    extension (both before any row is read)."""
    fetch = getattr(cursor, "fetch_arrow_batches", None)
    if fetch is None:
        return None
    try:
        # One timestamp unit for every chunk: otherwise a chunk's precision follows its
        # data and two chunks of one column may not share a schema.
        return iter(fetch(force_microsecond_precision=True))
    except (NotSupportedError, ProgrammingError):
        return None


def _row_batches(cursor: Any, names: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The fallback: rows fetched as tuples and turned into Arrow here."""
    while True:
        rows = cursor.fetchmany(batch_rows)
        if not rows:
            return
        yield pa.RecordBatch.from_pylist([dict(zip(names, row, strict=True)) for row in rows])


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
            tables = _arrow_tables(cursor)
            if tables is None:
                yield from _row_batches(cursor, names, batch_rows)
                return
            for table in tables:
                # The connector's batches are Snowflake's result chunks, of any size:
                # re-cut to the size the caller sends at.
                for batch in table.rename_columns(names).to_batches(max_chunksize=batch_rows):
                    if batch.num_rows:
                        yield batch
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


#: The ways to authenticate, by variable; exactly one must be set (dagster-snowflake's
#: SnowflakeResource refuses both a password and a key).
AUTH_VARIABLES = ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY_PATH")


def snowflake_auth_fields() -> dict[str, dg.EnvVar]:
    """The SnowflakeResource fields for the authentication the environment names: a password,
    or a key pair (the key itself or its file, with its passphrase when it has one).

    Which variables are set is decided when the definitions load; their values stay
    ``EnvVar``s, read by Dagster when the run starts and never kept in the definitions.
    """
    current = settings.load()
    given = {
        "password": current.snowflake_password,
        "private_key": current.snowflake_private_key,
        "private_key_path": current.snowflake_private_key_path,
    }
    chosen = [field for field, value in given.items() if value is not None]
    if len(chosen) != 1:
        names = " / ".join(AUTH_VARIABLES)
        problem = "none is" if not chosen else "more than one is"
        raise settings.SettingsError(
            f"ITERABLE_SYNC_WAREHOUSE=snowflake needs exactly one of {names}; {problem} set"
        )
    fields = {chosen[0]: dg.EnvVar(settings.env_name(f"snowflake_{chosen[0]}"))}
    if chosen[0] != "password" and current.snowflake_private_key_passphrase is not None:
        fields["private_key_password"] = dg.EnvVar("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    return fields


def snowflake_resource_from_env() -> SnowflakeResource:
    """SnowflakeResource whose credentials are read from the environment at run time."""
    return SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        warehouse=dg.EnvVar("SNOWFLAKE_WAREHOUSE"),
        database=dg.EnvVar("SNOWFLAKE_DATABASE"),
        role=dg.EnvVar("SNOWFLAKE_ROLE"),
        # `?` placeholders, the same as DuckDB's, so one SQL text serves both.
        paramstyle="qmark",
        timezone="UTC",
        **snowflake_auth_fields(),
    )
