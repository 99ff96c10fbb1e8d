"""Events, purchases and carts."""

from __future__ import annotations

import httpx

ITEM = {"id": "sku-1", "name": "Mug", "price": 9.5, "quantity": 2}


def events_of(api: httpx.Client, email: str) -> list[dict]:
    response = api.get(f"/api/events/{email}")
    assert response.status_code == 200
    return response.json()["events"]


def test_track_answers_with_the_event_id(api: httpx.Client) -> None:
    response = api.post("/api/events/track",
                        json={"email": "a@x.com", "eventName": "opened", "id": "evt-1"})
    assert response.json() == {"msg": "Event with id: evt-1 tracked.", "code": "Success",
                               "params": {"id": "evt-1"}}


def test_track_without_id_generates_one(api: httpx.Client) -> None:
    response = api.post("/api/events/track", json={"email": "a@x.com", "eventName": "opened"})
    event_id = response.json()["params"]["id"]
    assert [e["_id"] for e in events_of(api, "a@x.com")] == [event_id]


def test_tracking_an_existing_id_replaces_the_event(api: httpx.Client) -> None:
    for value in (1, 2):
        api.post("/api/events/track", json={"email": "a@x.com", "eventName": "e", "id": "same",
                                            "dataFields": {"v": value}})
    events = events_of(api, "a@x.com")
    assert [(e["_id"], e["dataFields"]["v"]) for e in events] == [("same", 2)]


def test_created_at_accepts_seconds_and_milliseconds(api: httpx.Client) -> None:
    api.post("/api/events/track", json={"email": "a@x.com", "eventName": "s", "id": "s",
                                        "createdAt": 1_700_000_000})
    api.post("/api/events/track", json={"email": "a@x.com", "eventName": "m", "id": "m",
                                        "createdAt": 1_700_000_000_000})
    dates = {e["_id"]: e["createdAt"] for e in events_of(api, "a@x.com")}
    assert dates == {"s": "2023-11-14 22:13:20 +00:00", "m": "2023-11-14 22:13:20 +00:00"}


def test_event_id_over_512_bytes_is_rejected(api: httpx.Client) -> None:
    response = api.post("/api/events/track",
                        json={"email": "a@x.com", "eventName": "e", "id": "é" * 257})
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_track_without_event_name_is_bad_json_body(api: httpx.Client) -> None:
    response = api.post("/api/events/track", json={"email": "a@x.com"})
    assert response.json()["params"] == {"obj.eventName": "Missing required field"}


def test_track_bulk_reports_per_event_failures(api: httpx.Client) -> None:
    events = [{"email": "a@x.com", "eventName": "e"}, {"email": "sayan", "eventName": "e"},
              {"userId": "ghost", "eventName": "e"}]
    answer = api.post("/api/events/trackBulk", json={"events": events}).json()
    assert (answer["successCount"], answer["failCount"]) == (1, 2)
    assert answer["failedUpdates"]["invalidEmails"] == ["sayan"]
    assert answer["failedUpdates"]["notFoundUserIds"] == ["ghost"]
    assert answer["disallowedEventNames"] == []


def test_track_bulk_with_wrong_type_rejects_everything(api: httpx.Client) -> None:
    events = [{"email": "a@x.com", "eventName": "e"},
              {"email": "b@x.com", "eventName": "e", "createdAt": "abc"}]
    response = api.post("/api/events/trackBulk", json={"events": events})
    assert response.status_code == 400
    assert response.json()["params"] == {"obj.events[1].createdAt": "Number value expected"}
    assert api.get("/_emulator/state").json()["events"]["total"] == 0


def test_track_bulk_empty_is_fine(api: httpx.Client) -> None:
    answer = api.post("/api/events/trackBulk", json={"events": []}).json()
    assert (answer["successCount"], answer["failCount"]) == (0, 0)


def test_update_cart_sets_items_and_records_an_event(api: httpx.Client) -> None:
    response = api.post("/api/commerce/updateCart",
                        json={"user": {"email": "a@x.com"}, "items": [ITEM]})
    assert response.status_code == 200
    fields = api.get("/api/users/a@x.com").json()["user"]["dataFields"]
    assert fields["shoppingCartItems"] == [ITEM]
    assert [e["eventName"] for e in events_of(api, "a@x.com")] == ["updateCart"]


def test_purchase_empties_the_cart_and_creates_the_user(api: httpx.Client) -> None:
    api.post("/api/commerce/updateCart", json={"user": {"email": "a@x.com"}, "items": [ITEM]})
    response = api.post("/api/commerce/trackPurchase", json={
        "id": "order-1", "user": {"email": "a@x.com"}, "items": [ITEM], "total": 19.0})
    assert response.json()["params"] == {"id": "order-1"}
    assert api.get("/api/users/a@x.com").json()["user"]["dataFields"]["shoppingCartItems"] == []
    purchase = next(e for e in events_of(api, "a@x.com") if e["eventName"] == "purchase")
    assert purchase["dataFields"]["total"] == 19.0


def test_purchase_requires_items_and_total(api: httpx.Client) -> None:
    response = api.post("/api/commerce/trackPurchase", json={"user": {"email": "a@x.com"}})
    assert set(response.json()["params"]) == {"obj.items", "obj.total"}


def test_cart_without_identifier_is_bad_params(api: httpx.Client) -> None:
    response = api.post("/api/commerce/updateCart", json={"items": [], "user": {}})
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_events_by_user_id_are_readable(api: httpx.Client) -> None:
    api.post("/api/events/track", json={"email": "a@x.com", "userId": "u1", "eventName": "e"})
    events = api.get("/api/events/byUserId/u1").json()["events"]
    assert [(e["eventName"], e["userId"]) for e in events] == [("e", "u1")]
