"""``on_leave`` of a users sync: what happens to the user of a row that leaves the model.

Iterable deletes a user field sent as null (the premise of ``nulls: clear``); a user is
deleted with DELETE /api/users/{email} (spec: "Deletes a specific user by email")."""

from typing import Any

import dagster as dg
import pytest

from iterable_sync.sync.config import SyncsFileError
from iterable_sync.sync_assets import diff_key
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR", "SEATS": "BIGINT"}


def row(n: int) -> dict[str, object]:
    return {"ID": f"C{n}", "EMAIL": f"leave.{n}@example.com", "PLAN": "free", "SEATS": n}


def users(warehouse, emulator, name: str = "test_users", **keys: object) -> TypedHarness:
    sync = make(
        "users",
        mode="upsert",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "PLAN", "field": "plan"}, {"column": "SEATS", "field": "seats"}],
        **keys,
    )
    sync = sync.model_copy(update={"name": name})
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def plan_only(harness: TypedHarness) -> dict[str, Any]:
    """Run the diff asset alone (nothing is sent); its metadata."""
    result = dg.materialize(
        [harness.assets()[0]],
        resources={"warehouse": harness.warehouse, "iterable": harness.iterable()},
    )
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == diff_key(harness.sync)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_clear_removes_exactly_this_syncs_fields_from_users_who_left(warehouse, shared_emulator):
    other = make(
        "users",
        mode="upsert",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "COMPANY", "field": "company"}],
    ).model_copy(update={"name": "test_other", "model": "other_model"})
    other_harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=other)
    other_harness.load(
        [{"ID": "C1", "EMAIL": "leave.1@example.com", "COMPANY": "Acme"}],
        {"ID": "VARCHAR", "EMAIL": "VARCHAR", "COMPANY": "VARCHAR"},
    )
    assert other_harness.sync_run()["accepted"] == 1
    harness = users(warehouse, shared_emulator, on_leave="clear")
    harness.load([row(0), row(1)], COLUMNS)
    assert harness.sync_run()["accepted"] == 2

    harness.load([row(0)])
    diff = plan_only(harness)
    assert diff["removed"] == 1
    assert diff["would_clear"] == {"plan": 1, "seats": 1}
    assert "on_leave: clear" in diff["users_leaving"]
    assert harness.user("leave.1@example.com")["dataFields"]["plan"] == "free"  # not yet

    before = harness.last_seq()
    meta = harness.sync_run()
    assert (meta["removed"], meta["accepted"]) == (1, 1)
    (call,) = harness.calls_since(before)
    assert call["path"] == "/api/users/bulkUpdate"
    fields = harness.user("leave.1@example.com")["dataFields"]
    assert "plan" not in fields and "seats" not in fields
    assert fields["company"] == "Acme"  # the other sync's field stays
    assert harness.user("leave.0@example.com")["dataFields"]["plan"] == "free"
    # Done once: the next run sends nothing.
    assert harness.sync_run()["write_calls"] == 0


def test_delete_deletes_users_who_left_after_the_preview_shows_them(warehouse, shared_emulator):
    harness = users(warehouse, shared_emulator, on_leave="delete", live=True)
    harness.load([row(0), row(1), row(2)], COLUMNS)
    assert harness.sync_run()["accepted"] == 3

    harness.load([row(0)])
    diff = plan_only(harness)
    assert diff["removed"] == 2
    assert "Users who left the model**: 2, each deleted" in diff["users_leaving"]
    assert harness.user("leave.1@example.com") != {}  # the preview sent nothing

    before = harness.last_seq()
    meta = harness.sync_run()
    assert (meta["removed"], meta["accepted"]) == (2, 2)
    assert sorted(c["path"] for c in harness.calls_since(before)) == [
        "/api/users/leave.1@example.com",
        "/api/users/leave.2@example.com",
    ]
    assert harness.user("leave.1@example.com") == {}
    assert harness.user("leave.2@example.com") == {}
    assert harness.user("leave.0@example.com")["dataFields"]["plan"] == "free"


def test_keep_is_the_default_and_calls_nothing(warehouse, shared_emulator):
    harness = users(warehouse, shared_emulator)
    harness.load([row(0), row(1)], COLUMNS)
    harness.sync_run()
    harness.load([row(0)])
    before = harness.last_seq()
    assert harness.sync_run()["removed"] == 1
    assert harness.calls_since(before) == []
    assert harness.user("leave.1@example.com")["dataFields"]["plan"] == "free"


def test_delete_reaches_a_real_iterable_only_with_live_said() -> None:
    assert not make("users", identifiers={"email": "EMAIL"}, mapping=[], on_leave="delete").is_live
    assert make(
        "users", identifiers={"email": "EMAIL"}, mapping=[], on_leave="delete", live=True
    ).is_live


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"on_leave": "erase"}, "on_leave"),
        ({"on_leave": "clear", "mapping": []}, "map at least one"),
    ],
)
def test_on_leave_errors_name_the_sync_and_the_key(keys: dict, message: str) -> None:
    with pytest.raises(SyncsFileError) as caught:
        make("users", identifiers={"email": "EMAIL"}, **keys)
    assert "test_users" in str(caught.value) and message in str(caught.value)
