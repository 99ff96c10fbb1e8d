"""Subscriptions over HTTP: email lists, unsubscribed channels and message types on the
profile, the bulk writes, the per-group action, and the channel/message-type reads."""

from __future__ import annotations

import httpx

from iterable_sync.emulator import EmulatorProcess

from .conftest import InProc
from .test_lists import make_list

MARKETING_EMAIL, NEWSLETTER, SMS_ALERTS = 1, 10, 14  # seeded ids (assumed, see subscriptions.py)


def profile(api: httpx.Client, email: str) -> dict:
    return api.get(f"/api/users/{email}").json()["user"]["dataFields"]


def test_unsubscribed_email_channel_shows_on_the_profile(api: httpx.Client) -> None:
    response = api.post(
        "/api/users/updateSubscriptions",
        json={"email": "a@x.com", "unsubscribedChannelIds": [MARKETING_EMAIL]},
    )
    assert response.json()["code"] == "Success"
    fields = profile(api, "a@x.com")
    assert fields["unsubscribedChannelIds"] == [MARKETING_EMAIL]
    assert fields["unsubscribedMessageTypeIds"] == []


def test_update_subscriptions_overwrites_only_the_lists_sent(api: httpx.Client) -> None:
    list_id = make_list(api)
    api.post(
        "/api/users/updateSubscriptions",
        json={"email": "a@x.com", "emailListIds": [list_id], "unsubscribedMessageTypeIds": [11]},
    )
    # Spec: "overwrites (does not merge) existing data for any non-null fields".
    api.post(
        "/api/users/updateSubscriptions",
        json={"email": "a@x.com", "unsubscribedMessageTypeIds": [NEWSLETTER]},
    )
    fields = profile(api, "a@x.com")
    assert fields["unsubscribedMessageTypeIds"] == [NEWSLETTER]
    assert fields["emailListIds"] == [list_id]


def test_update_subscriptions_refuses_an_unknown_channel(api: httpx.Client) -> None:
    response = api.post(
        "/api/users/updateSubscriptions", json={"email": "a@x.com", "unsubscribedChannelIds": [999]}
    )
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")
    assert api.get("/api/users/a@x.com").json() == {}


def test_bulk_update_subscriptions_of_a_few_users(api: httpx.Client) -> None:
    list_id = make_list(api)
    answer = api.post(
        "/api/users/bulkUpdateSubscriptions",
        json={
            "updateSubscriptionsRequests": [
                {"email": "a@x.com", "emailListIds": [list_id]},
                {"email": "b@x.com", "unsubscribedChannelIds": [MARKETING_EMAIL]},
                {"email": "user@"},
            ]
        },
    ).json()
    # Spec BulkUpdateSubscriptionsResponse: all six keys are required.
    assert answer == {
        "successCount": 2,
        "failCount": 1,
        "invalidEmails": ["user@"],
        "invalidUserIds": [],
        "validEmailFailures": [],
        "validUserIdFailures": [],
    }
    assert profile(api, "a@x.com")["emailListIds"] == [list_id]
    assert profile(api, "b@x.com")["unsubscribedChannelIds"] == [MARKETING_EMAIL]


def test_userid_only_subscription_update_fails_in_an_email_based_project(
    api: httpx.Client,
) -> None:
    # Support article 29156459027348: "If only userId passed and no matching user →
    # Iterable returns an error".
    answer = api.post(
        "/api/users/bulkUpdateSubscriptions",
        json={"updateSubscriptionsRequests": [{"userId": "nobody", "unsubscribedChannelIds": [1]}]},
    ).json()
    assert (answer["failCount"], answer["validUserIdFailures"]) == (1, ["nobody"])


def test_group_put_subscribes_a_batch_to_an_email_list(api: httpx.Client) -> None:
    list_id = make_list(api)
    response = api.put(
        f"/api/subscriptions/emailList/{list_id}",
        params={"action": "subscribe"},
        json={"users": ["a@x.com", "b@x.com", "c@x.com"]},
    )
    assert response.status_code == 202
    for email in ("a@x.com", "b@x.com", "c@x.com"):
        assert profile(api, email)["emailListIds"] == [list_id]
    api.put(
        f"/api/subscriptions/emaillist/{list_id}",  # "case insensitive"
        params={"action": "unsubscribe"},
        json={"users": ["b@x.com"]},
    )
    assert profile(api, "b@x.com")["emailListIds"] == []


def test_single_user_patch_and_delete_on_a_channel(api: httpx.Client) -> None:
    base = f"/api/subscriptions/messageChannel/{MARKETING_EMAIL}/user/a@x.com"
    assert api.delete(base).status_code == 202
    assert profile(api, "a@x.com")["unsubscribedChannelIds"] == [MARKETING_EMAIL]
    assert api.patch(base).status_code == 202
    assert profile(api, "a@x.com")["unsubscribedChannelIds"] == []


def test_opt_in_message_type_subscription_shows_as_subscribed(api: httpx.Client) -> None:
    api.patch(f"/api/subscriptions/messageType/{SMS_ALERTS}/user/a@x.com")
    assert profile(api, "a@x.com")["subscribedMessageTypeIds"] == [SMS_ALERTS]


def test_group_action_on_an_unknown_group_is_bad_params(api: httpx.Client) -> None:
    response = api.put(
        "/api/subscriptions/smoke/1", params={"action": "subscribe"}, json={"users": ["a@x.com"]}
    )
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_channels_and_message_types_are_listed(api: httpx.Client) -> None:
    channels = api.get("/api/channels").json()["channels"]
    types = api.get("/api/messageTypes").json()["messageTypes"]
    email = next(c for c in channels if c["id"] == MARKETING_EMAIL)
    assert (email["messageMedium"], email["channelType"]) == ("Email", "Marketing")
    newsletter = next(t for t in types if t["id"] == NEWSLETTER)
    assert newsletter["channelId"] == MARKETING_EMAIL
    assert {t["channelId"] for t in types} <= {c["id"] for c in channels}


def test_channels_are_limited_at_100_per_second(
    shared_emulator: EmulatorProcess, api: httpx.Client
) -> None:
    shared_emulator.admin.set_limits("real")
    described = shared_emulator.admin.limits()["effective"]
    assert described["GET /api/channels"]["rate"] == 100
    assert described["GET /api/messageTypes"]["rate"] == 100


def test_userid_project_subscribes_by_user_id(inproc: InProc) -> None:
    client = inproc("userId")
    response = client.put(
        f"/api/subscriptions/messageChannel/{MARKETING_EMAIL}",
        params={"action": "unsubscribe"},
        json={"usersByUserId": ["u1"]},
    )
    assert response.status_code == 202
    fields = client.get("/api/users/byUserId/u1").json()["user"]["dataFields"]
    assert fields["unsubscribedChannelIds"] == [MARKETING_EMAIL]
