"""`client.catalogs`: catalogs and their items (limits here are per API key)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from ._base import MAX_BATCH, Area, check_batch, envelope, parse_model, unwrap_params
from ._encoding import dumps
from ._exceptions import BatchLimitError
from .models import CatalogFieldMappings, CatalogInfo, CatalogItem, IterableEnvelope

__all__ = ["CATALOG_FIELD_TYPES", "CatalogsAPI"]

#: Spec, PUT fieldMappings: "Valid types: boolean, date, geo_location, long, double, object,
#: and string."
CATALOG_FIELD_TYPES = frozenset(
    {"boolean", "date", "geo_location", "long", "double", "object", "string"}
)

#: Documented cap on one item's JSON ("each value ≤ 30kb"); decimal, the strict reading.
MAX_ITEM_BYTES = 30_000
_PAGE_SIZE = 100
# Paging stops after this many pages even if Iterable keeps offering a next page.
_MAX_PAGES = 1000


class CatalogsAPI(Area):
    """Catalog endpoints (`/api/catalogs/...`). Names: alphanumerics and dashes, case
    insensitive; item ids: the same characters, case sensitive."""

    def create(self, name: str) -> CatalogInfo:
        """Create a catalog; a name already taken → `BadRequestError` (BadParams).
        `POST /api/catalogs/{catalogName}`."""
        reply = self._t.call("POST", "/api/catalogs/{catalogName}", path={"catalogName": name})
        params = envelope(reply).params
        return parse_model(CatalogInfo, params, reply) if params else CatalogInfo(name=name)

    def delete(self, name: str) -> IterableEnvelope:
        """Delete a catalog (and collections using it). `DELETE /api/catalogs/{catalogName}`."""
        reply = self._t.call("DELETE", "/api/catalogs/{catalogName}", path={"catalogName": name})
        return envelope(reply)

    def bulk_upsert_items(
        self,
        name: str,
        items: Mapping[str, Mapping[str, Any]],
        *,
        replace_uploaded_fields_only: bool,
    ) -> IterableEnvelope:
        """Create or update up to 1,000 items, each ≤ 30 KB; processed asynchronously.
        `POST /api/catalogs/{catalogName}/items` (100 req/s per key).

        `replace_uploaded_fields_only=True` merges the sent fields into existing items;
        False replaces each item whole. There is no default: the difference loses data.
        """
        endpoint = "POST /api/catalogs/{catalogName}/items"
        check_batch(len(items), endpoint)
        if not items:
            return IterableEnvelope()
        for item_id, value in items.items():
            size = len(dumps(value))
            if size > MAX_ITEM_BYTES:
                raise BatchLimitError(f"bytes in item {item_id!r}", size, MAX_ITEM_BYTES, endpoint)
        body = {
            "documents": {str(k): dict(v) for k, v in items.items()},
            "replaceUploadedFieldsOnly": replace_uploaded_fields_only,
        }
        reply = self._t.call(
            "POST",
            "/api/catalogs/{catalogName}/items",
            path={"catalogName": name},
            body=body,
            batch_size=len(items),
        )
        return envelope(reply)

    def bulk_delete_items(self, name: str, item_ids: Iterable[str]) -> IterableEnvelope:
        """Delete items by id, asynchronously. `DELETE /api/catalogs/{catalogName}/items`."""
        ids = list(item_ids)
        check_batch(len(ids), "DELETE /api/catalogs/{catalogName}/items", limit=MAX_BATCH)
        if not ids:
            return IterableEnvelope()
        reply = self._t.call(
            "DELETE",
            "/api/catalogs/{catalogName}/items",
            path={"catalogName": name},
            body={"itemIds": ids},
            batch_size=len(ids),
        )
        return envelope(reply)

    def set_field_mappings(
        self, name: str, mappings: Mapping[str, str | Mapping[str, Any]]
    ) -> IterableEnvelope:
        """Declare field types before the first upload.
        `PUT /api/catalogs/{catalogName}/fieldMappings` with
        `{"mappingsUpdates": [{"fieldName", "fieldType", "children"?}]}`.

        `mappings`: field → type, or field → `{child: type}` for an `object` field (sent as
        its `children`). Spec: "After being set, a given field's data type may not be
        changed. Valid types: boolean, date, geo_location, long, double, object, and string."
        """
        body = {"mappingsUpdates": [_mapping(field, kind) for field, kind in mappings.items()]}
        reply = self._t.call(
            "PUT",
            "/api/catalogs/{catalogName}/fieldMappings",
            path={"catalogName": name},
            body=body,
        )
        return envelope(reply)

    def get_field_mappings(self, name: str) -> CatalogFieldMappings:
        """The declared types (`definedMappings`) and the fields without one
        (`undefinedFields`). `GET /api/catalogs/{catalogName}/fieldMappings`; the answer is
        wrapped in `params` on the live API (recorded), bare in the spec: both are read."""
        reply = self._t.call(
            "GET", "/api/catalogs/{catalogName}/fieldMappings", path={"catalogName": name}
        )
        return parse_model(CatalogFieldMappings, unwrap_params(reply.json_object()), reply)

    def get_item(self, name: str, item_id: str) -> CatalogItem:
        """One item; a missing item or catalog → `NotFoundError`.
        `GET /api/catalogs/{catalogName}/items/{itemId}`."""
        reply = self._t.call(
            "GET",
            "/api/catalogs/{catalogName}/items/{itemId}",
            path={"catalogName": name, "itemId": item_id},
        )
        return parse_model(CatalogItem, unwrap_params(reply.json_object()), reply)

    # The API calls this operation "list"; defined last so that, for type checkers,
    # `list` in the annotations above still means the builtin.
    def list(self) -> builtins.list[str]:
        """Every catalog's name, all pages. `GET /api/catalogs` (100 req/s per key)."""
        names: builtins.list[str] = []
        for page in range(1, _MAX_PAGES + 1):
            reply = self._t.call(
                "GET", "/api/catalogs", query={"page": page, "pageSize": _PAGE_SIZE}
            )
            body = unwrap_params(reply.json_object())
            batch = [c["name"] for c in body.get("catalogNames", []) if isinstance(c, dict)]
            names.extend(batch)
            total = body.get("totalCatalogsCount")
            if (
                not batch
                or not body.get("nextPageUrl")
                or (isinstance(total, int) and len(names) >= total)
            ):
                break
        return names


def _mapping(field: str, kind: str | Mapping[str, Any]) -> dict[str, Any]:
    """One `CatalogFieldDefinitionSerializedModel` (`fieldName`, `fieldType`, `children`)."""
    if isinstance(kind, Mapping):
        children = [_mapping(child, sub) for child, sub in kind.items()]
        return {"fieldName": field, "fieldType": "object", "children": children}
    if kind not in CATALOG_FIELD_TYPES:
        raise ValueError(
            f"catalog field {field!r}: type {kind!r} is not one of {sorted(CATALOG_FIELD_TYPES)}"
        )
    return {"fieldName": field, "fieldType": kind}
