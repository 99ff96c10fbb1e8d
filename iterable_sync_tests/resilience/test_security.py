"""Security: the API key is never written anywhere, a wrong key changes nothing, names from
syncs.yaml cannot carry SQL, and the servers listen on 127.0.0.1 only.

(The in-process logs, run metadata, warehouse tables and the emulator's call log of a plain
users run are searched in sync/test_users_sync.py; the key in a killed, faulted child
process's own output is searched in test_faults.py.)"""

import socket

import httpx
import pytest
import yaml

from iterable_sync.sync.config import SyncsFileError, parse_syncs
from iterable_sync_tests.sync.typed_harness import TypedHarness, plan_users

WRONG_KEY = "wrong-key-5f1c9e0a7b"


@pytest.fixture
def harness(warehouse, shared_emulator):
    return plan_users(warehouse, shared_emulator, 5)


def _state(harness: TypedHarness) -> list[dict]:
    return harness.query("SELECT * FROM ITERABLE_SYNC.TEST_USERS__STATE ORDER BY PK")


def _failure_text(result) -> str:
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.to_string())
                error = error.cause
    return "\n".join(texts)


def test_a_wrong_key_fails_clearly_and_changes_no_state(harness):
    assert harness.run().success
    before = _state(harness)
    harness.load([{"ID": "C0", "EMAIL": "c0@example.com", "PLAN": "premium"}])
    harness.iterable_options = {"max_attempts": 2}
    real_key = harness.emulator.api_key
    harness.emulator.api_key = WRONG_KEY  # what the resource is given, not the emulator
    try:
        result = harness.run(raise_on_error=False)
    finally:
        harness.emulator.api_key = real_key
    assert not result.success
    text = _failure_text(result)
    assert "401" in text and ("BadApiKey" in text or "API key" in text), text
    assert WRONG_KEY not in text and real_key not in text
    assert _state(harness) == before
    assert harness.user("c0@example.com")["dataFields"]["plan"] == "free"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "users; drop table x"),
        ("name", 'users"--'),
        ("model", "m; DELETE FROM ITERABLE_SYNC.SYNC_RUNS"),
        ("model", 'm" OR "1"="1'),
        ("primary_key", "ID) --"),
        ("primary_key", "ID' OR '1'='1"),
    ],
)
def test_names_that_carry_sql_are_refused_naming_the_sync_and_key(key, value):
    entry = {
        "name": "s",
        "model": "m",
        "primary_key": "ID",
        "identifiers": {"email": "EMAIL"},
        "mapping": [{"column": "PLAN", "field": "plan"}],
        key: value,
    }
    with pytest.raises(SyncsFileError) as caught:
        parse_syncs(yaml.safe_dump({"syncs": [entry]}))
    message = str(caught.value)
    assert f"{key}:" in message and ("sync 's'" in message or "sync #1" in message or key == "name")


@pytest.mark.parametrize(
    ("where", "value"),
    [("column", "PLAN; DROP TABLE x"), ("column", 'PLAN"'), ("identifier", "EMAIL) --")],
)
def test_mapped_column_names_that_carry_sql_are_refused(where, value):
    entry = {"name": "s", "model": "m", "primary_key": "ID", "identifiers": {"email": "EMAIL"}}
    if where == "column":
        entry["mapping"] = [{"column": value, "field": "plan"}]
    else:
        entry["identifiers"] = {"email": value}
    with pytest.raises(SyncsFileError) as caught:
        parse_syncs(yaml.safe_dump({"syncs": [entry]}))
    assert "sync 's'" in str(caught.value)


def _outside_address() -> str | None:
    """An address of this host that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_emulator_is_unreachable_from_outside_loopback(shared_emulator):
    address = _outside_address()
    if address is None:
        pytest.skip("this host has no non-loopback address")
    port = shared_emulator.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{address}:{port}/_emulator/health", timeout=2)
    assert httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=5).status_code in (
        200,
        401,
    )
