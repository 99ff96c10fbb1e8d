"""Snapshotting a model for a run: a table copy of its rows, or a view its syncs read once.

A sync's plan must read one consistent set of the model's rows, whatever the source tables
do meanwhile. A ``table`` snapshot gives that by copying every row: the same rows for every
check, diff and send of the tick, at the price of writing the model whole (10M rows of the
benchmark's 22 columns: 8 to 11 s, and 346 bytes a row on disk). A ``view`` snapshot copies
nothing: each sync's plan reads the model inside one warehouse transaction
(``WarehouseSession.consistent_read``), which DuckDB's snapshot isolation makes one point in
time. Two syncs of one tick may then read the model a moment apart (each consistent in
itself); a model whose syncs must agree row for row, or whose query is costly to run more
than once, stays a table. Snowflake gives a transaction no single point in time across
statements (each reads what was committed when it started), so there a view is copied as a
table, which Snowflake does without moving the data through the warehouse's clients.

Dagster-free: the model asset (``assets.py``) and the benchmarks call it.
"""

from iterable_sync.models import Model, SnapshotKind
from iterable_sync.warehouse import WarehouseSession


def snapshot_kind(model: Model, session: WarehouseSession) -> SnapshotKind:
    """What the model's snapshot is on this warehouse (a view only where it is safe)."""
    if model.snapshot is SnapshotKind.VIEW and session.reads_one_point_in_time:
        return SnapshotKind.VIEW
    return SnapshotKind.TABLE


def snapshot_model(session: WarehouseSession, model: Model) -> SnapshotKind:
    """Make the model's snapshot (``ITERABLE_SYNC.<NAME>``) as a table or a view, replacing
    whatever was there, of either kind; returns the kind made."""
    schema, name = model.snapshot_table.split(".")
    session.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    kind = snapshot_kind(model, session)
    # A view cannot replace a table of its name, nor a table a view: the other kind goes.
    other = "TABLE" if kind is SnapshotKind.VIEW else "VIEW"
    if session.object_kind(schema, name) == other:
        session.execute(f"DROP {other} {model.snapshot_table}")
    verb = "VIEW" if kind is SnapshotKind.VIEW else "TABLE"
    session.execute(f"CREATE OR REPLACE {verb} {model.snapshot_table} AS {model.sql}")
    return kind
