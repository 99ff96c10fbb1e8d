"""Documented batch limits are enforced before anything is sent."""

from __future__ import annotations

import pytest

from iterable_sync.iterable import (
    MAX_BATCH,
    BatchLimitError,
    CallRecord,
    Event,
    IterableClient,
    IterableError,
    PayloadError,
    UserUpdate,
)

from . import recorded
from .conftest import FakeIterable, reply


def _users(n: int, **data: object) -> list[UserUpdate]:
    return [UserUpdate(email=f"u{i}@example.com", data_fields=dict(data)) for i in range(n)]


def test_a_users_batch_over_1000_is_refused_before_sending(
    client: IterableClient, fake: FakeIterable, records: list[CallRecord]
) -> None:
    with pytest.raises(BatchLimitError, match="1,001 items exceeds Iterable's limit of 1,000"):
        client.users.bulk_update(_users(MAX_BATCH + 1))

    assert fake.requests == [] and records == []


def test_a_users_batch_of_exactly_1000_is_sent(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(reply(200, {**recorded.BULK_UPDATE_OK, "successCount": 1000}))

    assert client.users.bulk_update(_users(MAX_BATCH)).success_count == 1000
    assert len(fake.body()["users"]) == 1000


def test_a_users_body_over_4_mb_is_refused_before_sending(
    client: IterableClient, fake: FakeIterable
) -> None:
    with pytest.raises(BatchLimitError, match="bytes of JSON body") as caught:
        client.users.bulk_update(_users(500, bio="x" * 8_100))

    assert caught.value.limit == 4_000_000 and caught.value.actual > 4_000_000
    assert fake.requests == []


def test_an_events_batch_over_1000_is_refused(client: IterableClient, fake: FakeIterable) -> None:
    events = [Event(email="a@example.com", event_name="e", id=str(i)) for i in range(1001)]

    with pytest.raises(BatchLimitError):
        client.events.track_bulk(events)

    assert fake.requests == []


def test_a_list_subscribe_batch_over_1000_is_refused(
    client: IterableClient, fake: FakeIterable
) -> None:
    with pytest.raises(BatchLimitError):
        client.lists.subscribe(1, [{"email": f"u{i}@example.com"} for i in range(1001)])

    assert fake.requests == []


def test_a_catalog_batch_over_1000_items_is_refused(
    client: IterableClient, fake: FakeIterable
) -> None:
    items = {f"sku-{i}": {"n": i} for i in range(1001)}

    with pytest.raises(BatchLimitError):
        client.catalogs.bulk_upsert_items("c", items, replace_uploaded_fields_only=True)

    assert fake.requests == []


def test_a_catalog_item_over_30_kb_is_refused_naming_the_item(
    client: IterableClient, fake: FakeIterable
) -> None:
    items = {"small": {"a": 1}, "huge": {"text": "x" * 30_000}}

    with pytest.raises(BatchLimitError, match="'huge'"):
        client.catalogs.bulk_upsert_items("c", items, replace_uploaded_fields_only=True)

    assert fake.requests == []


def test_an_empty_batch_sends_nothing(client: IterableClient, fake: FakeIterable) -> None:
    # Iterable answers an empty users batch with 400; there is nothing to send anyway.
    assert client.users.bulk_update([]).success_count == 0
    assert client.events.track_bulk([]).fail_count == 0
    assert client.lists.subscribe(1, []).success_count == 0
    assert fake.requests == []


def test_a_batch_limit_error_is_a_payload_error_and_a_value_error() -> None:
    error = BatchLimitError("items", 1001, 1000, "POST /api/users/bulkUpdate")

    assert isinstance(error, PayloadError)
    assert isinstance(error, ValueError)
    assert isinstance(error, IterableError)
