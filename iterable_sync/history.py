"""`python -m iterable_sync history <sync> <primary key>`: what happened to one record."""

from iterable_sync.metadata import markdown_table
from iterable_sync.resources import build_warehouse
from iterable_sync.sync.plan.tables import HISTORY_TABLE


def record_history(sync: str, primary_key: str) -> list[dict[str, object]]:
    with build_warehouse().session() as session:
        schema, table = HISTORY_TABLE.split(".")
        if not session.table_exists(schema, table):
            return []
        return session.query(
            f"SELECT RECORDED_AT, RUN_ID, CHANGE, OPERATION, OUTCOME, ERROR FROM {HISTORY_TABLE}"
            " WHERE SYNC = ? AND PK = ? ORDER BY RECORDED_AT, RUN_ID",
            [sync, primary_key],
        )


def print_history(sync: str, primary_key: str) -> int:
    rows = record_history(sync, primary_key)
    if not rows:
        print(f"No history for {primary_key!r} in sync {sync!r}: never changed, or never synced.")
        return 1
    print(f"{sync} / {primary_key}: {len(rows)} event(s), oldest first\n")
    print(markdown_table(rows))
    return 0
