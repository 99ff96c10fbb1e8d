"""Users endpoints over HTTP (email-based project): upserts, reads, bulk answers, deletes."""

from __future__ import annotations

import json

import httpx


def get_user(api: httpx.Client, email: str) -> dict:
    response = api.get(f"/api/users/{email}")
    assert response.status_code == 200
    return response.json()


def test_update_creates_user_readable_by_email(api: httpx.Client) -> None:
    response = api.post("/api/users/update", json={"email": "Ann@Example.com",
                                                    "dataFields": {"plan": "pro"}})
    assert response.status_code == 200
    assert response.json() == {"msg": "", "code": "Success", "params": None}
    user = get_user(api, "ann@example.com")["user"]
    assert user["email"] == "ann@example.com"
    assert user["dataFields"]["plan"] == "pro"
    assert user["dataFields"]["signupSource"] == "API"


def test_update_keeps_omitted_fields_and_null_removes(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"a": 1, "b": 2}})
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"a": None, "c": 3}})
    fields = get_user(api, "a@x.com")["user"]["dataFields"]
    assert "a" not in fields
    assert (fields["b"], fields["c"]) == (2, 3)


def test_objects_replace_unless_merge_nested_objects(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com",
                                        "dataFields": {"s": {"mobile": True}, "t": {"x": 1}}})
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"s": {"email": True}}})
    api.post("/api/users/update", json={"email": "a@x.com", "mergeNestedObjects": True,
                                        "dataFields": {"t": {"y": 2}}})
    fields = get_user(api, "a@x.com")["user"]["dataFields"]
    assert fields["s"] == {"email": True}
    assert fields["t"] == {"x": 1, "y": 2}


def test_bulk_update_reports_per_user_failures(api: httpx.Client) -> None:
    body = {"users": [{"email": "ok@x.com", "dataFields": {"n": 1}}, {"email": "bad@"},
                      {"userId": "nobody"}]}
    answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert answer["successCount"] == 1
    assert answer["failCount"] == 2
    assert answer["failedUpdates"]["invalidEmails"] == ["bad@"]
    assert answer["failedUpdates"]["notFoundUserIds"] == ["nobody"]
    assert answer["invalidEmails"] == ["bad@"]
    assert answer["createdFields"] == ["n"]


def test_bulk_update_same_user_twice_in_one_batch_merges_in_order(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"keep": 1}})
    body = {"users": [{"email": "a@x.com", "dataFields": {"n": 1}},
                      {"email": "a@x.com", "dataFields": {"n": 2, "m": 3}}]}
    assert api.post("/api/users/bulkUpdate", json=body).json()["successCount"] == 2
    fields = get_user(api, "a@x.com")["user"]["dataFields"]
    assert (fields["keep"], fields["n"], fields["m"]) == (1, 2, 3)


def test_bulk_update_with_empty_users_is_400(api: httpx.Client) -> None:
    response = api.post("/api/users/bulkUpdate", json={"users": []})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidEmailAddressError"


def test_bulk_update_over_1000_users_is_rejected(api: httpx.Client) -> None:
    users = [{"email": f"u{i}@x.com"} for i in range(1001)]
    response = api.post("/api/users/bulkUpdate", json={"users": users})
    assert response.status_code == 400
    assert response.json()["code"] == "BatchTooLarge"
    assert api.get("/_emulator/state").json()["users"] == 0


def test_bulk_update_body_over_4mb_is_413(api: httpx.Client) -> None:
    users = [{"email": f"u{i}@x.com", "dataFields": {"blob": "x" * 5000}} for i in range(900)]
    response = api.post("/api/users/bulkUpdate", json={"users": users})
    assert response.status_code == 413
    assert response.json()["code"] == "BatchTooLarge"


def test_unparseable_json_is_bad_json_body(api: httpx.Client) -> None:
    response = api.post("/api/users/update", content=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "BadJsonBody"


def test_wrong_json_type_names_the_path(api: httpx.Client) -> None:
    body = {"users": [{"email": "a@x.com"}, {"email": "b@x.com", "preferUserId": "abc"}]}
    response = api.post("/api/users/bulkUpdate", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "BadJsonBody"
    assert response.json()["params"] == {"obj.users[1].preferUserId": "Boolean value expected"}
    assert api.get("/_emulator/state").json()["users"] == 0


def test_unknown_user_reads_as_empty_object(api: httpx.Client) -> None:
    for path in ("/api/users/nobody@x.com", "/api/users/byUserId/nobody",
                 "/api/users/getByEmail?email=nobody@x.com", "/api/users/byUserId?userId=n"):
        response = api.get(path)
        assert (response.status_code, response.json()) == (200, {}), path


def test_get_by_user_id_and_query_forms_find_the_user(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "userId": "u-1"})
    by_path = api.get("/api/users/byUserId/u-1").json()
    by_query = api.get("/api/users/byUserId", params={"userId": "u-1"}).json()
    by_email = api.get("/api/users/getByEmail", params={"email": "a@x.com"}).json()
    assert by_path == by_query == by_email
    assert by_path["user"]["userId"] == "u-1"


def test_invalid_email_in_single_calls_is_400(api: httpx.Client) -> None:
    read = api.get("/api/users/000")
    write = api.post("/api/users/update", json={"email": "user @x.com"})
    assert (read.status_code, read.json()["msg"]) == (400, "Invalid email: 000")
    assert write.status_code == 400
    assert write.json()["code"] == "InvalidEmailAddressError"


def test_update_email_moves_the_profile(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "old@x.com", "dataFields": {"n": 1}})
    response = api.post("/api/users/updateEmail",
                        json={"currentEmail": "old@x.com", "newEmail": "new@x.com"})
    assert response.status_code == 200
    assert get_user(api, "old@x.com") == {}
    assert get_user(api, "new@x.com")["user"]["dataFields"]["n"] == 1


def test_update_email_to_a_taken_email_is_409(api: httpx.Client) -> None:
    api.post("/api/users/bulkUpdate", json={"users": [{"email": "a@x.com"}, {"email": "b@x.com"}]})
    response = api.post("/api/users/updateEmail",
                        json={"currentEmail": "a@x.com", "newEmail": "b@x.com"})
    assert (response.status_code, response.json()["code"]) == (409, "EmailAlreadyExists")


def test_delete_by_email_removes_the_user(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com"})
    assert api.delete("/api/users/a@x.com").json()["code"] == "Success"
    assert get_user(api, "a@x.com") == {}


def test_delete_by_user_id_removes_every_holder(api: httpx.Client) -> None:
    # userIds are not unique in email-based projects.
    api.post("/api/users/bulkUpdate", json={"users": [{"email": "a@x.com", "userId": "dup"},
                                                      {"email": "b@x.com", "userId": "dup"}]})
    response = api.delete("/api/users/byUserId/dup")
    assert response.json()["msg"] == "All users associated with dup were successfully deleted"
    assert api.get("/_emulator/state").json()["users"] == 0


def test_delete_of_unknown_user_id_is_400_with_not_found(api: httpx.Client) -> None:
    response = api.delete("/api/users/byUserId/ghost")
    assert response.status_code == 400
    assert response.json()["params"]["failedUpdates"]["notFoundUserIds"] == ["ghost"]


def test_get_fields_reports_types_flat_and_dotted(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {
        "name": "A", "ltv": 1.5, "orders": 3, "vip": True, "since": "2024-01-02",
        "address": {"zip": "1000"}, "tags": ["a", "b"], "pets": [{"age": 2}]}})
    fields = api.get("/api/users/getFields").json()["fields"]
    expected = {"name": "string", "ltv": "double", "orders": "long", "vip": "boolean",
                "since": "date", "address": "object", "address.zip": "string",
                "tags": "string", "pets": "object", "pets.age": "long", "email": "string"}
    assert {k: fields[k] for k in expected} == expected


def test_create_new_fields_false_filters_unknown_fields(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"known": 1}})
    body = {"users": [{"email": "a@x.com", "dataFields": {"known": 2, "novel": 1}}],
            "createNewFields": False}
    answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert answer["filteredOutFields"] == ["novel"]
    fields = get_user(api, "a@x.com")["user"]["dataFields"]
    assert fields["known"] == 2
    assert "novel" not in fields


def test_user_id_in_data_fields_sets_the_user_id(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"userId": "u9"}})
    assert api.get("/api/users/byUserId/u9").json()["user"]["email"] == "a@x.com"


def test_profile_dates_read_back_in_iterable_format(api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com",
                                        "dataFields": {"seen": "2020-08-19T20:50:04.000Z"}})
    fields = get_user(api, "a@x.com")["user"]["dataFields"]
    assert fields["seen"] == "2020-08-19 20:50:04 +00:00"
    assert json.dumps(fields["signupDate"]).endswith('+00:00"')
