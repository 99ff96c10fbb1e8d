"""Nulls never silently wipe data: Iterable deletes a user field sent as null, so a null in
the model is left out of the payload unless the sync says ``nulls: clear`` — and then only
a value that turned null since the last successful send is cleared."""

from typing import Any

import dagster as dg

from iterable_sync.metadata import table_rows
from iterable_sync.sync_assets import diff_key
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR", "SEATS": "INTEGER"}


def row(n: int, **overrides: object) -> dict[str, object]:
    return {"ID": f"K{n}", "EMAIL": f"user.{n}@example.com", "PLAN": "premium", "SEATS": n,
            **overrides}  # fmt: skip


def users_harness(warehouse: Any, emulator: Any, **keys: Any) -> TypedHarness:
    sync = make(
        "users",
        mode="upsert",
        match="email",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "PLAN", "field": "plan"}, {"column": "SEATS", "field": "seats"}],
        **keys,
    )
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def diff_metadata(result: dg.ExecuteInProcessResult, harness: TypedHarness) -> dict[str, Any]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == diff_key(harness.sync)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_a_value_turning_null_is_not_wiped_by_default(warehouse, shared_emulator):
    harness = users_harness(warehouse, shared_emulator)
    harness.load([row(n) for n in range(10)], COLUMNS)
    harness.sync_run()
    harness.load([row(n, PLAN=None if n == 3 else "premium") for n in range(10)])

    meta = harness.sync_run()

    assert (meta["changed"], meta["sent"]) == (0, 0)
    assert harness.user("user.3@example.com")["dataFields"]["plan"] == "premium"


def test_the_clear_policy_clears_a_value_that_turned_null(warehouse, shared_emulator):
    harness = users_harness(warehouse, shared_emulator, nulls="clear")
    harness.load([row(n) for n in range(10)], COLUMNS)
    harness.sync_run()
    harness.load([row(n, PLAN=None if n == 3 else "premium") for n in range(10)])

    result = harness.run()

    diff = diff_metadata(result, harness)
    assert (diff["changed"], diff["sent_field_cleared"]) == (1, 1)
    assert diff["would_clear"] == {"plan": 1}
    assert table_rows(diff["fields_cleared"]) == [{"FIELD": "plan", "ROWS": 1}]
    assert harness.sync_metadata(result, harness.sync)["accepted"] == 1
    fields = harness.user("user.3@example.com")["dataFields"]
    assert "plan" not in fields and fields["seats"] == 3


def test_the_clear_policy_never_clears_a_field_it_did_not_send(warehouse, shared_emulator):
    # Iterable has a plan the model never sent; the model's null must not delete it.
    shared_emulator.admin.seed_users([{"email": "user.1@example.com", "dataFields": {"plan": "x"}}])
    harness = users_harness(warehouse, shared_emulator, nulls="clear")
    harness.load([row(1, PLAN=None)], COLUMNS)

    meta = harness.sync_run()

    assert meta["accepted"] == 1
    fields = harness.user("user.1@example.com")["dataFields"]
    assert (fields["plan"], fields["seats"]) == ("x", 1)


def test_the_emulator_deletes_a_field_sent_as_null(shared_emulator):
    # What makes the trap real: Iterable (and so the emulator) deletes a field sent as null.
    shared_emulator.admin.seed_users([{"email": "a@example.com", "dataFields": {"plan": "x"}}])
    with shared_emulator.client() as client:
        body = {"users": [{"email": "a@example.com", "dataFields": {"plan": None}}]}
        client.post("/api/users/bulkUpdate", json=body).raise_for_status()
        user = client.get("/api/users/a@example.com").json()["user"]
    assert "plan" not in user["dataFields"]


def test_a_kept_value_coming_back_is_not_sent_again(warehouse, shared_emulator):
    # Under `keep`, Iterable still holds a value that went null in the model. When the row
    # is sent for another reason meanwhile (without that field), state must still record
    # the value Iterable holds, or its return would look like a field added and be resent.
    harness = users_harness(warehouse, shared_emulator)
    harness.load([row(n) for n in range(10)], COLUMNS)
    harness.sync_run()
    harness.load([row(n, PLAN=None if n == 3 else "premium") for n in range(10)])
    assert harness.sync_run()["sent"] == 0
    harness.load([row(n, PLAN=None if n == 3 else "premium", SEATS=n + 100) for n in range(10)])
    assert harness.sync_run()["sent"] == 10
    fields = harness.user("user.3@example.com")["dataFields"]
    assert (fields["plan"], fields["seats"]) == ("premium", 103)
    harness.load([row(n, SEATS=n + 100) for n in range(10)])  # the plan is back
    seq = harness.last_seq()

    meta = harness.sync_run()

    assert (meta["changed"], meta["sent"], meta["write_calls"]) == (0, 0, 0)
    assert harness.calls_since(seq) == []
