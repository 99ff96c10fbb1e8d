"""Catalog field mappings: declared types, read back, and honoured by item uploads.

Sources (emulator README, rows 84-86): Iterable's spec on `PUT
/api/catalogs/{catalogName}/fieldMappings`: "After being set, a given field's data type may
not be changed. Valid types: boolean, date, geo_location, long, double, object, and
string." (`test_a_declared_type_may_not_change`, `test_an_unlisted_type_is_refused`); spec
`CatalogFieldMappingsResponse` for the read (`definedMappings`, `undefinedFields`); support
article "Field Data Types" (208183076): "When Iterable receives data that doesn't match the
field's data type, it rejects the data" (`test_a_value_of_another_type_is_refused`). The
shape of the refusals and the 404 of a missing catalog are assumed (README says so).
"""

from __future__ import annotations

import httpx

from .test_catalogs import item, make_catalog

MAPPINGS = "/api/catalogs/products/fieldMappings"


def declare(api: httpx.Client, *mappings: dict) -> httpx.Response:
    return api.put(MAPPINGS, json={"mappingsUpdates": list(mappings)})


def upload(api: httpx.Client, documents: dict) -> httpx.Response:
    return api.post(
        "/api/catalogs/products/items",
        json={"documents": documents, "replaceUploadedFieldsOnly": False},
    )


def test_declared_mappings_are_read_back_with_the_undefined_fields(api: httpx.Client) -> None:
    make_catalog(api)
    answer = declare(
        api,
        {"fieldName": "price", "fieldType": "double"},
        {
            "fieldName": "dims",
            "fieldType": "object",
            "children": [{"fieldName": "width", "fieldType": "long"}],
        },
    )
    assert answer.json() == {"msg": "", "code": "Success", "params": None}  # recorded
    upload(api, {"a": {"price": 2.5, "name": "mug"}})
    params = api.get(MAPPINGS).json()["params"]  # wrapped, as recorded
    assert params == {
        "definedMappings": {"dims": "object", "dims.width": "long", "price": "double"},
        "undefinedFields": ["name"],
    }


def test_a_value_of_another_type_is_refused(api: httpx.Client) -> None:
    make_catalog(api)
    declare(api, {"fieldName": "price", "fieldType": "double"})
    response = upload(api, {"a": {"price": "cheap"}})
    assert (response.status_code, response.json()["code"]) == (400, "RequestFieldsTypesMismatched")
    errors = response.json()["params"]["validationErrors"]
    assert errors["price"]["expectedType"] == "double"
    assert item(api, "a").status_code == 404  # nothing written


def test_the_first_row_does_not_fix_a_declared_type(api: httpx.Client) -> None:
    make_catalog(api)
    declare(api, {"fieldName": "launched", "fieldType": "string"})
    # A date string fits a string field; a long then still does not.
    assert upload(api, {"a": {"launched": "2024-01-02"}}).status_code == 202
    response = api.put("/api/catalogs/products/items/b", json={"value": {"launched": 7}})
    assert response.json()["code"] == "RequestFieldsTypesMismatched"


def test_a_declared_type_may_not_change(api: httpx.Client) -> None:
    make_catalog(api)
    declare(api, {"fieldName": "price", "fieldType": "double"})
    response = declare(api, {"fieldName": "price", "fieldType": "string"})
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")
    assert api.get(MAPPINGS).json()["params"]["definedMappings"] == {"price": "double"}


def test_an_unlisted_type_is_refused(api: httpx.Client) -> None:
    make_catalog(api)
    response = declare(api, {"fieldName": "price", "fieldType": "float"})
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_mappings_of_a_missing_catalog_are_not_found(api: httpx.Client) -> None:
    assert api.get("/api/catalogs/nothing/fieldMappings").status_code == 404
