"""Every typed method sends the documented request and reads the documented response.

One table drives two tests: the request (method, path, query, body — checked against
the official spec's definition) and what the method returns from a recorded response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from iterable_sync.iterable import (
    BulkTrackResult,
    BulkUpdateResult,
    CartUpdate,
    CatalogInfo,
    CatalogItem,
    Event,
    IterableClient,
    IterableEnvelope,
    ListInfo,
    ListSubscriber,
    Purchase,
    PurchaseItem,
    SubscribeResult,
    User,
    UserUpdate,
)

from . import recorded
from .conftest import FakeIterable, reply
from .spec_shapes import spec_problems

PURCHASE_ITEM = PurchaseItem(id="sku-1", name="Mug", price=12.5, quantity=2, categories=["home"])
PURCHASE_ITEM_JSON = {
    "id": "sku-1",
    "name": "Mug",
    "price": 12.5,
    "quantity": 2,
    "categories": ["home"],
}


@dataclass
class Case:
    id: str
    call: Callable[[IterableClient], Any]
    method: str
    path: str  # raw, percent-encoded as sent
    body: Any = None
    spec: str | None = None  # the spec definition the body must conform to
    query: dict[str, str] = field(default_factory=dict)
    response: httpx.Response = field(default_factory=reply)
    returns: Callable[[Any], bool] = lambda result: True


CASES = [
    Case(
        "users.update",
        lambda c: c.users.update(
            UserUpdate(email="a@example.com", data_fields={"plan": "pro"}),
            create_new_fields=True,
        ),
        "POST",
        "/api/users/update",
        {"email": "a@example.com", "dataFields": {"plan": "pro"}, "createNewFields": True},
        "ApiUserUpdateRequest",
        returns=lambda r: isinstance(r, IterableEnvelope) and r.code == "Success",
    ),
    Case(
        "users.bulk_update",
        lambda c: c.users.bulk_update(
            [
                UserUpdate(email="a@example.com", data_fields={"a": 1}, merge_nested_objects=True),
                {"userId": "u2", "preferUserId": True},
            ],
            create_new_fields=False,
        ),
        "POST",
        "/api/users/bulkUpdate",
        {
            "users": [
                {"email": "a@example.com", "dataFields": {"a": 1}, "mergeNestedObjects": True},
                {"userId": "u2", "dataFields": {}, "preferUserId": True},
            ],
            "createNewFields": False,
        },
        "BulkUpdateUsersRequest",
        response=reply(200, recorded.BULK_UPDATE_OK),
        returns=lambda r: (
            isinstance(r, BulkUpdateResult) and (r.success_count, r.fail_count) == (2, 0)
        ),
    ),
    Case(
        "users.update_email",
        lambda c: c.users.update_email("new@example.com", current_email="old@example.com"),
        "POST",
        "/api/users/updateEmail",
        {"currentEmail": "old@example.com", "newEmail": "new@example.com"},
        "UpdateEmailRequest",
    ),
    Case(
        "users.delete_by_email",
        lambda c: c.users.delete_by_email("a+b@example.com"),
        "DELETE",
        "/api/users/a%2Bb@example.com",
    ),
    Case(
        "users.delete_by_user_id",
        lambda c: c.users.delete_by_user_id("team/42"),
        "DELETE",
        "/api/users/byUserId/team%2F42",
    ),
    Case(
        "users.forget",
        lambda c: c.users.forget(email="a@example.com"),
        "POST",
        "/api/users/forget",
        {"email": "a@example.com"},
        "UserRequest",
    ),
    Case(
        "users.unforget",
        lambda c: c.users.unforget(user_id="u1"),
        "POST",
        "/api/users/unforget",
        {"userId": "u1"},
        "UserRequest",
    ),
    Case(
        "users.get_by_email",
        lambda c: c.users.get_by_email("caio@mailinator.com"),
        "GET",
        "/api/users/caio@mailinator.com",
        response=reply(200, recorded.GET_USER),
        returns=lambda r: (
            isinstance(r, User)
            and r.user_id == "testuser123"
            and r.data_fields["emailListIds"] == [1068682, 1068683]
        ),
    ),
    Case(
        "users.get_by_user_id",
        lambda c: c.users.get_by_user_id("testuser123"),
        "GET",
        "/api/users/byUserId/testuser123",
        response=reply(200, recorded.GET_USER),
        returns=lambda r: isinstance(r, User) and r.email == "caio@mailinator.com",
    ),
    Case(
        "users.get_fields",
        lambda c: c.users.get_fields(),
        "GET",
        "/api/users/getFields",
        response=reply(200, recorded.GET_FIELDS),
        returns=lambda r: r == recorded.GET_FIELDS["fields"],
    ),
    Case(
        "events.track",
        lambda c: c.events.track(
            Event(
                email="a@example.com",
                event_name="signup",
                id="1234",
                created_at=1_700_000_000,
                data_fields={"plan": "pro"},
            )
        ),
        "POST",
        "/api/events/track",
        {
            "email": "a@example.com",
            "eventName": "signup",
            "id": "1234",
            "createdAt": 1_700_000_000,
            "dataFields": {"plan": "pro"},
        },
        "TrackRequest",
        response=reply(200, recorded.TRACK_OK),
        returns=lambda r: r == "1234",
    ),
    Case(
        "events.track_bulk",
        lambda c: c.events.track_bulk(
            [
                Event(email="ok@example.com", event_name="viewed", id="e1"),
                Event(email="sayan", event_name="viewed", id="e2", created_at=1_700_000_001),
            ]
        ),
        "POST",
        "/api/events/trackBulk",
        {
            "events": [
                {"email": "ok@example.com", "eventName": "viewed", "id": "e1"},
                {"email": "sayan", "eventName": "viewed", "id": "e2", "createdAt": 1_700_000_001},
            ]
        },
        "BulkTrackRequest",
        response=reply(200, recorded.TRACK_BULK_PARTIAL),
        returns=lambda r: isinstance(r, BulkTrackResult) and r.failed_emails == {"sayan"},
    ),
    Case(
        "events.get_events_by_email",
        lambda c: c.events.get_events_by_email("a@example.com", limit=5),
        "GET",
        "/api/events/a@example.com",
        query={"limit": "5"},
        response=reply(200, {"events": [{"eventName": "signup", "email": "a@example.com"}]}),
        returns=lambda r: r == [{"eventName": "signup", "email": "a@example.com"}],
    ),
    Case(
        "events.get_events_by_user_id",
        lambda c: c.events.get_events_by_user_id("u1"),
        "GET",
        "/api/events/byUserId/u1",
        response=reply(200, {"events": []}),
        returns=lambda r: r == [],
    ),
    Case(
        "commerce.track_purchase",
        lambda c: c.commerce.track_purchase(
            Purchase(
                id="order-9",
                user=UserUpdate(user_id="u1", data_fields={"vip": True}),
                items=[PURCHASE_ITEM],
                total=25.0,
                created_at=1_700_000_000,
            )
        ),
        "POST",
        "/api/commerce/trackPurchase",
        {
            "user": {"userId": "u1", "dataFields": {"vip": True}},
            "items": [PURCHASE_ITEM_JSON],
            "total": 25.0,
            "id": "order-9",
            "createdAt": 1_700_000_000,
        },
        "TrackPurchaseRequest",
    ),
    Case(
        "commerce.update_cart",
        lambda c: c.commerce.update_cart(
            CartUpdate(user=UserUpdate(email="a@example.com"), items=[PURCHASE_ITEM])
        ),
        "POST",
        "/api/commerce/updateCart",
        {"user": {"email": "a@example.com", "dataFields": {}}, "items": [PURCHASE_ITEM_JSON]},
        "UpdateCartRequest",
    ),
    Case(
        "catalogs.create",
        lambda c: c.catalogs.create("example-catalog"),
        "POST",
        "/api/catalogs/example-catalog",
        response=reply(201, recorded.CREATE_CATALOG),
        returns=lambda r: (
            r == CatalogInfo(id=1194, name="example-catalog", url="/api/catalogs/example-catalog")
        ),
    ),
    Case(
        "catalogs.list",
        lambda c: c.catalogs.list(),
        "GET",
        "/api/catalogs",
        query={"page": "1", "pageSize": "100"},
        response=reply(
            200,
            {
                "msg": "",
                "code": "Success",
                "params": {"catalogNames": [{"name": "a"}, {"name": "b"}], "totalCatalogsCount": 2},
            },
        ),
        returns=lambda r: r == ["a", "b"],
    ),
    Case(
        "catalogs.delete",
        lambda c: c.catalogs.delete("example-catalog"),
        "DELETE",
        "/api/catalogs/example-catalog",
    ),
    Case(
        "catalogs.bulk_upsert_items",
        lambda c: c.catalogs.bulk_upsert_items(
            "example-catalog",
            {"1": {"orange": "julius"}, "Sku-2": {"lemon": "wedge", "gone": None}},
            replace_uploaded_fields_only=True,
        ),
        "POST",
        "/api/catalogs/example-catalog/items",
        {
            "documents": {"1": {"orange": "julius"}, "Sku-2": {"lemon": "wedge", "gone": None}},
            "replaceUploadedFieldsOnly": True,
        },
        "CatalogBulkUploadRequest",
        response=reply(202, recorded.BULK_UPLOAD_ACCEPTED),
        returns=lambda r: r.msg.startswith("Request to bulk-upload"),
    ),
    Case(
        "catalogs.bulk_delete_items",
        lambda c: c.catalogs.bulk_delete_items("example-catalog", ["123"]),
        "DELETE",
        "/api/catalogs/example-catalog/items",
        {"itemIds": ["123"]},
        "CatalogBulkDeleteRequest",
        response=reply(202, recorded.BULK_DELETE_ACCEPTED),
    ),
    Case(
        "catalogs.get_item",
        lambda c: c.catalogs.get_item("example-catalog", "1"),
        "GET",
        "/api/catalogs/example-catalog/items/1",
        response=reply(200, recorded.GET_CATALOG_ITEM),
        returns=lambda r: (
            isinstance(r, CatalogItem)
            and r.last_modified == 1560965412000
            and r.value == {"orange": "julius", "lemon": "wedge"}
        ),
    ),
    Case(
        "lists.create",
        lambda c: c.lists.create("Newsletter", description="weekly"),
        "POST",
        "/api/lists",
        {"name": "Newsletter", "description": "weekly"},
        "CreateListRequest",
        response=reply(200, recorded.CREATE_LIST),
        returns=lambda r: r == 1068682,
    ),
    Case(
        "lists.get_all",
        lambda c: c.lists.get_all(),
        "GET",
        "/api/lists",
        response=reply(200, recorded.GET_LISTS),
        returns=lambda r: (
            [(x.id, x.list_type) for x in r] == [(1056557, "Standard"), (982885, "Dynamic")]
            and isinstance(r[0], ListInfo)
        ),
    ),
    Case(
        "lists.delete",
        lambda c: c.lists.delete(1068682),
        "DELETE",
        "/api/lists/1068682",
        response=reply(200, recorded.DELETE_LIST),
    ),
    Case(
        "lists.subscribe",
        lambda c: c.lists.subscribe(
            1068682,
            [ListSubscriber(email="a@example.com", data_fields={"source": "sync"})],
            update_existing_users_only=True,
        ),
        "POST",
        "/api/lists/subscribe",
        {
            "listId": 1068682,
            "subscribers": [{"email": "a@example.com", "dataFields": {"source": "sync"}}],
            "updateExistingUsersOnly": True,
        },
        "SubscribeRequest",
        response=reply(200, recorded.SUBSCRIBE_OK),
        returns=lambda r: isinstance(r, SubscribeResult) and r.success_count == 1,
    ),
    Case(
        "lists.unsubscribe",
        lambda c: c.lists.unsubscribe(
            1068682,
            [ListSubscriber(email="a@example.com", data_fields={"ignored": 1}), {"userId": "u2"}],
            channel_unsubscribe=False,
        ),
        "POST",
        "/api/lists/unsubscribe",
        {
            "listId": 1068682,
            "subscribers": [{"email": "a@example.com"}, {"userId": "u2"}],
            "channelUnsubscribe": False,
        },
        "UnsubscribeRequest",
        response=reply(200, recorded.SUBSCRIBE_INVALID),
        returns=lambda r: r.failed_emails == {"user@"},
    ),
    Case(
        "lists.get_users",
        lambda c: c.lists.get_users(1068682),
        "GET",
        "/api/lists/getUsers",
        query={"listId": "1068682"},
        response=reply(200, "a@example.com\nb@example.com\n"),
        returns=lambda r: r == ["a@example.com", "b@example.com"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sends_the_documented_request(
    case: Case, client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(case.response)
    case.call(client)

    sent = fake.last
    assert (sent.method, sent.url.raw_path.split(b"?")[0].decode()) == (case.method, case.path)
    assert dict(sent.url.params) == case.query
    assert fake.body() == case.body
    if case.body is not None:
        assert sent.headers["Content-Type"] == "application/json"
    if case.spec is not None:
        assert spec_problems(fake.body(), case.spec) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reads_the_recorded_response(
    case: Case, client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(case.response)
    assert case.returns(case.call(client))


def test_every_request_carries_the_key_in_the_api_key_header(
    client: IterableClient, fake: FakeIterable
) -> None:
    from .conftest import API_KEY

    for case in CASES:
        fake.then(case.response)
        case.call(client)
    assert len(fake.requests) == len(CASES)
    assert all(r.headers["Api-Key"] == API_KEY for r in fake.requests)
    assert all(API_KEY not in str(r.url) for r in fake.requests)
