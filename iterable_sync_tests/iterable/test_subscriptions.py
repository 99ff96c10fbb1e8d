"""Subscriptions, channels, message types and catalog field mappings: what the client
sends (checked against the official spec's definitions) and how it reads the answers."""

from __future__ import annotations

import json

import pytest

from iterable_sync.iterable import (
    BatchLimitError,
    BulkSubscriptionsResult,
    IterableClient,
    SubscriptionUpdate,
    UserUpdate,
)

from .conftest import FakeIterable, reply
from .spec_shapes import spec_problems


def test_update_subscriptions_sends_only_the_lists_given(
    client: IterableClient, fake: FakeIterable
) -> None:
    client.subscriptions.update(
        SubscriptionUpdate(email="a@example.com", unsubscribed_channel_ids=[1], campaign_id=7)
    )
    assert (fake.last.method, fake.last.url.path) == ("POST", "/api/users/updateSubscriptions")
    # A list left out is not overwritten (spec: "overwrites ... any non-null fields").
    assert fake.body() == {"email": "a@example.com", "unsubscribedChannelIds": [1], "campaignId": 7}
    assert spec_problems(fake.body(), "UpdateSubscriptionsRequest") == []


def test_subscription_update_needs_exactly_one_identifier() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SubscriptionUpdate(email="a@example.com", user_id="u1")
    with pytest.raises(ValueError, match="exactly one"):
        SubscriptionUpdate(email_list_ids=[1])


def test_bulk_update_subscriptions_sends_the_documented_body_and_reads_the_answer(
    client: IterableClient, fake: FakeIterable
) -> None:
    answer = {
        "successCount": 1,
        "failCount": 1,
        "invalidEmails": ["bad"],
        "invalidUserIds": [],
        "validEmailFailures": [],
        "validUserIdFailures": [],
    }
    fake.then(reply(200, answer))
    result = client.subscriptions.bulk_update(
        [
            {"email": "a@example.com", "emailListIds": [3, 4]},
            SubscriptionUpdate(user_id="u2", unsubscribed_message_type_ids=[10]),
        ]
    )
    assert fake.last.url.path == "/api/users/bulkUpdateSubscriptions"
    assert fake.body() == {
        "updateSubscriptionsRequests": [
            {"email": "a@example.com", "emailListIds": [3, 4]},
            {"userId": "u2", "unsubscribedMessageTypeIds": [10]},
        ]
    }
    assert spec_problems(fake.body(), "BulkUpdateSubscriptionsRequest") == []
    assert result == BulkSubscriptionsResult(success_count=1, fail_count=1, invalid_emails=["bad"])


def test_bulk_update_subscriptions_refuses_more_than_a_thousand(
    client: IterableClient, fake: FakeIterable
) -> None:
    with pytest.raises(BatchLimitError):
        client.subscriptions.bulk_update(
            [SubscriptionUpdate(email=f"u{i}@example.com") for i in range(1001)]
        )
    assert fake.requests == []


def test_bulk_action_puts_users_and_user_ids_with_the_action_in_the_query(
    client: IterableClient, fake: FakeIterable
) -> None:
    client.subscriptions.bulk_action(
        "emailList", 42, "subscribe", emails=["a@example.com"], user_ids=["u1"]
    )
    sent = fake.last
    assert (sent.method, sent.url.path) == ("PUT", "/api/subscriptions/emailList/42")
    assert dict(sent.url.params) == {"action": "subscribe"}
    assert fake.body() == {"users": ["a@example.com"], "usersByUserId": ["u1"]}
    assert spec_problems(fake.body(), "BulkSubscriptionActionRequest") == []


def test_single_user_subscribe_and_unsubscribe_use_patch_and_delete(
    client: IterableClient, fake: FakeIterable
) -> None:
    client.subscriptions.subscribe_user("messageType", 10, email="a+b@example.com")
    client.subscriptions.unsubscribe_user("messageChannel", 1, user_id="team/7")
    first, second = fake.requests
    assert (first.method, first.url.raw_path.decode()) == (
        "PATCH",
        "/api/subscriptions/messageType/10/user/a%2Bb@example.com",
    )
    assert (second.method, second.url.raw_path.decode()) == (
        "DELETE",
        "/api/subscriptions/messageChannel/1/byUserId/team%2F7",
    )


def test_channels_and_message_types_are_read_as_the_spec_defines_them(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(
        reply(
            200,
            {
                "channels": [
                    {
                        "id": 1,
                        "name": "Marketing Email",
                        "channelType": "Marketing",
                        "messageMedium": "Email",
                    }
                ]
            },
        ),
        reply(
            200,
            {
                "messageTypes": [
                    {
                        "id": 10,
                        "name": "Newsletter",
                        "channelId": 1,
                        "subscriptionPolicy": "OptOut",
                        "createdAt": 1,
                        "updatedAt": 2,
                    }
                ]
            },
        ),
    )
    (channel,) = client.subscriptions.channels()
    (message_type,) = client.subscriptions.message_types()
    assert (channel.id, channel.message_medium, channel.channel_type) == (1, "Email", "Marketing")
    assert (message_type.id, message_type.channel_id, message_type.name) == (10, 1, "Newsletter")
    assert [r.url.path for r in fake.requests] == ["/api/channels", "/api/messageTypes"]


def test_catalog_field_mappings_are_put_as_mappings_updates(
    client: IterableClient, fake: FakeIterable
) -> None:
    client.catalogs.set_field_mappings(
        "products", {"price": "double", "dims": {"width": "long"}, "launched": "date"}
    )
    assert (fake.last.method, fake.last.url.path) == ("PUT", "/api/catalogs/products/fieldMappings")
    assert fake.body() == {
        "mappingsUpdates": [
            {"fieldName": "price", "fieldType": "double"},
            {
                "fieldName": "dims",
                "fieldType": "object",
                "children": [{"fieldName": "width", "fieldType": "long"}],
            },
            {"fieldName": "launched", "fieldType": "date"},
        ]
    }
    assert spec_problems(fake.body(), "CatalogMappingsUpdateRequest") == []


def test_catalog_field_mapping_refuses_a_type_iterable_does_not_list(
    client: IterableClient, fake: FakeIterable
) -> None:
    with pytest.raises(ValueError, match="not one of"):
        client.catalogs.set_field_mappings("products", {"price": "float"})
    assert fake.requests == []


def test_catalog_field_mappings_read_the_recorded_wrapped_answer(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(
        reply(
            200,
            {
                "msg": "",
                "code": "Success",
                "params": {"definedMappings": {"price": "double"}, "undefinedFields": ["name"]},
            },
        )
    )
    mappings = client.catalogs.get_field_mappings("products")
    assert mappings.defined_mappings == {"price": "double"}
    assert mappings.undefined_fields == ["name"]


# --- parameters a sync of issue 24 needs on existing endpoints ------------------------


def test_encoded_bulk_user_carries_merge_nested_objects(
    client: IterableClient, fake: FakeIterable
) -> None:
    raw = UserUpdate.encode(
        '{"prefs":{"email":true}}', email="a@example.com", merge_nested_objects=True
    )
    fake.then(reply(200, {"successCount": 1, "failCount": 0}))
    client.users.bulk_update([raw], create_new_fields=True)
    assert fake.body() == {
        "users": [
            {
                "dataFields": {"prefs": {"email": True}},
                "email": "a@example.com",
                "mergeNestedObjects": True,
            }
        ],
        "createNewFields": True,
    }
    assert spec_problems(fake.body(), "BulkUpdateUsersRequest") == []


def test_events_carry_campaign_and_template_ids(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(reply(200, {"successCount": 1, "failCount": 0}))
    client.events.track_bulk(
        [{"email": "a@example.com", "eventName": "open", "campaignId": 5, "templateId": 6}]
    )
    (event,) = fake.body()["events"]
    assert (event["campaignId"], event["templateId"]) == (5, 6)
    assert spec_problems(fake.body(), "BulkTrackRequest") == []


def test_lists_subscribe_carries_update_existing_users_only(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(200, {"successCount": 1, "failCount": 0}))
    client.lists.subscribe(3, [{"userId": "u1"}], update_existing_users_only=True)
    assert json.loads(fake.last.content)["updateExistingUsersOnly"] is True
    assert spec_problems(fake.body(), "SubscribeRequest") == []
