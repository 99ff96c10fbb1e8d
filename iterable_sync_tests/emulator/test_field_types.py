"""Field types: fixed by the first value; a mismatch rejects the whole request."""

from __future__ import annotations

import httpx
import pytest

from iterable_sync.emulator.fields import parse_date

SEED_MSG = (
    "Project 10000: The request does not have the same data types as the data previously "
    "submitted, or the input value is not within the correct range. Field 'date_field' "
    "already exists for type 'user' and has a data type of 'date' but possible types "
    "'string, keyword' in the request."
)


def bulk(api: httpx.Client, users: list[dict]) -> httpx.Response:
    return api.post("/api/users/bulkUpdate", json={"users": users})


def test_zero_date_into_date_field_matches_the_seed_error(api: httpx.Client) -> None:
    bulk(api, [{"email": "first@x.com", "dataFields": {"date_field": "2023-01-01"}}])
    response = bulk(api, [
        {"email": "a@x.com", "dataFields": {"date_field": "2023-04-19 12:15:30"}},
        {"email": "b@x.com", "dataFields": {"date_field": "0000-00-00 00:00:00"}},
    ])
    assert response.status_code == 400
    assert response.json() == {
        "msg": SEED_MSG,
        "code": "RequestFieldsTypesMismatched",
        "params": {"validationErrors": {"date_field": {
            "incomingTypes": ["string", "keyword"],
            "expectedType": "date",
            "category": "user",
            "offendingValue": ["2023-04-19 12:15:30", "0000-00-00 00:00:00"],
            "_type": "UnexpectedType",
        }}},
    }


def test_mismatch_rejects_the_whole_batch_and_changes_nothing(api: httpx.Client) -> None:
    bulk(api, [{"email": "kept@x.com", "dataFields": {"score": 1, "name": "old"}}])
    before = api.get("/api/users/kept@x.com").json()
    response = bulk(api, [
        {"email": "kept@x.com", "dataFields": {"name": "new", "brand_new": 1}},
        {"email": "fresh@x.com", "dataFields": {"score": "high"}},
    ])
    assert response.status_code == 400
    assert api.get("/api/users/kept@x.com").json() == before
    assert api.get("/api/users/fresh@x.com").json() == {}
    assert "brand_new" not in api.get("/api/users/getFields").json()["fields"]


def test_first_value_fixes_the_type_for_later_requests(api: httpx.Client) -> None:
    bulk(api, [{"email": "a@x.com", "dataFields": {"n": "text"}}])
    response = bulk(api, [{"email": "b@x.com", "dataFields": {"n": 5}}])
    assert response.status_code == 400
    error = response.json()["params"]["validationErrors"]["n"]
    assert (error["expectedType"], error["incomingTypes"]) == ("string", ["long"])
    assert api.get("/api/users/getFields").json()["fields"]["n"] == "string"


def test_first_value_in_a_batch_types_a_new_field_for_the_rest(api: httpx.Client) -> None:
    response = bulk(api, [{"email": "a@x.com", "dataFields": {"n": 1}},
                          {"email": "b@x.com", "dataFields": {"n": "one"}}])
    assert response.status_code == 400
    assert api.get("/api/users/getFields").json()["fields"].get("n") is None


def test_single_update_reports_the_offending_value_alone(api: httpx.Client) -> None:
    response = api.post("/api/users/update",
                        json={"email": "a@x.com", "dataFields": {"signupDate": "GGG"}})
    assert response.status_code == 400
    error = response.json()["params"]["validationErrors"]["signupDate"]
    assert error["offendingValue"] == "GGG"
    assert error["expectedType"] == "date"


def test_long_into_double_field_is_accepted(api: httpx.Client) -> None:
    bulk(api, [{"email": "a@x.com", "dataFields": {"ltv": 1.5}}])
    assert bulk(api, [{"email": "b@x.com", "dataFields": {"ltv": 2}}]).status_code == 200


def test_fractional_double_into_long_field_is_rejected(api: httpx.Client) -> None:
    bulk(api, [{"email": "a@x.com", "dataFields": {"orders": 2}}])
    assert bulk(api, [{"email": "b@x.com", "dataFields": {"orders": 2.0}}]).status_code == 200
    assert bulk(api, [{"email": "c@x.com", "dataFields": {"orders": 2.5}}]).status_code == 400


def test_nested_member_mismatch_is_keyed_by_dotted_path(api: httpx.Client) -> None:
    bulk(api, [{"email": "a@x.com", "dataFields": {"address": {"zip": 1000}}}])
    response = bulk(api, [{"email": "b@x.com", "dataFields": {"address": {"zip": "1000-A"}}}])
    assert list(response.json()["params"]["validationErrors"]) == ["address.zip"]


def test_event_fields_are_typed_per_event_name(api: httpx.Client) -> None:
    track = {"email": "a@x.com", "eventName": "opened", "dataFields": {"count": 1}}
    assert api.post("/api/events/track", json=track).status_code == 200
    other = {"email": "a@x.com", "eventName": "clicked", "dataFields": {"count": "many"}}
    assert api.post("/api/events/track", json=other).status_code == 200
    again = {**track, "dataFields": {"count": "many"}}
    response = api.post("/api/events/track", json=again)
    assert response.status_code == 400
    assert response.json()["params"]["validationErrors"]["count"]["category"] == "event"


@pytest.mark.parametrize("text", [
    "2020-04-13", "2020-04-13 13:37:19", "2020-04-13 13:37:19 -04:00",
    "2020-04-13T13:37:19.039-04:00", "2020-04-13T13:37:19.039Z",
])
def test_documented_date_formats_are_dates(text: str) -> None:
    assert parse_date(text) is not None


@pytest.mark.parametrize("text", [
    "2024-11-25T13:37:19.039", "2024-11-25T13:37:19.039 00:00", "2024-11-25T13:37:19Z",
    "2024/11/25T13:37:19.039Z", "2024-11-25 13:37:19.039Z", "2020-04-13 13:37:19.039",
    "0000-00-00 00:00:00", "2024-02-30",
])
def test_other_date_shapes_are_strings(text: str) -> None:
    assert parse_date(text) is None
