"""Iterable objects a sync creates for itself — a static list, a catalog — remembered in
the warehouse (``ITERABLE_SYNC.SYNC_OBJECTS``), so they are created once, on the first run,
and every later run finds them without a call."""

from datetime import UTC, datetime

import pyarrow as pa

from iterable_sync.iterable import BadRequestError, IterableClient
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import CatalogSync, ListSync
from iterable_sync.warehouse import WarehouseSession

OBJECTS_TABLE = f"{SYNC_SCHEMA}.SYNC_OBJECTS"
OBJECTS_DDL = f"""CREATE TABLE IF NOT EXISTS {OBJECTS_TABLE} (
  SYNC VARCHAR, KIND VARCHAR, NAME VARCHAR, OBJECT_ID VARCHAR, CREATED_AT TIMESTAMP_NTZ
)"""


def recorded(session: WarehouseSession, sync: str, kind: str, name: str) -> str | None:
    session.execute(OBJECTS_DDL)
    rows = session.query(
        f"SELECT OBJECT_ID FROM {OBJECTS_TABLE} WHERE SYNC = ? AND KIND = ? AND NAME = ?"
        " ORDER BY CREATED_AT DESC LIMIT 1",
        [sync, kind, name],
    )
    return str(rows[0]["OBJECT_ID"]) if rows else None


def record(session: WarehouseSession, sync: str, kind: str, name: str, object_id: str) -> None:
    session.execute(OBJECTS_DDL)
    session.append(
        OBJECTS_TABLE,
        pa.table(
            {
                "SYNC": [sync],
                "KIND": [kind],
                "NAME": [name],
                "OBJECT_ID": [object_id],
                "CREATED_AT": [datetime.now(UTC).replace(tzinfo=None)],
            }
        ),
    )


def ensure_list(session: WarehouseSession, client: IterableClient, sync: ListSync) -> int:
    """The list's id: ``list_id`` as configured, or the list this sync created (named
    ``list_name``, default the model's name), created now if it has none yet."""
    if sync.list_id is not None:
        return sync.list_id
    name = sync.list_name or sync.model
    known = recorded(session, sync.name, "list", name)
    if known is not None:
        return int(known)
    list_id = client.lists.create(
        name, description=f"Kept up to date by iterable_sync from the model {sync.model}."
    )
    record(session, sync.name, "list", name, str(list_id))
    return list_id


def ensure_catalog(session: WarehouseSession, client: IterableClient, sync: CatalogSync) -> None:
    """Create the catalog once; one that already exists (Iterable answers 400) is adopted."""
    if recorded(session, sync.name, "catalog", sync.catalog) is not None:
        return
    try:
        client.catalogs.create(sync.catalog)
    except BadRequestError as exc:
        # "Make sure the catalog name is unique": it exists, which is all we need. Any
        # other 400 (an invalid name) is the sync's configuration: let it fail the run.
        if "unique" not in exc.msg.lower() and "exist" not in exc.msg.lower():
            raise
    record(session, sync.name, "catalog", sync.catalog, sync.catalog)
