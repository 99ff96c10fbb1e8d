"""Static lists end to end: rows entering the model are subscribed, rows leaving it removed."""

from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "PLAN": "VARCHAR"}


def row(n: int, **overrides: object) -> dict[str, object]:
    return {"ID": f"C{n}", "EMAIL": f"member.{n}@example.com", "USER_ID": f"u{n}",
            "PLAN": "free", **overrides}  # fmt: skip


def members(harness: TypedHarness) -> dict[str, int]:
    return {entry["name"]: entry["members"] for entry in harness.emulator.admin.state()["lists"]}


def list_harness(warehouse, emulator, **keys: object) -> TypedHarness:
    sync = make(
        "list",
        identifiers={"email": "EMAIL", "userId": "USER_ID"},
        mapping=[{"column": "PLAN", "field": "plan"}],
        **keys,
    )
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def test_a_row_leaving_the_model_is_removed_from_the_list(warehouse, shared_emulator):
    harness = list_harness(warehouse, shared_emulator)
    harness.load([row(n) for n in range(4)], COLUMNS)
    meta = harness.sync_run()
    assert meta["accepted"] == 4
    # Created on the first run, named after the model, its id kept in the warehouse.
    assert members(harness) == {"test_model": 4}
    (kept,) = harness.query("SELECT * FROM ITERABLE_SYNC.SYNC_OBJECTS")
    assert (kept["KIND"], kept["NAME"]) == ("list", "test_model")
    assert harness.user("member.2@example.com")["dataFields"]["plan"] == "free"

    before = harness.last_seq()
    harness.load([row(0), row(1), row(3)])
    meta = harness.sync_run()
    assert (meta["removed"], meta["accepted"], meta["write_calls"]) == (1, 1, 1)
    calls = harness.calls_since(before)
    assert [c["path"] for c in calls] == ["/api/lists/unsubscribe"]
    assert members(harness) == {"test_model": 3}
    with harness.emulator.client() as client:
        listed = client.get("/api/lists/getUsers", params={"listId": kept["OBJECT_ID"]}).text
    assert "member.2@example.com" not in listed and "member.3@example.com" in listed

    # Back in the model: subscribed again, to the same list.
    harness.load([row(n) for n in range(4)])
    assert harness.sync_run()["accepted"] == 1
    assert members(harness) == {"test_model": 4}


def test_an_existing_list_by_id_is_used_and_never_created(warehouse, shared_emulator):
    with shared_emulator.client() as client:
        list_id = client.post("/api/lists", json={"name": "Hand made"}).json()["listId"]
    harness = list_harness(warehouse, shared_emulator, list_id=list_id)
    harness.load([row(1), row(2)], COLUMNS)
    before = harness.last_seq()
    assert harness.sync_run()["accepted"] == 2
    assert members(harness) == {"Hand made": 2}
    assert [c["path"] for c in harness.calls_since(before)] == ["/api/lists/subscribe"]


def test_matched_by_user_id_in_an_email_project_creates_no_placeholder_user(
    warehouse, shared_emulator
):
    """A list sync has no mode, so it never sends preferUserId ("Whether or not a new user
    should be created if the request includes a userId that doesn't yet exist", spec
    OptionalApiUser): an unknown userId comes back in notFoundUserIds, not as a new user."""
    shared_emulator.admin.seed_users([{"email": "member.0@example.com", "userId": "u0"}])
    sync = make("list", match="userId", identifiers={"userId": "USER_ID"})
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(0), row(1)], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["not_found"]) == (1, 1)
    assert shared_emulator.admin.state()["users"] == 1
    assert members(harness) == {"test_model": 1}
