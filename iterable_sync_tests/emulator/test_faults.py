"""Fault injection: decided before any state change, visible to a real HTTP client."""

from __future__ import annotations

import time

import httpx
import pytest

from iterable_sync.emulator import AdminError, EmulatorProcess
from iterable_sync.emulator.app import ConnectionDropped
from iterable_sync_tests.emulator.conftest import InProc

UPDATE = "/api/users/update"


def update(api: httpx.Client, email: str) -> httpx.Response:
    return api.post(UPDATE, json={"email": email})


def test_scripted_sequence_is_consumed_one_per_request(shared_emulator: EmulatorProcess,
                                                       api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(script=["429", "500", "ok", "503"])
    statuses = [update(api, f"u{i}@x.com").status_code for i in range(5)]
    assert statuses == [429, 500, 200, 503, 200]


def test_faulted_requests_change_nothing(shared_emulator: EmulatorProcess,
                                         api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(script=["429", "500", "503"])
    for _ in range(3):
        assert update(api, "a@x.com").status_code >= 429
    assert api.get("/api/users/a@x.com").json() == {}


def test_dropped_connection_is_a_transport_error(shared_emulator: EmulatorProcess,
                                                 api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(script=["drop"])
    with pytest.raises(httpx.TransportError):
        update(api, "a@x.com")
    assert api.get("/api/users/a@x.com").json() == {}
    assert update(api, "a@x.com").status_code == 200  # the next request is served


def test_drop_after_apply_applies_then_drops(shared_emulator: EmulatorProcess,
                                             api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(script=["drop_after_apply"])
    with pytest.raises(httpx.TransportError):
        update(api, "a@x.com")
    assert api.get("/api/users/a@x.com").json()["user"]["email"] == "a@x.com"


def test_path_script_applies_only_to_its_path(shared_emulator: EmulatorProcess,
                                              api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(path_scripts={"/api/lists": ["500"]})
    assert update(api, "a@x.com").status_code == 200
    assert api.get("/api/lists").status_code == 500
    assert api.get("/api/lists").status_code == 200


def test_certain_probability_always_faults(shared_emulator: EmulatorProcess,
                                           api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(p503=1.0, paths=["/api/lists"])
    assert api.get("/api/lists").status_code == 503
    assert api.get("/api/users/getFields").status_code == 200


def test_503_is_an_html_page(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(script=["503"])
    response = api.get("/api/lists")
    assert response.headers["content-type"].startswith("text/html")


def test_added_latency(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(latency_ms=150)
    started = time.perf_counter()
    api.get("/api/lists")
    assert time.perf_counter() - started >= 0.15


def test_faults_are_logged_and_admin_is_never_faulted(shared_emulator: EmulatorProcess,
                                                      api: httpx.Client) -> None:
    shared_emulator.admin.set_faults(p500=1.0)
    update(api, "a@x.com")
    assert shared_emulator.admin.state()["users"] == 0  # admin answered despite p500=1
    call = shared_emulator.admin.calls()[-1]
    assert (call["status"], call["fault"], call["code"]) == (500, "500", "GenericError")


def test_invalid_fault_settings_are_refused(shared_emulator: EmulatorProcess) -> None:
    with pytest.raises(AdminError, match="400"):
        shared_emulator.admin.set_faults(p500=0.8, p503=0.5)
    with pytest.raises(AdminError, match="400"):
        shared_emulator.admin.set_faults(script=["explode"])


@pytest.mark.emulator(faults={"script": ["500", "ok"]}, rate_limits="off")
def test_faults_given_at_start(emulator: EmulatorProcess) -> None:
    with emulator.client() as api:
        assert [api.get("/api/lists").status_code for _ in range(3)] == [500, 200, 200]


def test_in_process_drop_raises_instead(inproc: InProc) -> None:
    # No server transport to close: the app raises, so the test client sees an error too.
    client = inproc(faults={"script": ["drop"]})
    with pytest.raises(ConnectionDropped):
        client.get("/api/lists")
    assert client.get("/api/lists").status_code == 200
