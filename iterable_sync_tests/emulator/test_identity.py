"""Project types decide which identifier picks, creates or refuses a user."""

from __future__ import annotations

import httpx

from iterable_sync_tests.emulator.conftest import InProc


def users_count(client: httpx.Client) -> int:
    return client.get("/_emulator/state").json()["users"]


# --- email-based (the session emulator) ---------------------------------------------------


def test_email_wins_when_both_identifiers_are_sent(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "userId": "u1"})
    api.post("/api/users/update", json={"email": "a@x.com", "userId": "u2"})
    user = api.get("/api/users/a@x.com").json()["user"]
    assert user["userId"] == "u2"
    assert users_count(api) == 1


def test_user_id_only_bulk_write_for_unknown_user_is_not_found(api: httpx.Client) -> None:
    """Support article 29156459027348 (email-based projects): "If only userId passed and
    no matching user, Iterable returns an error" -- in a bulk answer, notFoundUserIds."""
    body = {"users": [{"userId": "ghost", "dataFields": {"n": 1}}]}
    answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert (answer["successCount"], answer["failCount"]) == (0, 1)
    assert answer["failedUpdates"]["notFoundUserIds"] == ["ghost"]
    assert users_count(api) == 0


def test_prefer_user_id_creates_a_placeholder_user(api: httpx.Client) -> None:
    """OptionalApiUser.preferUserId: "Whether or not a new user should be created if the
    request includes a userId that doesn't yet exist in the Iterable project." """
    body = {"users": [{"userId": "ghost", "preferUserId": True, "dataFields": {"n": 1}}]}
    answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert (answer["successCount"], answer["failCount"]) == (1, 0)
    user = api.get("/api/users/byUserId/ghost").json()["user"]
    assert user["email"].endswith("@placeholder.email")
    assert user["dataFields"]["n"] == 1


def test_prefer_user_id_updates_the_existing_holder(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "userId": "u1"})
    body = {"users": [{"userId": "u1", "preferUserId": True, "dataFields": {"n": 7}}]}
    assert api.post("/api/users/bulkUpdate", json=body).json()["successCount"] == 1
    assert api.get("/api/users/a@x.com").json()["user"]["dataFields"]["n"] == 7


def test_user_id_only_single_update_for_unknown_user_is_an_error(api: httpx.Client) -> None:
    response = api.post("/api/users/update", json={"userId": "ghost"})
    assert (response.status_code, response.json()["code"]) == (400, "UnknownUserIdError")
    assert users_count(api) == 0


def test_prefer_user_id_single_update_creates_a_placeholder_user(api: httpx.Client) -> None:
    """ApiUserUpdateRequest.preferUserId (users/update): same words as OptionalApiUser's."""
    api.post("/api/users/update", json={"userId": "anon", "preferUserId": True})
    user = api.get("/api/users/byUserId/anon").json()["user"]
    assert user["email"].endswith("@placeholder.email")


def test_prefer_user_id_is_ignored_outside_email_projects(inproc: InProc) -> None:
    """preferUserId: "Only respected in API calls for email-based projects." A userId
    write creates a user in a userID-based project anyway, never with a placeholder."""
    client = inproc("userId")
    client.post("/api/users/update", json={"userId": "anon", "preferUserId": False})
    assert "email" not in client.get("/api/users/byUserId/anon").json()["user"]


# --- userID-based ----------------------------------------------------------------------------


def test_user_id_project_creates_by_user_id(inproc: InProc) -> None:
    client = inproc("userId")
    client.post("/api/users/update", json={"userId": "u1", "dataFields": {"n": 1}})
    user = client.get("/api/users/byUserId/u1").json()["user"]
    assert "email" not in user
    assert user["dataFields"]["userListIds"] == []


def test_user_id_project_rejects_user_ids_over_52_chars(inproc: InProc) -> None:
    client = inproc("userId")
    long_id = "u" * 53
    answer = client.post(
        "/api/users/bulkUpdate", json={"users": [{"userId": long_id}, {"userId": "u" * 52}]}
    ).json()
    assert answer["failedUpdates"]["invalidUserIds"] == [long_id]
    assert answer["successCount"] == 1


def test_user_id_project_does_not_identify_by_email(inproc: InProc) -> None:
    client = inproc("userId")
    answer = client.post("/api/users/bulkUpdate", json={"users": [{"email": "a@x.com"}]}).json()
    assert answer["failedUpdates"]["notFoundEmails"] == ["a@x.com"]


def test_user_id_project_cannot_delete_by_email(inproc: InProc) -> None:
    response = inproc("userId").delete("/api/users/a@x.com")
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


# --- hybrid ----------------------------------------------------------------------------------


def test_hybrid_either_identifier_finds_the_same_user(inproc: InProc) -> None:
    client = inproc("hybrid")
    client.post("/api/users/update", json={"email": "a@x.com", "userId": "u1"})
    client.post("/api/users/update", json={"userId": "u1", "dataFields": {"n": 2}})
    assert client.get("/api/users/a@x.com").json()["user"]["dataFields"]["n"] == 2
    assert users_count(client) == 1


def test_hybrid_identifiers_of_two_users_conflict(inproc: InProc) -> None:
    client = inproc("hybrid")
    client.post(
        "/api/users/bulkUpdate",
        json={
            "users": [{"email": "a@x.com", "userId": "u1"}, {"email": "b@x.com", "userId": "u2"}]
        },
    )
    answer = client.post(
        "/api/users/bulkUpdate", json={"users": [{"email": "a@x.com", "userId": "u2"}]}
    ).json()
    assert answer["failedUpdates"]["conflictEmails"] == ["a@x.com"]
    single = client.post("/api/users/update", json={"email": "a@x.com", "userId": "u2"})
    assert single.status_code == 409


def test_hybrid_email_change_through_data_fields(inproc: InProc) -> None:
    client = inproc("hybrid")
    client.post("/api/users/update", json={"userId": "u1", "dataFields": {"email": "a@x.com"}})
    client.post("/api/users/update", json={"userId": "u1", "dataFields": {"email": "b@x.com"}})
    assert client.get("/api/users/a@x.com").json() == {}
    assert client.get("/api/users/b@x.com").json()["user"]["userId"] == "u1"


def test_hybrid_update_existing_users_only_skips_unknown(inproc: InProc) -> None:
    client = inproc("hybrid")
    list_id = client.post("/api/lists", json={"name": "L"}).json()["listId"]
    body = {"listId": list_id, "subscribers": [{"userId": "new"}], "updateExistingUsersOnly": True}
    answer = client.post("/api/lists/subscribe", json=body).json()
    assert answer["failedUpdates"]["notFoundUserIds"] == ["new"]
    assert users_count(client) == 0


# --- forget / unforget -----------------------------------------------------------------------


def test_forgotten_user_is_deleted_and_refused(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "gdpr@x.com", "dataFields": {"n": 1}})
    assert api.post("/api/users/forget", json={"email": "gdpr@x.com"}).status_code == 200
    assert api.get("/api/users/gdpr@x.com").json() == {}
    single = api.post("/api/users/update", json={"email": "gdpr@x.com"})
    answer = api.post("/api/users/bulkUpdate", json={"users": [{"email": "gdpr@x.com"}]}).json()
    assert (single.status_code, single.json()["code"]) == (409, "ForgottenUserError")
    assert answer["failedUpdates"]["forgottenEmails"] == ["gdpr@x.com"]


def test_unforgotten_user_can_be_written_again(api: httpx.Client) -> None:
    api.post("/api/users/forget", json={"email": "gdpr@x.com"})
    assert api.post("/api/users/unforget", json={"email": "gdpr@x.com"}).status_code == 200
    assert api.post("/api/users/update", json={"email": "gdpr@x.com"}).status_code == 200


def test_email_project_forgets_by_email_only(api: httpx.Client) -> None:
    response = api.post("/api/users/forget", json={"userId": "u1"})
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")
