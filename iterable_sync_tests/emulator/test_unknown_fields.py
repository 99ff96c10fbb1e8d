"""Unrecognized fields: the project's setting "to allow or drop unrecognized fields" and the
per-request ``createNewFields`` that overrides it (Iterable's spec: ApiUserUpdateRequest,
BulkUpdateUsersRequest, TrackRequest; UserBulkUpdateListResponse and BulkTrackResponse
report ``createdFields`` and ``filteredOutFields``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from iterable_sync.emulator import EmulatorConfig, EmulatorProcess


def profile(api: httpx.Client, email: str) -> dict[str, Any]:
    return api.get(f"/api/users/{email}").json()["user"]["dataFields"]


@pytest.fixture
def dropping(shared_emulator: EmulatorProcess, api: httpx.Client) -> httpx.Client:
    """The session emulator with one known user field (``known``), set to drop the rest."""
    shared_emulator.admin.seed_users([{"email": "seed@x.com", "dataFields": {"known": 0}}])
    shared_emulator.admin.set_unknown_fields("drop")
    return api


def test_a_dropping_project_leaves_unknown_user_fields_out_and_reports_them(
    dropping: httpx.Client,
) -> None:
    body = {"users": [{"email": "a@x.com", "dataFields": {"known": 1, "novel": "n"}}]}
    answer = dropping.post("/api/users/bulkUpdate", json=body).json()
    assert (answer["successCount"], answer["failCount"]) == (1, 0)
    assert answer["filteredOutFields"] == ["novel"]
    assert answer["createdFields"] == []
    fields = profile(dropping, "a@x.com")
    assert fields["known"] == 1 and "novel" not in fields
    assert "novel" not in dropping.get("/api/users/getFields").json()["fields"]


def test_a_new_key_in_a_known_object_is_dropped_by_its_path(dropping: httpx.Client) -> None:
    dropping.post(
        "/api/users/update",
        json={"email": "a@x.com", "createNewFields": True, "dataFields": {"doc": {"a": 1}}},
    )
    body = {"users": [{"email": "a@x.com", "dataFields": {"doc": {"a": 2, "b": 3}}}]}
    answer = dropping.post("/api/users/bulkUpdate", json=body).json()
    assert answer["filteredOutFields"] == ["doc.b"]
    assert profile(dropping, "a@x.com")["doc"] == {"a": 2}


def test_switching_the_project_to_allow_creates_the_field_next_time(
    shared_emulator: EmulatorProcess, dropping: httpx.Client
) -> None:
    body = {"users": [{"email": "a@x.com", "dataFields": {"novel": "n"}}]}
    dropping.post("/api/users/bulkUpdate", json=body)
    assert shared_emulator.admin.set_unknown_fields("allow") == {"unknownFields": "allow"}
    answer = dropping.post("/api/users/bulkUpdate", json=body).json()
    assert (answer["createdFields"], answer["filteredOutFields"]) == (["novel"], [])
    assert profile(dropping, "a@x.com")["novel"] == "n"


def test_create_new_fields_true_overrides_a_dropping_project(dropping: httpx.Client) -> None:
    body = {"users": [{"email": "a@x.com", "dataFields": {"novel": 1}}], "createNewFields": True}
    answer = dropping.post("/api/users/bulkUpdate", json=body).json()
    assert (answer["createdFields"], answer["filteredOutFields"]) == (["novel"], [])
    assert profile(dropping, "a@x.com")["novel"] == 1


def test_users_update_follows_the_project_setting(dropping: httpx.Client) -> None:
    response = dropping.post(
        "/api/users/update", json={"email": "a@x.com", "dataFields": {"known": 5, "novel": 1}}
    )
    assert response.status_code == 200
    fields = profile(dropping, "a@x.com")
    assert fields["known"] == 5 and "novel" not in fields


def test_users_update_create_new_fields_false_drops_in_an_allowing_project(
    api: httpx.Client,
) -> None:
    api.post(
        "/api/users/update",
        json={"email": "a@x.com", "createNewFields": False, "dataFields": {"novel": 1}},
    )
    assert "novel" not in profile(api, "a@x.com")


def test_track_bulk_create_new_fields_is_per_event(api: httpx.Client) -> None:
    events = [
        {"email": "a@x.com", "eventName": "e", "id": "1", "dataFields": {"kept": 1}},
        {
            "email": "a@x.com",
            "eventName": "e",
            "id": "2",
            "createNewFields": False,
            "dataFields": {"dropped": 1},
        },
    ]
    answer = api.post("/api/events/trackBulk", json={"events": events}).json()
    assert (answer["successCount"], answer["failCount"]) == (2, 0)
    assert answer["createdFields"] == ["kept"]
    assert answer["filteredOutFields"] == ["dropped"]
    stored = {
        e["_id"]: e.get("dataFields", {}) for e in api.get("/api/events/a@x.com").json()["events"]
    }
    assert stored["1"] == {"kept": 1} and stored["2"] == {}


def test_track_bulk_follows_a_dropping_project(dropping: httpx.Client) -> None:
    events = [{"email": "a@x.com", "eventName": "e", "id": "1", "dataFields": {"novel": 1}}]
    answer = dropping.post("/api/events/trackBulk", json={"events": events}).json()
    assert (answer["successCount"], answer["filteredOutFields"]) == (1, ["novel"])


def test_list_subscribe_follows_a_dropping_project(dropping: httpx.Client) -> None:
    list_id = dropping.post("/api/lists", json={"name": "l"}).json()["listId"]
    body = {
        "listId": list_id,
        "subscribers": [{"email": "a@x.com", "dataFields": {"known": 2, "novel": 1}}],
    }
    answer = dropping.post("/api/lists/subscribe", json=body).json()
    assert (answer["successCount"], answer["filteredOutFields"]) == (1, ["novel"])
    fields = profile(dropping, "a@x.com")
    assert fields["known"] == 2 and "novel" not in fields


def test_reset_goes_back_to_the_start_up_setting(shared_emulator: EmulatorProcess) -> None:
    shared_emulator.admin.set_unknown_fields("drop")
    assert shared_emulator.admin.state()["unknownFields"] == "drop"
    shared_emulator.admin.reset()
    assert shared_emulator.admin.settings() == {"unknownFields": "allow"}


def test_an_unknown_setting_is_refused(shared_emulator: EmulatorProcess) -> None:
    with shared_emulator.client() as api:
        response = api.put("/_emulator/settings", json={"unknownFields": "maybe"})
    assert response.status_code == 400
    assert shared_emulator.admin.settings() == {"unknownFields": "allow"}
    with pytest.raises(ValueError):
        EmulatorConfig(unknown_fields="maybe")


@pytest.mark.emulator(rate_limits="off", unknown_fields="drop")
def test_the_launcher_starts_a_dropping_project(emulator: EmulatorProcess) -> None:
    assert emulator.admin.settings() == {"unknownFields": "drop"}
    with emulator.client() as api:
        body = {"users": [{"email": "a@x.com", "dataFields": {"novel": 1}}]}
        answer = api.post("/api/users/bulkUpdate", json=body).json()
    assert answer["filteredOutFields"] == ["novel"]
