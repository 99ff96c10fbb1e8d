"""The typed client's subscription and field-mapping methods against the emulator over
HTTP: what one sends, the other understands, and the answers parse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.iterable import (
    FieldTypeMismatchError,
    IterableClient,
    RateLimits,
    SubscriptionUpdate,
)


@pytest.fixture
def client(shared_emulator: EmulatorProcess) -> Iterator[IterableClient]:
    with IterableClient(
        shared_emulator.api_key, base_url=shared_emulator.base_url, rate_limits=RateLimits.off()
    ) as made:
        yield made


def test_names_resolve_to_ids_and_a_bulk_update_lands_on_the_profiles(
    client: IterableClient,
) -> None:
    channel = next(c for c in client.subscriptions.channels() if c.name == "Marketing Email")
    newsletter = next(m for m in client.subscriptions.message_types() if m.name == "Newsletter")
    list_id = client.lists.create("Weekly")
    result = client.subscriptions.bulk_update(
        [
            SubscriptionUpdate(email="a@x.com", unsubscribed_channel_ids=[channel.id]),
            SubscriptionUpdate(email="b@x.com", unsubscribed_message_type_ids=[newsletter.id]),
        ]
    )
    assert (result.success_count, result.fail_count) == (2, 0)
    client.subscriptions.bulk_action("emailList", list_id, "subscribe", emails=["a@x.com"])
    a, b = client.users.get_by_email("a@x.com"), client.users.get_by_email("b@x.com")
    assert a is not None and b is not None
    assert a.data_fields["unsubscribedChannelIds"] == [channel.id]
    assert a.data_fields["emailListIds"] == [list_id]
    assert b.data_fields["unsubscribedMessageTypeIds"] == [newsletter.id]


def test_declared_catalog_types_refuse_a_mismatched_upload(client: IterableClient) -> None:
    client.catalogs.create("products")
    client.catalogs.set_field_mappings("products", {"price": "double"})
    assert client.catalogs.get_field_mappings("products").defined_mappings == {"price": "double"}
    with pytest.raises(FieldTypeMismatchError):
        client.catalogs.bulk_upsert_items(
            "products", {"a": {"price": "cheap"}}, replace_uploaded_fields_only=False
        )
