"""Each request parameter the client sends does what Iterable's documentation says.

One test per documented behaviour, over real HTTP; each docstring quotes the words it
checks (the OpenAPI spec, ../shared/iterable-openapi.json, unless it names a support
article). ``createNewFields`` is not here: its project setting is another change's.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from iterable_sync.emulator import EmulatorProcess

HYBRID = pytest.mark.emulator(project_type="hybrid", rate_limits="off")


def user(api: httpx.Client, email: str | None = None, user_id: str | None = None) -> Any:
    path = f"/api/users/{email}" if email else f"/api/users/byUserId/{user_id}"
    return api.get(path).json().get("user")


def users_count(api: httpx.Client) -> int:
    return api.get("/_emulator/state").json()["users"]


@pytest.fixture
def hybrid(emulator: EmulatorProcess) -> httpx.Client:
    with emulator.client(timeout=10) as client:
        yield client


# --- preferUserId (OptionalApiUser, ApiUserUpdateRequest) ---------------------------------


def test_prefer_user_id_true_creates_the_unknown_user(api: httpx.Client) -> None:
    """preferUserId: "Whether or not a new user should be created if the request includes
    a userId that doesn't yet exist in the Iterable project." Created "with an
    auto-generated @placeholder.email address" (support article 29156459027348)."""
    body = {"users": [{"userId": "u1", "preferUserId": True, "dataFields": {"n": 1}}]}
    answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert answer["successCount"] == 1
    assert user(api, user_id="u1")["email"].endswith("@placeholder.email")


def test_prefer_user_id_defaults_to_false(api: httpx.Client) -> None:
    """preferUserId: "Defaults to false." Support article 29156459027348: "If only userId
    passed and no matching user, Iterable returns an error" (bulk: notFoundUserIds)."""
    answer = api.post("/api/users/bulkUpdate", json={"users": [{"userId": "u1"}]}).json()
    assert answer["failedUpdates"]["notFoundUserIds"] == ["u1"]
    assert users_count(api) == 0


def test_prefer_user_id_false_single_update_is_an_error(api: httpx.Client) -> None:
    """users/update, same rule; the error's code is assumed: UnknownUserIdError, from the
    spec's IterableApiResponse code enum (no recorded answer)."""
    response = api.post("/api/users/update", json={"userId": "u1", "preferUserId": False})
    assert (response.status_code, response.json()["code"]) == (400, "UnknownUserIdError")


@HYBRID
def test_prefer_user_id_is_only_respected_in_email_projects(hybrid: httpx.Client) -> None:
    """preferUserId: "Only respected in API calls for email-based projects." In a hybrid
    project a userId identifies a user, and an unknown one is created without it."""
    answer = hybrid.post("/api/users/bulkUpdate", json={"users": [{"userId": "u1"}]}).json()
    assert answer["successCount"] == 1
    assert "email" not in user(hybrid, user_id="u1")


def test_purchase_user_without_prefer_user_id_is_not_created(api: httpx.Client) -> None:
    """TrackPurchaseRequest.user is an ApiUserUpdateRequest: its preferUserId rule holds."""
    body = {
        "user": {"userId": "u1"},
        "items": [{"id": "i", "name": "n", "price": 1.0, "quantity": 1}],
        "total": 1.0,
    }
    response = api.post("/api/commerce/trackPurchase", json=body)
    assert (response.status_code, response.json()["code"]) == (400, "UnknownUserIdError")
    body["user"]["preferUserId"] = True
    assert api.post("/api/commerce/trackPurchase", json=body).status_code == 200
    assert user(api, user_id="u1")["email"].endswith("@placeholder.email")


def test_list_subscriber_without_prefer_user_id_is_not_found(api: httpx.Client) -> None:
    """SubscribeRequest.subscribers are OptionalApiUser: a userId-only subscriber unknown
    to an email-based project is not created without preferUserId."""
    list_id = api.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"userId": "u1"}]}
    answer = api.post("/api/lists/subscribe", json=body).json()
    assert answer["failedUpdates"]["notFoundUserIds"] == ["u1"]
    assert users_count(api) == 0


# --- mergeNestedObjects -------------------------------------------------------------------


def test_merge_nested_objects_merges_top_level_objects(api: httpx.Client) -> None:
    """mergeNestedObjects: "if a user profile has data {"mySettings":{"mobile":true}} and
    the request has data {"mySettings":{"email":true}}, merging results in
    {"mySettings":{"mobile":true,"email":true}}"."""
    mobile = {"email": "a@x.com", "dataFields": {"mySettings": {"mobile": True}}}
    api.post("/api/users/update", json=mobile)
    body = {"email": "a@x.com", "dataFields": {"mySettings": {"email": True}}}
    api.post("/api/users/update", json={**body, "mergeNestedObjects": True})
    assert user(api, "a@x.com")["dataFields"]["mySettings"] == {"mobile": True, "email": True}


def test_merge_nested_objects_defaults_to_overwriting(api: httpx.Client) -> None:
    """mergeNestedObjects: "Merge top-level objects instead of overwriting them. Defaults
    to false." (bulkUpdate, per user: OptionalApiUser)."""
    mobile = {"email": "a@x.com", "dataFields": {"mySettings": {"mobile": True}}}
    api.post("/api/users/update", json=mobile)
    body = {"users": [{"email": "a@x.com", "dataFields": {"mySettings": {"email": True}}}]}
    api.post("/api/users/bulkUpdate", json=body)
    assert user(api, "a@x.com")["dataFields"]["mySettings"] == {"email": True}


# --- lists ----------------------------------------------------------------------------------


@HYBRID
def test_update_existing_users_only_skips_unknown_users(hybrid: httpx.Client) -> None:
    """updateExistingUsersOnly: "When true, Iterable ignores requests with unknown userIds
    and email addresses." (reported in failedUpdates.notFound*)."""
    list_id = hybrid.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"email": "new@x.com"}],
            "updateExistingUsersOnly": True}  # fmt: skip
    answer = hybrid.post("/api/lists/subscribe", json=body).json()
    assert answer["failedUpdates"]["notFoundEmails"] == ["new@x.com"]
    assert users_count(hybrid) == 0


@HYBRID
def test_update_existing_users_only_defaults_to_creating(hybrid: httpx.Client) -> None:
    """updateExistingUsersOnly: "When false, Iterable creates new users. Defaults to
    false." """
    list_id = hybrid.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"userId": "u1"}]}
    assert hybrid.post("/api/lists/subscribe", json=body).json()["successCount"] == 1
    assert user(hybrid, user_id="u1")["dataFields"]["userListIds"] == [list_id]


def test_update_existing_users_only_is_ignored_in_email_projects(api: httpx.Client) -> None:
    """updateExistingUsersOnly: "Only respected in API calls for userID-based and hybrid
    projects." An email-based project subscribes (and creates) the unknown email."""
    list_id = api.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"email": "new@x.com"}],
            "updateExistingUsersOnly": True}  # fmt: skip
    assert api.post("/api/lists/subscribe", json=body).json()["successCount"] == 1
    assert user(api, "new@x.com")["dataFields"]["emailListIds"] == [list_id]


def test_unsubscribe_without_channel_unsubscribe_leaves_other_lists(api: httpx.Client) -> None:
    """channelUnsubscribe: "Unsubscribe email from list's associated channel - essentially
    a global unsubscribe. (default: false)": left out, only this list's membership goes."""
    first = api.post("/api/lists", json={"name": "A"}).json()["listId"]
    second = api.post("/api/lists", json={"name": "B"}).json()["listId"]
    for list_id in (first, second):
        body = {"listId": list_id, "subscribers": [{"email": "a@x.com"}]}
        api.post("/api/lists/subscribe", json=body)
    body = {"listId": first, "subscribers": [{"email": "a@x.com"}]}
    assert api.post("/api/lists/unsubscribe", json=body).json()["successCount"] == 1
    fields = user(api, "a@x.com")["dataFields"]
    assert fields["emailListIds"] == [second]
    assert not fields.get("unsubscribedChannelIds")


@HYBRID
def test_get_users_prefer_user_id_returns_user_ids_in_hybrid_projects(
    hybrid: httpx.Client,
) -> None:
    """lists/getUsers preferUserId: "If true, will return the userId instead of email if
    both exists in a user profile for a hybrid project." """
    list_id = hybrid.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"email": "a@x.com", "userId": "u1"}]}
    hybrid.post("/api/lists/subscribe", json=body)
    by_email = hybrid.get("/api/lists/getUsers", params={"listId": list_id}).text
    params = {"listId": list_id, "preferUserId": "true"}
    by_user_id = hybrid.get("/api/lists/getUsers", params=params).text
    assert (by_email.split(), by_user_id.split()) == (["a@x.com"], ["u1"])


# --- events ---------------------------------------------------------------------------------


def test_event_id_updates_the_event_it_names(api: httpx.Client) -> None:
    """TrackRequest.id: "If an event exists with that id, the event will be updated." """
    for n in (1, 2):
        event = {"email": "a@x.com", "eventName": "e", "id": "ev-1", "dataFields": {"n": n}}
        api.post("/api/events/track", json=event)
    events = api.get("/api/events/a@x.com").json()["events"]
    assert [(e["_id"], e["dataFields"]) for e in events] == [("ev-1", {"n": 2})]


def test_event_without_id_gets_one_generated_and_returned(api: httpx.Client) -> None:
    """TrackRequest.id: "If none is specified, a new id will automatically be generated
    and returned." (recorded: params.id, research notes section 19)."""
    answer = api.post("/api/events/track", json={"email": "a@x.com", "eventName": "e"}).json()
    assert answer["params"]["id"]
    assert api.get("/api/events/a@x.com").json()["events"][0]["_id"] == answer["params"]["id"]


def test_event_id_longer_than_512_bytes_is_refused(api: httpx.Client) -> None:
    """TrackRequest.id: "Note that this ID cannot be longer than 512 bytes." """
    event = {"email": "a@x.com", "eventName": "e", "id": "é" * 257}  # 514 bytes
    assert api.post("/api/events/track", json=event).status_code == 400
    event["id"] = "x" * 512
    assert api.post("/api/events/track", json=event).status_code == 200


def test_created_at_is_a_unix_timestamp(api: httpx.Client) -> None:
    """TrackRequest.createdAt: "Time event happened. Set to the time event was received
    if unspecified. Expects a unix timestamp." Seconds is what the client sends (the unit
    is not documented; milliseconds are accepted too -- assumed, research notes 11)."""
    for event_id, created in (("s", 1_700_000_000), ("ms", 1_700_000_000_000)):
        event = {"email": "a@x.com", "eventName": "e", "id": event_id, "createdAt": created}
        api.post("/api/events/track", json=event)
    events = api.get("/api/events/a@x.com").json()["events"]
    assert {e["createdAt"] for e in events} == {"2023-11-14 22:13:20 +00:00"}


def test_campaign_id_is_kept_with_the_event(api: httpx.Client) -> None:
    """TrackRequest.campaignId: "Campaign tied to conversion" (int64)."""
    event = {"email": "a@x.com", "eventName": "e", "campaignId": 2**40}
    api.post("/api/events/track", json=event)
    assert api.get("/api/events/a@x.com").json()["events"][0]["campaignId"] == 2**40


def test_get_events_limit_defaults_to_30_and_caps_at_200(api: httpx.Client) -> None:
    """GET /api/events/{email} limit: "The number of events to retrieve. (Max is 200)",
    default 30."""
    events = [{"email": "a@x.com", "eventName": "e", "id": f"e{n}"} for n in range(201)]
    api.post("/api/events/trackBulk", json={"events": events[:200]})
    api.post("/api/events/trackBulk", json={"events": events[200:]})
    assert len(api.get("/api/events/a@x.com").json()["events"]) == 30
    many = api.get("/api/events/a@x.com", params={"limit": 500}).json()["events"]
    assert len(many) == 200


# --- users/updateEmail ------------------------------------------------------------------------


def test_update_email_current_email_takes_precedence(api: httpx.Client) -> None:
    """UpdateEmail: "specify currentEmail or currentUserId, but not both. If you include
    both, currentEmail takes precedence." """
    api.post("/api/users/update", json={"email": "a@x.com", "userId": "ua"})
    api.post("/api/users/update", json={"email": "b@x.com", "userId": "ub"})
    body = {"currentEmail": "a@x.com", "currentUserId": "ub", "newEmail": "c@x.com"}
    assert api.post("/api/users/updateEmail", json=body).status_code == 200
    assert user(api, "c@x.com")["userId"] == "ua"


def test_update_email_to_an_existing_email_is_an_error(api: httpx.Client) -> None:
    """updateEmail: "Returns an error if the new email already exists in Iterable"."""
    api.post("/api/users/update", json={"email": "a@x.com"})
    api.post("/api/users/update", json={"email": "b@x.com"})
    body = {"currentEmail": "a@x.com", "newEmail": "b@x.com"}
    assert api.post("/api/users/updateEmail", json=body).status_code == 409


@HYBRID
def test_email_changes_through_users_update_data_fields(hybrid: httpx.Client) -> None:
    """updateEmail: "To update an email in a userID-based or hybrid project, use POST
    /api/users/update". Article 217502386: {"userId": "oldUserId", "dataFields":
    {"email": "new@example.com"}}."""
    hybrid.post("/api/users/update", json={"email": "old@x.com", "userId": "u1"})
    body = {"userId": "u1", "dataFields": {"email": "new@x.com"}, "mergeNestedObjects": True}
    assert hybrid.post("/api/users/update", json=body).status_code == 200
    assert user(hybrid, user_id="u1")["email"] == "new@x.com"
    assert hybrid.get("/api/users/old@x.com").json() == {}


# --- catalogs -----------------------------------------------------------------------------------


def _catalog(api: httpx.Client, replace_only: bool) -> dict[str, Any]:
    api.post("/api/catalogs/fruit")
    first = {"documents": {"1": {"lime": "juice", "lemon": "slice"}}}
    first["replaceUploadedFieldsOnly"] = False
    api.post("/api/catalogs/fruit/items", json=first)
    second = {"documents": {"1": {"orange": "julius", "lemon": "wedge"}},
              "replaceUploadedFieldsOnly": replace_only}  # fmt: skip
    api.post("/api/catalogs/fruit/items", json=second)
    return api.get("/api/catalogs/fruit/items/1").json()["params"]["value"]


def test_replace_uploaded_fields_only_merges_the_sent_fields(api: httpx.Client) -> None:
    """replaceUploadedFieldsOnly: "Whether to replace only the upload fields within each
    document, not each entire document" (recorded: lime kept, research notes 21)."""
    assert _catalog(api, True) == {"lime": "juice", "lemon": "wedge", "orange": "julius"}


def test_without_replace_uploaded_fields_only_items_are_overwritten(api: httpx.Client) -> None:
    """Bulk create: "the item in the catalog will be completely overwritten, unless
    replaceUploadedFieldsOnly is set to true"."""
    assert _catalog(api, False) == {"orange": "julius", "lemon": "wedge"}


def test_catalog_items_sort_descending_by_default(api: httpx.Client) -> None:
    """GET catalog items sortAscending: "Sort results by ascending (Defaults to false)." """
    api.post("/api/catalogs/fruit")
    docs = {"documents": {"a": {"n": 1}, "b": {"n": 2}}, "replaceUploadedFieldsOnly": False}
    api.post("/api/catalogs/fruit/items", json=docs)
    listed = api.get("/api/catalogs/fruit/items").json()["params"]["catalogItemsWithProperties"]
    assert [i["itemId"] for i in listed] == ["b", "a"]
