"""State lives in SQLite under the state dir: it survives restarts and parallel writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from iterable_sync.emulator import EmulatorConfig, EmulatorProcess, create_app
from iterable_sync.emulator.store import StateConflictError

THREADS, REQUESTS, USERS = 8, 20, 25


@pytest.mark.emulator(rate_limits="off")
def test_state_survives_a_restart(emulator: EmulatorProcess) -> None:
    with emulator.client() as api:
        api.post("/api/users/update", json={"email": "a@x.com", "dataFields": {"n": 1}})
        list_id = api.post("/api/lists", json={"name": "L"}).json()["listId"]
        api.post("/api/lists/subscribe", json={"listId": list_id,
                                               "subscribers": [{"email": "a@x.com"}]})
        api.post("/api/catalogs/c1")
    base_url = emulator.base_url
    emulator.restart()
    assert emulator.base_url == base_url
    with emulator.client() as api:
        assert api.get("/api/users/a@x.com").json()["user"]["dataFields"]["n"] == 1
        assert api.get("/api/lists/getUsers", params={"listId": list_id}).text == "a@x.com\n"
        assert api.get("/api/users/getFields").json()["fields"]["n"] == "long"
        # A type fixed before the restart is still fixed after it.
        response = api.post("/api/users/update", json={"email": "b@x.com",
                                                       "dataFields": {"n": "text"}})
        assert response.status_code == 400
    assert (emulator.state_dir / "state.sqlite3").exists()


def test_a_state_dir_keeps_its_project_type(tmp_path: Path) -> None:
    create_app(EmulatorConfig(api_key="k", project_type="email", state_dir=tmp_path))
    with pytest.raises(StateConflictError, match="'email' project"):
        create_app(EmulatorConfig(api_key="k", project_type="userId", state_dir=tmp_path))


def test_parallel_bulk_requests_keep_exact_counts(shared_emulator: EmulatorProcess) -> None:
    def worker(thread: int) -> list[int]:
        statuses = []
        with shared_emulator.client(timeout=30) as api:
            for request in range(REQUESTS):
                users = [{"email": f"t{thread}-r{request}-u{u}@x.com",
                          "dataFields": {"thread": thread, "counter": request}}
                         for u in range(USERS)]
                # Every request also rewrites one user all threads share.
                users.append({"email": "shared@x.com", "dataFields": {f"t{thread}": request}})
                response = api.post("/api/users/bulkUpdate", json={"users": users})
                statuses.append(response.json()["successCount"])
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    assert all(count == USERS + 1 for counts in results for count in counts)
    state = shared_emulator.admin.state()
    assert state["users"] == THREADS * REQUESTS * USERS + 1
    with shared_emulator.client() as api:
        shared = api.get("/api/users/shared@x.com").json()["user"]["dataFields"]
        sample = api.get("/api/users/t3-r7-u9@x.com").json()["user"]["dataFields"]
    assert {shared[f"t{t}"] for t in range(THREADS)} == {REQUESTS - 1}
    assert (sample["thread"], sample["counter"]) == (3, 7)
    calls = [c for c in shared_emulator.admin.calls(limit=10_000)
             if c["path"] == "/api/users/bulkUpdate"]
    assert len(calls) == THREADS * REQUESTS
    assert {c["batchSize"] for c in calls} == {USERS + 1}


def test_parallel_single_updates_all_land(shared_emulator: EmulatorProcess) -> None:
    def worker(thread: int) -> None:
        with httpx.Client(base_url=shared_emulator.base_url,
                          headers={"Api-Key": shared_emulator.api_key}) as api:
            for n in range(25):
                api.post("/api/users/update", json={"email": f"s{thread}-{n}@x.com"})

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    assert shared_emulator.admin.state()["users"] == THREADS * 25
