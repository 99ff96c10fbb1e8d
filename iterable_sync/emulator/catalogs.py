"""Catalogs and their items.

Names: alphanumerics and dashes, case-insensitive, <= 255. Item ids: same characters,
case-sensitive, <= 255. Item reads come wrapped in the envelope's ``params`` with
``lastModified`` in epoch ms, as recorded from the live API (the Swagger spec shows them
unwrapped). Item field types are enforced only for fields declared through field
mappings (``catalogfields.py``); undeclared fields are stored unchecked (assumed).
"""

from __future__ import annotations

import json
import re
from typing import Any

from iterable_sync.emulator import catalogfields
from iterable_sync.emulator.project import Project, now_ms
from iterable_sync.emulator.responses import ApiError, bad_params, not_found
from iterable_sync.emulator.store import dumps

_NAME = re.compile(r"[A-Za-z0-9-]{1,255}")
MAX_ITEMS = 1000
MAX_ITEM_BYTES = 30 * 1024


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise bad_params(
            f"Invalid catalog name: {name[:300]}. Catalog names may contain only alphanumeric "
            "characters and dashes, at most 255 characters."
        )


def _check_item(item_id: str, value: dict[str, Any]) -> str:
    if not _NAME.fullmatch(item_id):
        raise bad_params(
            f"Invalid item id: {item_id[:300]}. Item ids may contain only alphanumeric "
            "characters and dashes, at most 255 characters."
        )
    dotted = [key for key in value if "." in key]
    if dotted:
        raise bad_params(f"Field names may not contain periods: {', '.join(dotted)}")
    text = dumps(value)
    if len(text.encode()) > MAX_ITEM_BYTES:
        raise bad_params(f"Item {item_id} is larger than 30 KB")
    return text


def _missing(name: str) -> str:
    return (
        f"You are trying to access catalog {name}, but it does not yet exist. Please see "
        "our API docs to explicitly create the catalog."
    )


def _catalog_id(project: Project, name: str, status: int = 404) -> int:
    found = project.store.conn.execute(
        "SELECT id FROM catalogs WHERE name_key=?", (name.lower(),)
    ).fetchone()
    if found is None:
        if status == 404:
            raise not_found(_missing(name))
        raise bad_params(f"Failed to upload into {name}. {_missing(name)}")
    return int(found[0])


def create_catalog(project: Project, name: str) -> dict[str, Any]:
    _check_name(name)
    with project.store.tx() as conn:
        exists = conn.execute("SELECT 1 FROM catalogs WHERE name_key=?", (name.lower(),))
        if exists.fetchone():
            raise bad_params(
                f"Unable to create a catalog with name: {name}. Make sure the catalog name "
                "is unique."
            )
        cursor = conn.execute(
            "INSERT INTO catalogs(name, name_key, created_ms) VALUES(?, ?, ?)",
            (name, name.lower(), now_ms()),
        )
    return {"id": cursor.lastrowid, "name": name, "url": f"/api/catalogs/{name}"}


def _page_args(page: int, page_size: int) -> tuple[int, int]:
    if not 1 <= page <= 1_000_000 or not 1 <= page_size <= 1000:
        raise bad_params("page must be >= 1 and pageSize between 1 and 1000")
    return page, page_size


def _page_urls(base: str, page: int, size: int, total: int, query: str = "") -> dict[str, str]:
    urls = {}
    if page * size < total:
        urls["nextPageUrl"] = f"{base}?pageSize={size}{query}&page={page + 1}"
    if page > 1:
        urls["previousPageUrl"] = f"{base}?pageSize={size}{query}&page={page - 1}"
    return urls


def list_catalogs(project: Project, page: int = 1, page_size: int = 10) -> dict[str, Any]:
    page, page_size = _page_args(page, page_size)
    with project.store.read() as conn:
        total = conn.execute("SELECT COUNT(*) FROM catalogs").fetchone()[0]
        rows = conn.execute(
            "SELECT name FROM catalogs ORDER BY name_key LIMIT ? OFFSET ?",
            (page_size, (page - 1) * page_size),
        ).fetchall()
    return {
        "catalogNames": [{"name": r[0]} for r in rows],
        "totalCatalogsCount": total,
        **_page_urls("/api/catalogs", page, page_size, total),
    }


def delete_catalog(project: Project, name: str) -> str:
    with project.store.tx() as conn:
        found = conn.execute("SELECT id FROM catalogs WHERE name_key=?", (name.lower(),))
        row = found.fetchone()
        if row is not None:
            conn.execute("DELETE FROM catalog_items WHERE catalog_id=?", (row[0],))
            conn.execute("DELETE FROM catalog_fields WHERE catalog_id=?", (row[0],))
            conn.execute("DELETE FROM catalogs WHERE id=?", (row[0],))
    return f"Successfully deleted catalog {name}"


def bulk_upsert(project: Project, name: str, body: dict[str, Any]) -> str:
    documents: dict[str, Any] = body["documents"]
    merge = bool(body["replaceUploadedFieldsOnly"])
    if len(documents) > MAX_ITEMS:
        raise ApiError(
            400,
            "BatchTooLarge",
            f"Batch of {len(documents)} items exceeds the maximum of {MAX_ITEMS}",
        )
    for item_id, value in documents.items():
        if not isinstance(value, dict):
            raise ApiError(
                400,
                "BadJsonBody",
                "Invalid JSON body",
                {f"obj.documents.{item_id}": "Object value expected"},
            )
        _check_item(item_id, value)
    with project.store.tx() as conn:
        catalog = _catalog_id(project, name)
        catalogfields.check_items(conn, catalog, documents)
        _write_items(conn, catalog, documents, merge)
    return f"Request to bulk-upload documents into {name} processed successfully"


def _write_items(conn: Any, catalog: int, documents: dict[str, Any], merge: bool) -> None:
    ids = list(documents)
    existing: dict[str, dict[str, Any]] = {}
    if merge and ids:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for item_id, value in conn.execute(
                f"SELECT item_id, value FROM catalog_items WHERE catalog_id=? "
                f"AND item_id IN ({marks})",
                [catalog, *chunk],
            ):
                existing[item_id] = json.loads(value)
    ts = now_ms()
    rows = [
        (catalog, item_id, dumps({**existing.get(item_id, {}), **value} if merge else value), ts)
        for item_id, value in documents.items()
    ]
    conn.executemany(
        "INSERT INTO catalog_items VALUES(?, ?, ?, ?) ON CONFLICT(catalog_id, item_id) "
        "DO UPDATE SET value=excluded.value, last_modified_ms=excluded.last_modified_ms",
        rows,
    )


def bulk_delete(project: Project, name: str, item_ids: list[str]) -> str:
    with project.store.tx() as conn:
        catalog = _catalog_id(project, name)
        conn.executemany(
            "DELETE FROM catalog_items WHERE catalog_id=? AND item_id=?",
            [(catalog, item_id) for item_id in item_ids],
        )
    return f"Successfully received request to delete {len(item_ids)} items from catalog {name}"


def put_item(
    project: Project, name: str, item_id: str, value: dict[str, Any], merge: bool
) -> dict[str, Any]:
    _check_item(item_id, value)
    with project.store.tx() as conn:
        # The recorded PATCH on a missing catalog answered 400 BadParams; PUT says 404.
        catalog = _catalog_id(project, name, 400 if merge else 404)
        catalogfields.check_items(conn, catalog, {item_id: value})
        _write_items(conn, catalog, {item_id: value}, merge)
    return {"catalogName": name, "itemId": item_id, "url": f"/api/catalogs/{name}/items/{item_id}"}


def _render(name: str, item_id: str, value: str, modified: int) -> dict[str, Any]:
    return {
        "catalogName": name,
        "itemId": item_id,
        "size": len(value.encode()),
        "lastModified": modified,
        "value": json.loads(value),
    }


def get_item(project: Project, name: str, item_id: str) -> dict[str, Any]:
    with project.store.read() as conn:
        catalog = _catalog_id(project, name)
        row = conn.execute(
            "SELECT value, last_modified_ms FROM catalog_items WHERE catalog_id=? AND item_id=?",
            (catalog, item_id),
        ).fetchone()
    if row is None:
        raise not_found(f"No catalog item found in catalog {name} with itemId {item_id}")
    return _render(name, item_id, row[0], row[1])


def delete_item(project: Project, name: str, item_id: str) -> str:
    with project.store.tx() as conn:
        conn.execute(
            "DELETE FROM catalog_items WHERE catalog_id=(SELECT id FROM catalogs WHERE "
            "name_key=?) AND item_id=?",
            (name.lower(), item_id),
        )
    return f"Received request to deleted item ID {item_id} from catalog {name}"


def list_items(
    project: Project,
    name: str,
    page: int = 1,
    page_size: int = 10,
    order_by: str = "itemId",
    ascending: bool = False,
) -> dict[str, Any]:
    page, page_size = _page_args(page, page_size)
    column = "last_modified_ms" if order_by == "lastModified" else "item_id"
    direction = "ASC" if ascending else "DESC"
    with project.store.read() as conn:
        catalog = _catalog_id(project, name)
        total = conn.execute(
            "SELECT COUNT(*) FROM catalog_items WHERE catalog_id=?", (catalog,)
        ).fetchone()[0]
        rows = conn.execute(
            f"SELECT item_id, value, last_modified_ms FROM catalog_items WHERE catalog_id=? "
            f"ORDER BY {column} {direction} LIMIT ? OFFSET ?",
            (catalog, page_size, (page - 1) * page_size),
        ).fetchall()
    query = f"&sortAscending={'true' if ascending else 'false'}"
    return {
        "catalogItemsWithProperties": [_render(name, i, v, m) for i, v, m in rows],
        "totalItemsCount": total,
        **_page_urls(f"/api/catalogs/{name}/items", page, page_size, total, query),
    }


def set_field_mappings(project: Project, name: str, body: dict[str, Any]) -> None:
    with project.store.tx() as conn:
        catalog = _catalog_id(project, name)
        catalogfields.set_mappings(conn, catalog, body["mappingsUpdates"])


def get_field_mappings(project: Project, name: str) -> dict[str, Any]:
    with project.store.read() as conn:
        return catalogfields.get_mappings(conn, _catalog_id(project, name))
