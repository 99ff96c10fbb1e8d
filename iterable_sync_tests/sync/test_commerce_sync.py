"""Purchases and carts end to end: a row without its items or total never leaves."""

import pytest

from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {
    "ID": "VARCHAR",
    "EMAIL": "VARCHAR",
    "ITEMS": "VARIANT",
    "TOTAL": "DOUBLE",
    "COUPON": "VARCHAR",
}


def item(n: int, **extra: object) -> dict[str, object]:
    return {"id": f"plan-{n}", "sku": "premium", "name": "Premium", "price": 29.0,
            "quantity": n, **extra}  # fmt: skip


def row(n: int, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "ID": f"P{n}",
        "EMAIL": f"buyer.{n}@example.com",
        "ITEMS": [item(n)],
        "TOTAL": 29.0 * n,
        "COUPON": "WELCOME",
    }
    values.update(overrides)
    return values


def purchases(**keys: object) -> dict[str, object]:
    return {
        "items_column": "ITEMS",
        "total_column": "TOTAL",
        "identifiers": {"email": "EMAIL"},
        "mapping": [{"column": "COUPON", "field": "coupon"}],
        # This test's dirt is a third of its rows: above the default 1% tolerance.
        "tolerances": {"invalid_values": 0.5},
        **keys,
    }


def events_of(harness: TypedHarness, email: str) -> list[dict]:
    with harness.emulator.client() as client:
        return client.get(f"/api/events/{email}").json()["events"]


def test_a_purchase_without_a_total_is_quarantined_and_its_batch_mates_delivered(
    warehouse, shared_emulator
):
    harness = TypedHarness(
        warehouse=warehouse, emulator=shared_emulator, sync=make("purchases", **purchases())
    )
    harness.load([row(1), row(2, TOTAL=None), row(3), row(4, ITEMS=None)], COLUMNS)
    result = harness.run()
    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["sent"], meta["accepted"], meta["quarantined"]) == (2, 2, 2)
    assert harness.emulator.admin.state()["events"]["byName"] == {"purchase": 2}
    errors = {e["PK"]: e for e in harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")}
    assert (errors["P2"]["CODE"], errors["P2"]["FIELD"]) == ("missing total", "total")
    assert (errors["P4"]["CODE"], errors["P4"]["FIELD"]) == ("missing items", "items")
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert check["purchase_rows_complete"].metadata["failing_rows"].value == 2
    (purchase,) = events_of(harness, "buyer.3@example.com")
    assert purchase["dataFields"]["total"] == 87.0
    assert purchase["dataFields"]["shoppingCartItems"][0]["id"] == "plan-3"
    assert purchase["dataFields"]["coupon"] == "WELCOME"
    calls = harness.write_calls()
    assert {c["path"] for c in calls} == {"/api/commerce/trackPurchase"} and len(calls) == 2


def test_an_item_without_a_price_quarantines_its_row_only(warehouse, shared_emulator):
    harness = TypedHarness(
        warehouse=warehouse, emulator=shared_emulator, sync=make("purchases", **purchases())
    )
    no_price = {"id": "x", "name": "Thing", "quantity": 1}
    harness.load([row(1), row(2, ITEMS=[item(2), no_price]), row(3)], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["quarantined"]) == (2, 1)
    (error,) = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert error["PK"] == "P2" and "item 1 has no price" in error["MESSAGE"]


def test_a_cart_is_sent_when_its_row_first_appears_only(warehouse, shared_emulator):
    sync = make(
        "carts",
        items_column="ITEMS",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "COUPON", "field": "coupon"}],
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(1), row(2)], COLUMNS)
    assert harness.sync_run()["accepted"] == 2
    user = harness.user("buyer.2@example.com")
    assert user["dataFields"]["shoppingCartItems"][0]["quantity"] == 2
    assert user["dataFields"]["coupon"] == "WELCOME"
    # A changed cart row is not a new cart: nothing is sent for it.
    before = harness.last_seq()
    harness.load([row(1, ITEMS=[item(5)]), row(2), row(3)])
    meta = harness.sync_run()
    assert (meta["added"], meta["changed"], meta["sent"]) == (1, 0, 1)
    assert [c["path"] for c in harness.calls_since(before)] == ["/api/commerce/updateCart"]


@pytest.mark.parametrize("delete_removed", [True, False])
def test_catalog_items_upserted_invalid_ids_quarantined_removed_ones_deleted(
    warehouse, shared_emulator, delete_removed
):
    sync = make(
        "catalog",
        catalog="plans",
        delete_removed=delete_removed,
        mapping=[{"column": "COUPON", "field": "name"}, {"column": "TOTAL", "field": "price"}],
        tolerances={"invalid_values": 0.5},
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    rows = [row(1, ID="plan-free"), row(2, ID="plan premium"), row(3, ID="plan-ultimate")]
    harness.load(rows, COLUMNS)
    result = harness.run()
    meta = harness.sync_metadata(result, sync)
    assert (meta["accepted"], meta["quarantined"]) == (2, 1)
    (error,) = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert (error["PK"], error["FIELD"]) == ("plan premium", "itemId")
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert check["catalog_ids_valid"].metadata["failing_rows"].value == 1
    assert "identifiers_valid" not in check  # catalog items are not users
    assert harness.emulator.admin.state()["catalogs"] == [{"name": "plans", "items": 2}]
    with harness.emulator.client() as client:
        item_ = client.get("/api/catalogs/plans/items/plan-ultimate").json()
    assert item_["params"]["value"] == {"name": "WELCOME", "price": 87.0}

    harness.load([row(1, ID="plan-free")])
    meta = harness.sync_run()
    assert meta["removed"] == 1
    left = harness.emulator.admin.state()["catalogs"][0]["items"]
    assert left == (1 if delete_removed else 2)


@pytest.mark.parametrize("kind", ["purchases", "carts"])
def test_matched_by_user_id_in_an_email_project_creates_no_placeholder_user(
    warehouse, shared_emulator, kind
):
    """Purchases and carts have no mode, so their user (an ApiUserUpdateRequest) never
    carries preferUserId ("Whether or not a new user should be created if the request
    includes a userId that doesn't yet exist"): an unknown userId is an error, the row is
    not found, and no placeholder user is made."""
    shared_emulator.admin.seed_users([{"email": "buyer.0@example.com", "userId": "u0"}])
    keys: dict[str, object] = {"items_column": "ITEMS", "match": "userId",
                               "identifiers": {"userId": "USER_ID"}}  # fmt: skip
    if kind == "purchases":
        keys["total_column"] = "TOTAL"
    sync = make(kind, **keys)
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    columns = {**COLUMNS, "USER_ID": "VARCHAR"}
    harness.load([row(1, USER_ID="u0"), row(2, USER_ID="u9")], columns)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["not_found"]) == (1, 1)
    assert shared_emulator.admin.state()["users"] == 1
