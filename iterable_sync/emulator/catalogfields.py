"""Catalog field mappings: declared field types, and items checked against them.

Spec, ``PUT /api/catalogs/{catalogName}/fieldMappings``: "Set a catalog's field mappings
(data types). After being set, a given field's data type may not be changed. Valid types:
boolean, date, geo_location, long, double, object, and string." Body
``CatalogMappingsUpdateRequest {mappingsUpdates: [{fieldName, fieldType, children?}]}``.
``GET`` answers ``CatalogFieldMappingsResponse {definedMappings: {field: type},
undefinedFields: [field]}``, wrapped in ``params`` (recorded, research §21).

Assumed: nested fields (``children`` of an ``object``) are kept as dotted paths; a type
change is refused with 400 ``BadParams``; an item value that does not fit its declared type
refuses the whole upload with 400 ``RequestFieldsTypesMismatched`` (as user fields do,
research §18; support article 208183076: "When Iterable receives data that doesn't match
the field's data type, it rejects the data"); fields without a mapping are stored
unchecked and listed in ``undefinedFields``; the same compatibility rules as user fields
(a long fits a double, any date string fits a string, arrays by element type).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from iterable_sync.emulator.fields import _compatible, _is_geo, incoming_types, scalar_type
from iterable_sync.emulator.responses import ApiError, bad_params

VALID_TYPES = frozenset({"boolean", "date", "geo_location", "long", "double", "object", "string"})


def flatten(updates: list[dict[str, Any]], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, type) of each mapping and its children; refuses invalid ones."""
    for update in updates:
        if not isinstance(update, dict):
            raise bad_params("mappingsUpdates: each mapping must be an object")
        name, kind = update.get("fieldName"), update.get("fieldType")
        if not isinstance(name, str) or not name or "." in name:
            raise bad_params(f"Invalid field name: {name!r} (no periods in field names)")
        if kind not in VALID_TYPES:
            raise bad_params(
                f"Invalid type {kind!r} for field {prefix + name}. Valid types: "
                + ", ".join(sorted(VALID_TYPES))
            )
        yield prefix + name, kind
        children = update.get("children")
        if children:
            if kind != "object" or not isinstance(children, list):
                raise bad_params(f"Only an object field may have children: {prefix + name}")
            yield from flatten(children, f"{prefix}{name}.")


def set_mappings(conn: Any, catalog: int, updates: list[dict[str, Any]]) -> None:
    declared = dict(
        conn.execute("SELECT path, type FROM catalog_fields WHERE catalog_id=?", (catalog,))
    )
    new: dict[str, str] = {}
    for path, kind in flatten(updates):
        if declared.get(path, kind) != kind:
            raise bad_params(
                f"Field {path} already has type {declared[path]}; a field's data type may "
                "not be changed once set"
            )
        new[path] = kind
    conn.executemany(
        "INSERT OR IGNORE INTO catalog_fields VALUES(?, ?, ?)",
        [(catalog, path, kind) for path, kind in new.items()],
    )


def _paths(value: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, member in value.items():
        yield prefix + key
        if isinstance(member, dict) and not _is_geo(member):
            yield from _paths(member, f"{prefix}{key}.")


def get_mappings(conn: Any, catalog: int) -> dict[str, Any]:
    declared = dict(
        conn.execute(
            "SELECT path, type FROM catalog_fields WHERE catalog_id=? ORDER BY path", (catalog,)
        )
    )
    seen: set[str] = set()
    for (text,) in conn.execute("SELECT value FROM catalog_items WHERE catalog_id=?", (catalog,)):
        seen.update(_paths(json.loads(text)))
    return {"definedMappings": declared, "undefinedFields": sorted(seen - set(declared))}


def _fits(expected: str, value: Any) -> str | None:
    """None if ``value`` fits ``expected``, else the incoming type."""
    if isinstance(value, list):
        for element in value:
            wrong = _fits(expected, element)
            if wrong is not None:
                return wrong
        return None
    if isinstance(value, dict):
        incoming = "geo_location" if _is_geo(value) else "object"
    else:
        incoming = scalar_type(value)
    return None if _compatible(expected, incoming, value) else incoming


def _at(value: dict[str, Any], path: str) -> Any:
    current: Any = value
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def check_items(conn: Any, catalog: int, documents: dict[str, dict[str, Any]]) -> None:
    """Refuse the whole request if any value does not fit its declared type."""
    declared = dict(
        conn.execute("SELECT path, type FROM catalog_fields WHERE catalog_id=?", (catalog,))
    )
    if not declared:
        return
    errors: dict[str, Any] = {}
    for value in documents.values():
        for path, expected in declared.items():
            member = _at(value, path)
            if member is None or path in errors:
                continue
            incoming = _fits(expected, member)
            if incoming is not None:
                errors[path] = {
                    "incomingTypes": incoming_types(incoming),
                    "expectedType": expected,
                    "category": "catalog",
                    "offendingValue": member,
                    "_type": "UnexpectedType",
                }
    if errors:
        names = ", ".join(f"'{p}' ({e['expectedType']})" for p, e in errors.items())
        raise ApiError(
            400,
            "RequestFieldsTypesMismatched",
            f"The request does not have the data types declared in the catalog's field "
            f"mappings: {names}.",
            {"validationErrors": errors},
        )
