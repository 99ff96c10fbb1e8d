"""A warehouse session: one interface, two backends (DuckDB file or Snowflake).

Dagster-free, so the planner and the send run on a session without Dagster; the resources
that open sessions for assets are in ``warehouse_resource.py``.

All SQL in this project is written in Snowflake's dialect — production runs on Snowflake —
and translated with sqlglot when the embedded DuckDB warehouse runs it. Results come back in
bounded batches: no code path pulls a whole table into Python.
"""

import logging
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

Params = Sequence[Any] | None

# sqlglot warns when a Snowflake construct has no exact DuckDB equivalent for *time-zoned*
# timestamps (EXTRACT from TIMESTAMPTZ); the models here use zone-less timestamps, and the
# warning, repeated per statement, would bury the run's own log lines.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: How many rows a batch read hands to Python at once, unless a caller asks otherwise.
DEFAULT_BATCH_ROWS = 10_000


def _never_null(node: exp.Expression) -> bool:
    """A literal, CHR(<literal>), or a COALESCE with one of those: it cannot be NULL."""
    if isinstance(node, exp.Literal):
        return True
    if isinstance(node, exp.Chr):
        return all(isinstance(arg, exp.Literal) for arg in node.expressions)
    if isinstance(node, exp.Coalesce):
        return any(_never_null(arg) for arg in [node.this, *node.expressions])
    return False


# DuckDB's JSON reader accepts trailing commas (`[1, 2,]`), which Snowflake's PARSE_JSON
# refuses; text that only DuckDB would read must not reach Iterable from the embedded
# warehouse either. String literals are blanked first so a "," + "]" inside one is no match.
_TRAILING_COMMA = sqlglot.parse_one(
    r"""REGEXP_MATCHES(REGEXP_REPLACE(__text, '"(?:[^"\\]|\\.)*"', '""', 'g'), ',\s*[\]}]')""",
    read="duckdb",
)


def _strict_try_parse_json(node: exp.Expression) -> exp.Expression:
    """TRY_PARSE_JSON for DuckDB: NULL for text with a trailing comma, as on Snowflake."""
    if not (isinstance(node, exp.ParseJSON) and node.args.get("safe")):
        return node
    text = node.this
    lenient = _TRAILING_COMMA.transform(
        lambda n: text.copy() if isinstance(n, exp.Column) and n.name == "__text" else n
    )
    return exp.case().when(lenient, exp.null()).else_(node)


def _one_parse_per_document(tree: exp.Expression) -> exp.Expression:
    """Snowflake's PARSE_JSON gives a parsed VARIANT, and each GET_PATH on it is a lookup;
    DuckDB's JSON is text, parsed again for every path taken from it. Where one SELECT takes
    several paths from one column (the diff reads each field of the payload last sent), they
    are taken by one ``json_extract`` with the list of paths, an expression DuckDB computes
    once per row and shares (reading 16 fields of 98,620 payloads into a table: 3.3 s ->
    2.4 s)."""
    for select in tree.find_all(exp.Select):
        groups: dict[str, list[exp.JSONExtract]] = {}
        for projection in select.expressions:
            for node in projection.find_all(exp.JSONExtract):
                if isinstance(node.this, exp.Column) and node.parent_select is select:
                    groups.setdefault(node.this.sql(), []).append(node)
        for nodes in groups.values():
            if len(nodes) < 3:
                continue
            paths = exp.Array(
                expressions=[
                    exp.maybe_parse(node.expression.sql(dialect="duckdb"), dialect="duckdb")
                    for node in nodes
                ]
            )
            for index, node in enumerate(nodes, start=1):
                # Each its own copy of the path list: a sqlglot node has one parent.
                every = exp.Anonymous(
                    this="json_extract", expressions=[node.this.copy(), paths.copy()]
                )
                node.replace(
                    exp.Anonymous(
                        this="list_extract", expressions=[every, exp.Literal.number(index)]
                    )
                )
    return tree


@lru_cache(maxsize=1024)
def translate(sql: str, dialect: str) -> str:
    """Snowflake SQL → the target dialect (identity for Snowflake)."""
    if dialect == "snowflake":
        return sql
    statements = []
    for tree in sqlglot.parse(sql, read="snowflake"):
        if tree is None:
            continue
        # Snowflake's CONCAT is NULL when an argument is, so sqlglot writes it as a chain of
        # `||` for DuckDB, which copies the growing string once per argument. When no
        # argument can be NULL the two agree, and DuckDB's CONCAT builds it in one go (the
        # per-record hash over millions of rows is such a CONCAT).
        for concat in tree.find_all(exp.Concat):
            if all(_never_null(arg) for arg in concat.expressions):
                concat.set("coalesce", True)
        if dialect == "duckdb":
            tree = tree.transform(_strict_try_parse_json, copy=False)
            tree = _one_parse_per_document(tree)
        statements.append(tree.sql(dialect=dialect))
    return ";\n".join(statements)


class WarehouseSession(ABC):
    """An open connection. SQL given to it is Snowflake dialect unless the method says not."""

    dialect: str

    def execute(self, sql: str, params: Params = None) -> None:
        self.execute_native(translate(sql, self.dialect), params)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a query whose result is known to be small (counts, samples, previews)."""
        rows: list[dict[str, Any]] = []
        for batch in self.iter_batches(sql, params=params):
            rows.extend(batch)
        return rows

    def scalar(self, sql: str, params: Params = None) -> Any:
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    @abstractmethod
    def execute_native(self, sql: str, params: Params = None) -> None:
        """Run SQL already written in this backend's dialect."""

    @abstractmethod
    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one parameterised statement (Snowflake dialect) for each row of parameters."""

    @abstractmethod
    def iter_arrow(
        self, sql: str, params: Params = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as Arrow record batches of at most ``batch_rows`` rows."""

    def iter_batches(
        self, sql: str, params: Params = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream a query's result as lists of row dicts (column names upper-cased)."""
        for batch in self.iter_arrow(sql, params, batch_rows):
            names = [name.upper() for name in batch.schema.names]
            columns = [column.to_pylist() for column in batch.columns]
            yield [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    @abstractmethod
    def append(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table to an existing table (columns matched by name)."""

    @contextmanager
    def staged(self, table: str, data: pa.Table) -> Iterator[str]:
        """``data`` readable by SQL, for the block, under the name yielded: loaded into
        ``table``, an existing staging table whose rows it replaces."""
        self.execute(f"DELETE FROM {table}")
        self.append(table, data)
        yield table

    #: Whether ``consistent_read`` gives its block one point in time of every table.
    reads_one_point_in_time: bool = False

    @contextmanager
    def consistent_read(self) -> Iterator[None]:
        """The block's statements, as one transaction where the warehouse makes one read one
        point in time (``reads_one_point_in_time``): what lets a model be read as a view and
        still be one snapshot for a sync's plan. Here nothing: on Snowflake each statement
        reads what was committed when it started, and DDL commits, so a model read by several
        statements is snapshotted as a table (``models.assets``)."""
        yield

    def create_table(
        self, table: str, columns: Sequence[tuple[str, str]], compressed: Sequence[str] = ()
    ) -> None:
        """``CREATE TABLE IF NOT EXISTS`` (column types in Snowflake's dialect); the columns
        named in ``compressed`` are compressed hard where the warehouse lets a table say so
        (Snowflake compresses every column itself)."""
        body = ", ".join(f"{name} {type_}" for name, type_ in columns)
        self.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")

    def object_kind(self, schema: str, name: str) -> str | None:
        """``TABLE`` or ``VIEW``: what the warehouse holds under that name (None: nothing)."""
        rows = self.query(
            "SELECT table_type AS KIND FROM information_schema.tables"
            " WHERE upper(table_schema) = upper(?) AND upper(table_name) = upper(?)",
            [schema, name],
        )
        if not rows:
            return None
        return "VIEW" if "VIEW" in str(rows[0]["KIND"]).upper() else "TABLE"

    @abstractmethod
    def table_exists(self, schema: str, table: str) -> bool: ...

    @abstractmethod
    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """(name, type) of each column, in order."""


# --------------------------------------------------------------------------- DuckDB


#: The name under which a DuckDB session shows a staged Arrow table to SQL.
STAGED_VIEW = "_iterable_sync_staged"


class _DuckDBSession(WarehouseSession):
    dialect = "duckdb"
    # DuckDB's transactions are snapshot isolated: every read in one sees the same data.
    reads_one_point_in_time = True

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self._in_transaction = False

    @contextmanager
    def consistent_read(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self.conn.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self.conn.execute("ROLLBACK")
            raise
        self._in_transaction = False
        self.conn.execute("COMMIT")

    def create_table(
        self, table: str, columns: Sequence[tuple[str, str]], compressed: Sequence[str] = ()
    ) -> None:
        # ZSTD, named per column: the session leaves DuckDB's dict_fsst out for write speed
        # (duckdb_session), which left these columns uncompressed. On state at 1M rows ZSTD
        # took its payloads from 662 to 150 bytes a row, written as fast (benchmarks/disk.py).
        parts = []
        for name, type_ in columns:
            base, not_null = (
                (type_[: -len(" NOT NULL")], " NOT NULL")
                if type_.upper().endswith(" NOT NULL")
                else (type_, "")
            )
            native = exp.DataType.build(base, dialect="snowflake").sql(dialect="duckdb")
            zstd = " USING COMPRESSION zstd" if name in compressed else ""
            parts.append(f"{name} {native}{zstd}{not_null}")
        self.execute_native(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(parts)})")

    def execute_native(self, sql: str, params: Params = None) -> None:
        self.conn.execute(sql, list(params) if params is not None else None)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(translate(sql, self.dialect), [list(row) for row in rows])

    def iter_arrow(
        self, sql: str, params: Params = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        native = translate(sql, self.dialect)
        values = list(params) if params is not None else None
        if self._in_transaction:
            # Only the transaction's own connection sees what it wrote. Its DB-API result,
            # read whole: the relation API refuses to start while an earlier statement's
            # result is unread, and a transaction's reads are the plan's small ones.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "an extra copy of the rows"
                table = self.conn.execute(native, values).to_arrow_table()
            yield from table.to_batches(max_chunksize=batch_rows)
            return
        # A cursor of its own, so a caller may write through the session while it streams.
        cursor = self.conn.cursor()
        try:
            # The relation API streams; a DB-API result would copy every row first.
            relation = cursor.sql(native, params=values)
            if relation is None:  # a statement with no result set
                return
            yield from relation.to_arrow_reader(batch_rows)
        finally:
            cursor.close()

    def append(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        names = ", ".join(f'"{name}"' for name in data.schema.names)
        self.conn.register("_iterable_sync_append", data)
        try:
            self.conn.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM _iterable_sync_append"
            )
        finally:
            self.conn.unregister("_iterable_sync_append")

    @contextmanager
    def staged(self, table: str, data: pa.Table) -> Iterator[str]:
        # DuckDB reads the Arrow table where it is: no copy into a table, nor into the WAL.
        self.conn.register(STAGED_VIEW, data)
        try:
            yield STAGED_VIEW
        finally:
            self.conn.unregister(STAGED_VIEW)

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.conn.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE upper(table_schema) = upper(?) AND upper(table_name) = upper(?)",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        return [
            (str(name), str(type_))
            for name, type_ in self.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE upper(table_schema) = upper(?) AND upper(table_name) = upper(?)"
                " ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
        ]


def _connect(path: str, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    # DuckDB lets one process hold a file for writing; a second run waits for it
    # rather than failing at once, and says what it waited on if it gives up.
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextmanager
def duckdb_session(
    path: str, memory_limit: str, threads: int | None, lock_timeout_s: float
) -> Iterator[WarehouseSession]:
    """A session on the DuckDB file at ``path``, closed when the block ends."""
    conn = _connect(path, lock_timeout_s)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"SET memory_limit = '{memory_limit}'")
        # Insertion order is irrelevant to every query here; dropping it saves memory.
        conn.execute("SET preserve_insertion_order = false")
        # DuckDB 2's dictionary+FSST string compression spends more on writing the big
        # tables of a run (snapshot, records, state) than any query does: copying 10M
        # records took 21.5 s with it and 10.2 s without (the table 2.4x larger on disk).
        conn.execute("SET disabled_compression_methods = 'dict_fsst'")
        if threads:
            conn.execute(f"SET threads = {int(threads)}")
        yield _DuckDBSession(conn)
    finally:
        conn.close()
