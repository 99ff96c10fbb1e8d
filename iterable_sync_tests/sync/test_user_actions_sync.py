"""Email changes and deletions: one-shot actions, fired when a key first appears."""

import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync_tests.fixtures.emulator import TEST_API_KEY
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "NEW_EMAIL": "VARCHAR"}


def row(n: int, **overrides: object) -> dict[str, object]:
    return {"ID": f"K{n}", "EMAIL": f"old.{n}@example.com", "USER_ID": f"u{n}",
            "NEW_EMAIL": f"new.{n}@example.com", **overrides}  # fmt: skip


def seed(emulator, count: int) -> None:
    emulator.admin.seed_users(
        [{"email": f"old.{n}@example.com", "userId": f"u{n}"} for n in range(count)]
    )


def action_paths(harness: TypedHarness, since: int = 0) -> list[str]:
    return sorted(c["path"] for c in harness.calls_since(since))


@pytest.mark.parametrize(("match", "resent"), [("userId", True), ("email", False)])
def test_an_email_change_is_sent_again_only_when_matched_by_user_id(
    warehouse, shared_emulator, match, resent
):
    seed(shared_emulator, 3)
    column = {"userId": "USER_ID", "email": "EMAIL"}[match]
    sync = make(
        "email_updates", match=match, identifiers={match: column}, new_email_column="NEW_EMAIL"
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(n) for n in range(3)], COLUMNS)
    assert harness.sync_run()["accepted"] == 3
    assert harness.user("new.1@example.com")["userId"] == "u1"
    assert action_paths(harness) == ["/api/users/updateEmail"] * 3

    # The record's new email changes again. Matched by email, the old address no longer
    # names the user and the record is not new: nothing is sent.
    before = harness.last_seq()
    harness.load([row(0), row(1, NEW_EMAIL="newer.1@example.com"), row(2)])
    meta = harness.sync_run()
    assert meta["sent"] == (1 if resent else 0)
    assert action_paths(harness, before) == (["/api/users/updateEmail"] if resent else [])
    changed = harness.user("newer.1@example.com")
    assert (changed.get("userId") == "u1") is resent


def test_delete_fires_once_per_key_even_when_the_key_comes_back(warehouse, shared_emulator):
    seed(shared_emulator, 4)
    sync = make("deletions", action="delete", identifiers={"email": "EMAIL"})
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(0), row(1)], COLUMNS)
    assert harness.sync_run()["accepted"] == 2
    assert shared_emulator.admin.state()["users"] == 2
    # K1 leaves and comes back, K2 is new: only K2 is acted on.
    harness.load([row(0)])
    harness.sync_run()
    before = harness.last_seq()
    harness.load([row(0), row(1), row(2)])
    meta = harness.sync_run()
    assert (meta["added"], meta["sent"]) == (1, 1)
    calls = harness.calls_since(before)
    assert [(c["method"], c["path"]) for c in calls] == [("DELETE", "/api/users/old.2@example.com")]


def test_forget_then_unforget_each_fire_once_per_key(warehouse, shared_emulator):
    seed(shared_emulator, 2)
    rows = [row(0), row(1)]
    forget = TypedHarness(
        warehouse=warehouse,
        emulator=shared_emulator,
        sync=make("deletions", name="forget", action="forget", identifiers={"email": "EMAIL"}),
    )
    forget.load(rows, COLUMNS)
    assert forget.sync_run()["accepted"] == 2
    assert shared_emulator.admin.state()["forgotten"] == 2
    assert forget.sync_run()["write_calls"] == 0

    unforget = TypedHarness(
        warehouse=warehouse,
        emulator=shared_emulator,
        sync=make("deletions", name="unforget", action="unforget", identifiers={"email": "EMAIL"}),
    )
    unforget.load(rows, COLUMNS)
    assert unforget.sync_run()["accepted"] == 2
    assert shared_emulator.admin.state()["forgotten"] == 0
    assert unforget.sync_run()["write_calls"] == 0


def test_keys_past_the_daily_forget_cap_are_deferred_never_dropped(warehouse, shared_emulator):
    seed(shared_emulator, 5)
    sync = make("deletions", action="forget", identifiers={"email": "EMAIL"}, daily_limit=2)
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(n) for n in range(5)], COLUMNS)
    meta = harness.sync_run()
    assert (meta["added"], meta["accepted"], meta["deferred"], meta["failed"]) == (5, 2, 3, 0)
    # The day's two are used: the next run waits, without a call.
    meta = harness.sync_run()
    assert (meta["added"], meta["deferred"], meta["write_calls"]) == (3, 3, 0)
    assert shared_emulator.admin.state()["forgotten"] == 2

    # A bigger allowance (or the next day): the deferred keys go out, each once.
    harness.sync = make("deletions", action="forget", identifiers={"email": "EMAIL"})
    meta = harness.sync_run()
    assert (meta["accepted"], meta["deferred"]) == (3, 0)
    assert shared_emulator.admin.state()["forgotten"] == 5
    forgets = [c for c in harness.write_calls() if c["path"] == "/api/users/forget"]
    assert len(forgets) == 5


@pytest.mark.parametrize("project_type", ["userId", "hybrid"])
def test_an_email_change_outside_email_projects_goes_through_users_update(
    warehouse, tmp_path, project_type
):
    """Spec, users/updateEmail: "To update an email in a userID-based or hybrid project,
    use POST /api/users/update". Support article 217502386 ("Updating a User's Email
    Address or User ID"): {"userId": "oldUserId", "dataFields": {"email": "new@..."}}."""
    with EmulatorProcess(
        TEST_API_KEY, project_type=project_type, state_dir=tmp_path / "emulator",
        rate_limits="off",
    ) as emulator:  # fmt: skip
        seed(emulator, 2)
        sync = make(
            "email_updates", match="userId", identifiers={"userId": "USER_ID"},
            new_email_column="NEW_EMAIL",
        )  # fmt: skip
        harness = TypedHarness(
            warehouse=warehouse, emulator=emulator, sync=sync, project_type=project_type
        )
        harness.load([row(n) for n in range(2)] + [row(9)], COLUMNS)
        meta = harness.sync_run()
        assert (meta["accepted"], meta["not_found"]) == (2, 1)  # u9 is not created
        writes = harness.calls_since(0)
        assert [(c["path"], c["keys"]) for c in writes] == [
            ("/api/users/update", ["dataFields.email", "userId"])
        ] * 2
        with emulator.client() as client:
            user = client.get("/api/users/byUserId/u1").json()["user"]
        assert user["email"] == "new.1@example.com"
        assert emulator.admin.state()["users"] == 2


def test_an_email_change_matched_by_email_in_a_hybrid_project_goes_through_users_update(
    warehouse, tmp_path
):
    """Spec, users/updateEmail: "Use this endpoint with email-based projects. To update an
    email in a userID-based or hybrid project, use POST /api/users/update"; a hybrid
    project identifies users by email too (article 9216719179796)."""
    with EmulatorProcess(
        TEST_API_KEY, project_type="hybrid", state_dir=tmp_path / "emulator", rate_limits="off"
    ) as emulator:
        seed(emulator, 1)
        sync = make(
            "email_updates", match="email", identifiers={"email": "EMAIL"},
            new_email_column="NEW_EMAIL",
        )  # fmt: skip
        harness = TypedHarness(
            warehouse=warehouse, emulator=emulator, sync=sync, project_type="hybrid"
        )
        harness.load([row(0), row(9)], COLUMNS)
        meta = harness.sync_run()
        assert (meta["accepted"], meta["not_found"]) == (1, 1)
        writes = harness.calls_since(0)
        assert [(c["path"], c["keys"]) for c in writes] == [
            ("/api/users/update", ["dataFields.email", "email"])
        ]
        assert harness.user("new.0@example.com")["userId"] == "u0"
        assert emulator.admin.state()["users"] == 1
