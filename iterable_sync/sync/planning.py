"""Planning a sync's run, on a warehouse session: records → diff → collisions → quarantine.

The engine's first half, a plain function Dagster only calls (``sync_assets.py``): it imports
no Dagster. It runs the planner's SQL (``plan/``) and returns what it found; the checks then
judge the planned rows, and the send (``sending.py``) reads the diff.
"""

from typing import Any

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import OnLeave, SyncConfig
from iterable_sync.sync.plan import quarantine
from iterable_sync.sync.plan.collisions import find_collisions
from iterable_sync.sync.plan.diff import (
    DIFF_COLUMNS,
    DIFF_COMPRESSED,
    REASONS,
    diff_sql,
    refresh_unchanged_sql,
)
from iterable_sync.sync.plan.records import (
    REBUILD_SHARE,
    RECORD_TYPES,
    RECORDS_COMPRESSED,
    Records,
    insert_records_sql,
    records_recipe,
    records_recipe_ddl,
    refresh_records_sql,
    stale_records_sql,
)
from iterable_sync.sync.plan.state import STATE_COLUMNS, STATE_COMPRESSED, state_upgrade_sql
from iterable_sync.sync.plan.tables import SyncTables, snapshot_table
from iterable_sync.sync.plan.text import literal
from iterable_sync.warehouse import WarehouseSession


def column_types(session: WarehouseSession, sync: SyncConfig) -> dict[str, str]:
    columns = session.columns(SYNC_SCHEMA, sync.model.upper())
    if not columns:
        raise RuntimeError(
            f"sync {sync.name!r}: the snapshot {snapshot_table(sync)} does not exist; "
            f"materialize the model {sync.model!r} first"
        )
    return {name.upper(): type_ for name, type_ in columns}


def build_records_and_diff(
    session: WarehouseSession,
    sync: SyncConfig,
    project_type: str,
    full_resync: bool,
    field_types: dict[str, str] | None = None,
) -> dict[str, int]:
    """Records, state and diff tables for this run; returns the counts by kind."""
    types = column_types(session, sync)
    records = build_records(session, sync, types, project_type, field_types)
    session.create_table(SyncTables(sync.name).state, STATE_COLUMNS, STATE_COMPRESSED)
    for statement in state_upgrade_sql(sync):
        session.execute(statement)
    tables = SyncTables(sync.name)
    session.execute(f"DROP TABLE IF EXISTS {tables.diff}")
    session.create_table(tables.diff, DIFF_COLUMNS, DIFF_COMPRESSED)
    for statement in diff_sql(sync, records, full_resync=full_resync):
        session.execute(statement)
    # Rows whose identity collides leave the diff before it is counted or sent: the
    # identity check's verdict (the collisions found), then the planner holds them back.
    if find_collisions(session, sync, project_type):
        for statement in quarantine.collisions_sql(sync):
            session.execute(statement)
    # Records whose hash moved with nothing to send (a renamed column, a dropped field).
    for statement in refresh_unchanged_sql(sync):
        session.execute(statement)
    counts = {"added": 0, "changed": 0, "removed": 0}
    counts.update({reason_key(reason): 0 for reason in REASONS})
    for row in session.query(
        f"SELECT CHANGE, REASON, count(*) AS N FROM {tables.diff} GROUP BY CHANGE, REASON"
    ):
        counts[str(row["CHANGE"])] += int(row["N"])
        counts[reason_key(str(row["REASON"]))] += int(row["N"])
    summary = session.query(
        f"SELECT count(*) AS RECORDS,"
        f" count_if(INVALID_REASON IS NOT NULL) AS INVALID,"
        f" count_if(COPIES > 1) AS DUPLICATE_KEYS,"
        f" coalesce(sum(COPIES), 0) AS MODEL_ROWS"
        f" FROM {tables.records}"
    )[0]
    counts["records"] = int(summary["RECORDS"])
    counts["invalid"] = int(summary["INVALID"])
    counts["duplicate_keys"] = int(summary["DUPLICATE_KEYS"])
    counts["model_rows"] = int(summary["MODEL_ROWS"])
    counts["records_remade"] = records.remade
    counts["unchanged"] = (
        counts["records"] - counts["invalid"] - counts["added"] - counts["changed"]
    )
    return counts


def build_records(
    session: WarehouseSession,
    sync: SyncConfig,
    types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None,
) -> Records:
    """The sync's records of this snapshot: the kept ones refreshed where their rows moved,
    or all made again (no records yet, a new recipe, or most keys moved). Returns what the
    diff reads them by, with the keys whose records were made again (or dropped, gone from
    the model)."""
    tables = SyncTables(sync.name)
    source = snapshot_table(sync)
    recipe = records_recipe(sync, source, types, project_type, field_types)
    session.execute(records_recipe_ddl(sync))
    kept = session.query(f"SELECT RECIPE FROM {tables.records_recipe}")
    schema, name = tables.records.split(".", 1)
    if [row["RECIPE"] for row in kept] == [recipe] and session.table_exists(schema, name):
        session.execute(stale_records_sql(sync, source, types))
        stale = int(session.scalar(f"SELECT count(*) FROM {tables.records_stale}"))
        records = int(session.scalar(f"SELECT count(*) FROM {tables.records}"))
        if stale <= REBUILD_SHARE * records:
            for statement in refresh_records_sql(sync, source, types, project_type, field_types):
                session.execute(statement)
            return Records(source, types, refreshed=True, remade=stale)
        session.execute(f"DROP TABLE IF EXISTS {tables.records_stale}")
    # The recipe goes first: records half made are never taken for this recipe's.
    session.execute(f"DELETE FROM {tables.records_recipe}")
    session.execute(f"DROP TABLE IF EXISTS {tables.records}")
    session.create_table(tables.records, RECORD_TYPES, RECORDS_COMPRESSED)
    session.execute(insert_records_sql(sync, source, types, project_type, field_types))
    session.execute(f"INSERT INTO {tables.records_recipe} VALUES ({literal(recipe)})")
    remade = int(session.scalar(f"SELECT count(*) FROM {tables.records}"))
    return Records(source, types, refreshed=False, remade=remade)


def reason_key(reason: str) -> str:
    """The metadata key counting the diff's rows sent for ``reason`` (``sent_field_added``)."""
    return "sent_" + reason.replace(" ", "_")


#: Distinct sets of cleared fields read for the preview (each set is one row; few exist).
CLEARED_SETS = 1_000


def would_clear(session: WarehouseSession, sync: SyncConfig) -> dict[str, int]:
    """Iterable field → rows whose value this run clears (sent as null: Iterable deletes it)."""
    fields: dict[str, int] = {}
    rows = session.query(
        f"SELECT CLEARED, count(*) AS N FROM {SyncTables(sync.name).diff}"
        f" WHERE CLEARED IS NOT NULL GROUP BY CLEARED ORDER BY 2 DESC LIMIT {CLEARED_SETS}"
    )
    for row in rows:
        for field in str(row["CLEARED"]).split():
            fields[field] = fields.get(field, 0) + int(row["N"])
    return dict(sorted(fields.items()))


def rows_by_reason(session: WarehouseSession, sync: SyncConfig) -> list[tuple[str, int]]:
    """(reason, rows) of the diff, the most rows first."""
    rows = session.query(
        f"SELECT REASON, count(*) AS N FROM {SyncTables(sync.name).diff}"
        " GROUP BY REASON ORDER BY 2 DESC, 1"
    )
    return [(r["REASON"], r["N"]) for r in rows]


def rows_by_change(session: WarehouseSession, sync: SyncConfig) -> dict[str, int]:
    """Rows of the diff by kind (added, changed, removed)."""
    rows = session.query(
        f"SELECT CHANGE, count(*) AS N FROM {SyncTables(sync.name).diff} GROUP BY CHANGE"
    )
    return {str(r["CHANGE"]): int(r["N"]) for r in rows}


def first_rows(session: WarehouseSession, sync: SyncConfig, limit: int) -> list[dict[str, Any]]:
    """The diff's first rows, in the order they are sent."""
    return session.query(
        f"SELECT CHANGE, REASON, PK, EMAIL, USER_ID, CLEARED, PAYLOAD"
        f" FROM {SyncTables(sync.name).diff} ORDER BY SEQ LIMIT {int(limit)}"
    )


def on_leave_note(session: WarehouseSession, sync: SyncConfig) -> str | None:
    """What the run does to users who left the model, when it does anything (a users sync's
    ``on_leave: clear`` or ``delete``), for the preview: shown before anything is sent."""
    on_leave = getattr(sync, "on_leave", OnLeave.KEEP)
    if on_leave is OnLeave.KEEP:
        return None
    removed = rows_by_change(session, sync).get("removed", 0)
    if on_leave is OnLeave.DELETE:
        return f"**Users who left the model**: {removed:,}, each deleted (on_leave: delete)"
    fields = ", ".join(sorted(m.field for m in sync.mapping))
    return (
        f"**Users who left the model**: {removed:,}; their fields {fields} are sent as null "
        "(on_leave: clear; Iterable deletes them)"
    )
