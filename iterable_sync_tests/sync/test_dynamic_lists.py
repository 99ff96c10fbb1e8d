"""Dynamic lists end to end: one list per value of a column, members moved when it changes,
read back through Iterable's list-members endpoint (``GET /api/lists/getUsers``: "Get all
users within a list", one email per line)."""

import pytest

from iterable_sync.sync.config import SyncsFileError
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR"}


def row(n: int, plan: str | None) -> dict[str, object]:
    return {"ID": f"C{n}", "EMAIL": f"member.{n}@example.com", "PLAN": plan}


def harness_for(warehouse, emulator) -> TypedHarness:
    sync = make(
        "list",
        identifiers={"email": "EMAIL"},
        list_per_value_of="PLAN",
        list_name="Plan {value}",
    )
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def listed(harness: TypedHarness) -> dict[str, set[str]]:
    """Each list of the sync (by name) → its members, read through lists/getUsers."""
    kept = harness.query("SELECT NAME, OBJECT_ID FROM ITERABLE_SYNC.SYNC_OBJECTS")
    found = {}
    with harness.emulator.client() as client:
        for entry in kept:
            reply = client.get("/api/lists/getUsers", params={"listId": entry["OBJECT_ID"]})
            found[entry["NAME"]] = set(reply.text.split())
    return found


def test_each_value_gets_its_own_list_created_once(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator)
    harness.load([row(0, "free"), row(1, "premium"), row(2, "free")], COLUMNS)
    before = harness.last_seq()
    assert harness.sync_run()["accepted"] == 3
    assert listed(harness) == {
        "Plan free": {"member.0@example.com", "member.2@example.com"},
        "Plan premium": {"member.1@example.com"},
    }
    paths = sorted(c["path"] for c in harness.calls_since(before))
    assert paths == ["/api/lists"] * 2 + ["/api/lists/subscribe"] * 2

    # A rerun with nothing changed writes nothing; a new value adds one list only.
    before = harness.last_seq()
    meta = harness.sync_run()
    assert meta["write_calls"] == 0 and harness.calls_since(before) == []
    harness.load([row(0, "free"), row(1, "premium"), row(2, "free"), row(3, "ultimate")])
    harness.sync_run()
    assert [e["name"] for e in shared_emulator.admin.state()["lists"]].count("Plan free") == 1
    assert listed(harness)["Plan ultimate"] == {"member.3@example.com"}


def test_a_changed_value_moves_the_row_to_the_new_list(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator)
    harness.load([row(0, "free"), row(1, "free")], COLUMNS)
    harness.sync_run()
    before = harness.last_seq()
    harness.load([row(0, "premium"), row(1, "free")])
    meta = harness.sync_run()
    assert (meta["changed"], meta["accepted"]) == (1, 1)
    assert listed(harness) == {
        "Plan free": {"member.1@example.com"},
        "Plan premium": {"member.0@example.com"},
    }
    # The run's metadata names each list it touched, with the rows sent and leaving.
    ids = {e["NAME"]: int(e["OBJECT_ID"]) for e in harness.query(
        "SELECT NAME, OBJECT_ID FROM ITERABLE_SYNC.SYNC_OBJECTS")}  # fmt: skip
    assert meta["lists"] == {
        "Plan free": {"list_id": ids["Plan free"], "sent": 0, "leaving": 1},
        "Plan premium": {"list_id": ids["Plan premium"], "sent": 1, "leaving": 0},
    }
    # Subscribed to the new list first, then unsubscribed from the old one.
    paths = [c["path"] for c in harness.calls_since(before)]
    assert paths == ["/api/lists", "/api/lists/subscribe", "/api/lists/unsubscribe"]
    assert harness.sync_run()["write_calls"] == 0


def test_a_row_leaving_the_model_leaves_its_list(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator)
    harness.load([row(0, "free"), row(1, "premium")], COLUMNS)
    harness.sync_run()
    harness.load([row(0, "free")])
    meta = harness.sync_run()
    assert (meta["removed"], meta["accepted"]) == (1, 1)
    assert listed(harness) == {"Plan free": {"member.0@example.com"}, "Plan premium": set()}


def test_a_null_value_is_in_no_list(warehouse, shared_emulator):
    """Null: no list is created or subscribed; a row whose value goes null leaves its list
    and is not a row error (state records it in no list, so a rerun writes nothing)."""
    harness = harness_for(warehouse, shared_emulator)
    harness.load([row(0, None), row(1, "free")], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["failed"]) == (2, 0)
    assert listed(harness) == {"Plan free": {"member.1@example.com"}}
    harness.load([row(0, None), row(1, None)])
    meta = harness.sync_run()
    assert (meta["changed"], meta["accepted"], meta["failed"]) == (1, 1, 0)
    assert listed(harness) == {"Plan free": set()}
    assert harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS") == []
    assert harness.sync_run()["write_calls"] == 0


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"list_per_value_of": "PLAN", "list_name": "Plans"}, "list_name with {value}"),
        ({"list_per_value_of": "PLAN"}, "list_name with {value}"),
        ({"list_per_value_of": "PLAN", "list_id": 7}, "remove list_id"),
        ({"list_name": "Plan {value}"}, "set list_per_value_of"),
        ({"list_per_value_of": "not a column!", "list_name": "P {value}"}, "list_per_value_of"),
    ],
)
def test_a_wrong_dynamic_list_names_the_sync_and_the_key(keys, message):
    with pytest.raises(SyncsFileError) as caught:
        make("list", identifiers={"email": "EMAIL"}, **keys)
    assert "sync 'test_list'" in str(caught.value) and message in str(caught.value)


def test_a_static_list_keeps_its_target_tag():
    """Adding the key changes nothing for a static list: its rows are not sent again."""
    static = make("list", identifiers={"email": "EMAIL"}, list_name="Members")
    assert static.target_shape() == {"type": "list", "list_name": "Members", "list_id": None}
