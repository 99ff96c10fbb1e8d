"""The /_emulator/ admin API and the key's confidentiality."""

from __future__ import annotations

import httpx
import pytest

from iterable_sync.emulator import EmulatorProcess


def test_missing_or_wrong_key_is_401_bad_api_key(shared_emulator: EmulatorProcess) -> None:
    for headers in ({}, {"Api-Key": "wrong"}):
        response = httpx.post(f"{shared_emulator.base_url}/api/users/update",
                              json={"email": "a@x.com"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"msg": "Invalid API key", "code": "BadApiKey",
                                    "params": None}
    assert shared_emulator.admin.state()["users"] == 0


def test_api_key_header_with_underscore_is_accepted(shared_emulator: EmulatorProcess) -> None:
    response = httpx.get(f"{shared_emulator.base_url}/api/lists",
                         headers={"Api_Key": shared_emulator.api_key})
    assert response.status_code == 200


def test_admin_endpoints_need_the_key(shared_emulator: EmulatorProcess) -> None:
    for path in ("health", "state", "calls", "faults"):
        assert httpx.get(f"{shared_emulator.base_url}/_emulator/{path}").status_code == 401


def test_call_log_records_each_call_without_the_key(shared_emulator: EmulatorProcess,
                                                    api: httpx.Client) -> None:
    api.post("/api/users/bulkUpdate", json={"users": [{"email": "a@x.com"}, {"email": "b@"}]})
    api.post("/api/users/bulkUpdate", json={"users": []})
    calls = shared_emulator.admin.calls()
    assert [(c["method"], c["path"], c["status"], c["batchSize"], c["code"]) for c in calls] == [
        ("POST", "/api/users/bulkUpdate", 200, 2, None),
        ("POST", "/api/users/bulkUpdate", 400, 0, "InvalidEmailAddressError"),
    ]
    assert all(c["latencyMs"] >= 0 and c["time"] for c in calls)
    assert shared_emulator.api_key not in str(calls)


def test_calls_since_returns_only_newer_calls(shared_emulator: EmulatorProcess,
                                              api: httpx.Client) -> None:
    api.get("/api/lists")
    last = shared_emulator.admin.calls()[-1]["seq"]
    api.get("/api/users/getFields")
    assert [c["path"] for c in shared_emulator.admin.calls(since=last)] == [
        "/api/users/getFields"]


def test_seed_users_bypasses_limits_and_batch_size(shared_emulator: EmulatorProcess) -> None:
    shared_emulator.admin.set_limits("real")
    users = [{"email": f"seed{i}@x.com", "dataFields": {"tier": "gold"}} for i in range(1500)]
    answer = shared_emulator.admin.seed_users(users)
    assert answer["successCount"] == 1500
    assert shared_emulator.admin.calls() == []  # seeding is not an API call


def test_state_summary(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"n": 1}})
    api.post("/api/events/track", json={"email": "a@x.com", "eventName": "opened"})
    list_id = api.post("/api/lists", json={"name": "L"}).json()["listId"]
    api.post("/api/lists/subscribe",
             json={"listId": list_id, "subscribers": [{"email": "a@x.com"}]})
    api.post("/api/catalogs/c1")
    state = shared_emulator.admin.state()
    assert state["users"] == 1
    assert state["fields"]["n"] == "long"
    assert state["events"] == {"total": 1, "byName": {"opened": 1}}
    assert state["lists"] == [{"id": list_id, "name": "L", "members": 1}]
    assert state["catalogs"] == [{"name": "c1", "items": 0}]


def test_reset_wipes_state_calls_and_faults(shared_emulator: EmulatorProcess,
                                            api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"n": 1}})
    shared_emulator.admin.set_faults(p500=0.5)
    shared_emulator.admin.reset()
    assert shared_emulator.admin.state()["users"] == 0
    assert "n" not in shared_emulator.admin.state()["fields"]
    assert shared_emulator.admin.calls() == []
    assert shared_emulator.admin.faults()["p500"] == 0


def test_html_page_shows_summary_and_recent_calls(shared_emulator: EmulatorProcess,
                                                  api: httpx.Client) -> None:
    api.post("/api/users/update", json={"email": "a@x.com"})
    page = api.get("/_emulator/")
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/users/update" in page.text
    assert shared_emulator.api_key not in page.text


def test_health(shared_emulator: EmulatorProcess) -> None:
    assert shared_emulator.admin.health() == {"status": "ok", "projectType": "email",
                                              "rateLimits": "off"}


@pytest.mark.emulator(rate_limits="off")
def test_key_never_reaches_argv_logs_or_state(emulator: EmulatorProcess) -> None:
    with emulator.client() as api:
        api.post("/api/users/update", json={"email": "a@x.com"})
        api.get("/api/lists", headers={"Api-Key": "wrong-key"})
    cmdline = (f"/proc/{emulator.pid}/cmdline")
    with open(cmdline, "rb") as handle:
        assert emulator.api_key.encode() not in handle.read()
    emulator.stop()
    for path in emulator.state_dir.rglob("*"):
        if path.is_file():
            assert emulator.api_key.encode() not in path.read_bytes(), path
