"""A catalog sync's ``field_types``, declared in Iterable before its items are uploaded.

Spec, ``PUT /api/catalogs/{catalogName}/fieldMappings`` ("Set a catalog's field mappings
(data types)"): body ``CatalogMappingsUpdateRequest {mappingsUpdates: [{fieldName,
fieldType, children?}]}``; "After being set, a given field's data type may not be changed.
Valid types: boolean, date, geo_location, long, double, object, and string." ``GET`` on the
same path answers ``CatalogFieldMappingsResponse {definedMappings: {field: type},
undefinedFields: [field]}``.

The types last applied are kept in ``SYNC_OBJECTS`` (kind ``catalog_field_types``): while
the config's types are those, a run makes no call. When they differ (the first run, a field
added), the catalog's declared types are read first and only the fields it has not typed
yet are sent; a field it already types otherwise stops the run with an error naming the
sync, the field and both types, since Iterable would refuse the change. A field taken out
of ``field_types`` keeps its type in Iterable (there is no call to untype it).
"""

import json

from iterable_sync.iterable import IterableClient
from iterable_sync.sync import objects
from iterable_sync.sync.config import CatalogSync
from iterable_sync.warehouse import WarehouseSession

KIND = "catalog_field_types"


class FieldTypeConflictError(ValueError):
    """The catalog already declares a configured field with another type."""


def ensure_field_types(
    session: WarehouseSession, client: IterableClient, sync: CatalogSync
) -> dict[str, str]:
    """Declare the sync's field types in its catalog if they changed since last applied;
    returns the types sent now (empty when nothing was sent)."""
    if not sync.field_types:
        return {}
    wanted = {field: kind.value for field, kind in sorted(sync.field_types.items())}
    applied = json.dumps(wanted, sort_keys=True, separators=(",", ":"))
    if objects.recorded(session, sync.name, KIND, sync.catalog) == applied:
        return {}
    defined = client.catalogs.get_field_mappings(sync.catalog).defined_mappings
    clashes = [
        f"{field}: configured {kind}, the catalog has {defined[field]}"
        for field, kind in wanted.items()
        if field in defined and defined[field] != kind
    ]
    if clashes:
        raise FieldTypeConflictError(
            f"sync {sync.name!r}: field_types: the catalog {sync.catalog!r} already types "
            + "; ".join(clashes)
            + ". Iterable does not change a field's type once set (PUT fieldMappings: "
            '"After being set, a given field\'s data type may not be changed"): set the type '
            "back in syncs.yaml, or map the column to a new field name."
        )
    missing = {field: kind for field, kind in wanted.items() if field not in defined}
    if missing:
        client.catalogs.set_field_mappings(sync.catalog, missing)
    objects.record(session, sync.name, KIND, sync.catalog, applied)
    return missing
