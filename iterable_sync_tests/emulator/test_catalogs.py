"""Catalogs and catalog items."""

from __future__ import annotations

import httpx


def make_catalog(api: httpx.Client, name: str = "products") -> None:
    assert api.post(f"/api/catalogs/{name}").status_code == 201


def item(api: httpx.Client, item_id: str, name: str = "products") -> httpx.Response:
    return api.get(f"/api/catalogs/{name}/items/{item_id}")


def test_create_answers_201_with_id_name_url(api: httpx.Client) -> None:
    response = api.post("/api/catalogs/products")
    assert response.status_code == 201
    params = response.json()["params"]
    assert (params["name"], params["url"]) == ("products", "/api/catalogs/products")
    assert isinstance(params["id"], int)


def test_duplicate_name_is_bad_params_case_insensitively(api: httpx.Client) -> None:
    make_catalog(api)
    response = api.post("/api/catalogs/PRODUCTS")
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_list_catalogs(api: httpx.Client) -> None:
    make_catalog(api, "a-cat")
    make_catalog(api, "b-cat")
    params = api.get("/api/catalogs").json()["params"]
    assert params["catalogNames"] == [{"name": "a-cat"}, {"name": "b-cat"}]
    assert params["totalCatalogsCount"] == 2


def test_bulk_upsert_is_202_and_items_read_back(api: httpx.Client) -> None:
    make_catalog(api)
    response = api.post(
        "/api/catalogs/products/items",
        json={
            "documents": {"p-1": {"name": "Mug", "price": 9}},
            "replaceUploadedFieldsOnly": False,
        },
    )
    assert response.status_code == 202
    params = item(api, "p-1").json()["params"]
    assert params["value"] == {"name": "Mug", "price": 9}
    assert isinstance(params["lastModified"], int)


def test_replace_uploaded_fields_only_merges_else_replaces(api: httpx.Client) -> None:
    make_catalog(api)
    url = "/api/catalogs/products/items"
    api.post(
        url,
        json={
            "documents": {
                "a": {"lime": "juice", "lemon": "slice"},
                "b": {"lime": "juice", "lemon": "slice"},
            },
            "replaceUploadedFieldsOnly": False,
        },
    )
    api.post(
        url,
        json={
            "documents": {"a": {"orange": "julius", "lemon": "wedge"}},
            "replaceUploadedFieldsOnly": True,
        },
    )
    api.post(
        url,
        json={
            "documents": {"b": {"orange": "julius", "lemon": "wedge"}},
            "replaceUploadedFieldsOnly": False,
        },
    )
    assert item(api, "a").json()["params"]["value"] == {
        "lime": "juice",
        "lemon": "wedge",
        "orange": "julius",
    }
    assert item(api, "b").json()["params"]["value"] == {"orange": "julius", "lemon": "wedge"}


def test_item_ids_are_case_sensitive(api: httpx.Client) -> None:
    make_catalog(api)
    api.put("/api/catalogs/products/items/Abc", json={"value": {"n": 1}})
    assert item(api, "Abc").status_code == 200
    assert item(api, "abc").status_code == 404


def test_invalid_item_id_is_400(api: httpx.Client) -> None:
    make_catalog(api)
    for bad in ("has_underscore", "x" * 256):
        response = api.post(
            "/api/catalogs/products/items",
            json={"documents": {bad: {}}, "replaceUploadedFieldsOnly": False},
        )
        assert response.status_code == 400, bad


def test_item_over_30_kb_is_400(api: httpx.Client) -> None:
    make_catalog(api)
    response = api.put("/api/catalogs/products/items/big", json={"value": {"b": "x" * 31_000}})
    assert response.status_code == 400


def test_over_1000_items_is_rejected(api: httpx.Client) -> None:
    make_catalog(api)
    documents = {f"i{n}": {} for n in range(1001)}
    response = api.post(
        "/api/catalogs/products/items",
        json={"documents": documents, "replaceUploadedFieldsOnly": False},
    )
    assert (response.status_code, response.json()["code"]) == (400, "BatchTooLarge")


def test_missing_catalog_is_404_not_found(api: httpx.Client) -> None:
    response = api.post(
        "/api/catalogs/nope/items",
        json={"documents": {"a": {}}, "replaceUploadedFieldsOnly": False},
    )
    assert (response.status_code, response.json()["code"]) == (404, "NotFound")


def test_bulk_delete_removes_items(api: httpx.Client) -> None:
    make_catalog(api)
    api.post(
        "/api/catalogs/products/items",
        json={"documents": {"a": {}, "b": {}}, "replaceUploadedFieldsOnly": False},
    )
    response = api.request("DELETE", "/api/catalogs/products/items", json={"itemIds": ["a"]})
    assert response.status_code == 202
    assert (item(api, "a").status_code, item(api, "b").status_code) == (404, 200)


def test_patch_merges_and_delete_removes_one_item(api: httpx.Client) -> None:
    make_catalog(api)
    api.put("/api/catalogs/products/items/a", json={"value": {"x": 1}})
    patched = api.patch("/api/catalogs/products/items/a", json={"update": {"y": 2}})
    assert patched.json()["params"]["url"] == "/api/catalogs/products/items/a"
    assert item(api, "a").json()["params"]["value"] == {"x": 1, "y": 2}
    assert api.delete("/api/catalogs/products/items/a").status_code == 202
    assert item(api, "a").status_code == 404


def test_items_list_pages(api: httpx.Client) -> None:
    make_catalog(api)
    api.post(
        "/api/catalogs/products/items",
        json={
            "documents": {f"i{n:02d}": {"n": n} for n in range(25)},
            "replaceUploadedFieldsOnly": False,
        },
    )
    # sortAscending "Defaults to false" (spec): ask for ascending.
    query = {"page": 2, "pageSize": 10, "sortAscending": "true"}
    params = api.get("/api/catalogs/products/items", params=query).json()
    page = params["params"]
    assert page["totalItemsCount"] == 25
    assert [i["itemId"] for i in page["catalogItemsWithProperties"]][:2] == ["i10", "i11"]
    assert page["nextPageUrl"].endswith("page=3")
    assert page["previousPageUrl"].endswith("page=1")
