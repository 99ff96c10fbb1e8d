"""Static lists."""

from __future__ import annotations

import httpx


def make_list(api: httpx.Client, name: str = "Newsletter") -> int:
    response = api.post("/api/lists", json={"name": name})
    assert response.status_code == 200
    return response.json()["listId"]


def test_create_and_read_lists_newest_first(api: httpx.Client) -> None:
    first, second = make_list(api, "One"), make_list(api, "Two")
    lists = api.get("/api/lists").json()["lists"]
    assert [(entry["id"], entry["name"]) for entry in lists] == [(second, "Two"), (first, "One")]
    assert lists[0]["listType"] == "Standard"
    assert lists[0]["createdAt"] > 1_600_000_000_000  # epoch milliseconds


def test_create_list_without_name_is_bad_json_body(api: httpx.Client) -> None:
    response = api.post("/api/lists", json={})
    assert response.json()["params"] == {"obj.name": "Missing required field"}


def test_subscribe_counts_and_creates_users(api: httpx.Client) -> None:
    list_id = make_list(api)
    answer = api.post("/api/lists/subscribe", json={"listId": list_id, "subscribers": [
        {"email": "a@x.com"}, {"email": "user@"}, {"email": "b@x.com"}]}).json()
    assert (answer["successCount"], answer["failCount"]) == (2, 1)
    assert answer["invalidEmails"] == ["user@"]
    fields = api.get("/api/users/a@x.com").json()["user"]["dataFields"]
    assert fields["emailListIds"] == [list_id]


def test_get_users_is_plain_text_one_per_line(api: httpx.Client) -> None:
    list_id = make_list(api)
    api.post("/api/lists/subscribe", json={"listId": list_id, "subscribers": [
        {"email": "a@x.com"}, {"email": "b@x.com"}]})
    response = api.get("/api/lists/getUsers", params={"listId": list_id})
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.splitlines() == ["a@x.com", "b@x.com"]


def test_unsubscribe_of_non_member_is_not_found(api: httpx.Client) -> None:
    list_id = make_list(api)
    api.post("/api/lists/subscribe",
             json={"listId": list_id, "subscribers": [{"email": "a@x.com"}]})
    answer = api.post("/api/lists/unsubscribe", json={"listId": list_id, "subscribers": [
        {"email": "a@x.com"}, {"email": "notonlist@x.com"}]}).json()
    assert (answer["successCount"], answer["failCount"]) == (1, 1)
    assert answer["failedUpdates"]["notFoundEmails"] == ["notonlist@x.com"]
    assert api.get("/api/lists/getUsers", params={"listId": list_id}).text == ""


def test_subscribe_to_unknown_list_is_bad_params(api: httpx.Client) -> None:
    response = api.post("/api/lists/subscribe",
                        json={"listId": 999, "subscribers": [{"email": "a@x.com"}]})
    assert response.status_code == 400
    assert "error.lists.invalidListId" in response.json()["msg"]
    assert api.get("/_emulator/state").json()["users"] == 0


def test_subscribe_over_1000_is_rejected(api: httpx.Client) -> None:
    list_id = make_list(api)
    subscribers = [{"email": f"u{i}@x.com"} for i in range(1001)]
    response = api.post("/api/lists/subscribe",
                        json={"listId": list_id, "subscribers": subscribers})
    assert (response.status_code, response.json()["code"]) == (400, "BatchTooLarge")


def test_delete_list(api: httpx.Client) -> None:
    list_id = make_list(api)
    response = api.delete(f"/api/lists/{list_id}")
    assert response.json()["msg"].endswith("was successfully deleted.")
    assert api.get("/api/lists").json()["lists"] == []
