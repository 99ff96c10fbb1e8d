"""Identity collisions are held back (or block the sync) before anything is sent."""

import dagster as dg
import pytest
import yaml

from iterable_sync.checks.identity import IDENTITIES_UNAMBIGUOUS
from iterable_sync.checks.sync_checks import check_specs
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import parse_syncs
from iterable_sync.sync.plan.state import state_ddl
from iterable_sync.sync.plan.tables import ROW_ERRORS_TABLE, SyncTables
from iterable_sync.sync_assets import sync_key
from iterable_sync_tests.fixtures.contacts import (
    SOURCE_TABLE,
    contact,
    create_contacts,
    insert_contacts,
)
from iterable_sync_tests.sync.harness import Harness, make_sync
from iterable_sync_tests.sync.typed_harness import TypedHarness, make


def checks_of(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def harness_with(warehouse, emulator, rows, **sync_overrides) -> Harness:
    with warehouse.session() as session:
        create_contacts(session, rows)
    return Harness(warehouse=warehouse, emulator=emulator, sync=make_sync(**sync_overrides))


def row_errors(harness: Harness) -> dict[str, str]:
    return {
        str(r["PK"]): str(r["CODE"])
        for r in harness.query(f"SELECT PK, CODE FROM {ROW_ERRORS_TABLE}")
    }


def test_two_keys_with_one_email_are_held_back_and_the_rest_syncs(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    rows[11]["EMAIL"] = "user.10@example.com"  # C10 and C11 would overwrite one user in turn
    harness = harness_with(warehouse, shared_emulator, rows)
    result = harness.run()
    check = checks_of(result)[IDENTITIES_UNAMBIGUOUS]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN  # 1% ≤ 1%
    assert check.metadata["failing_rows"].value == 2
    assert check.metadata["shared_email_rows"].value == 2
    sample = check.metadata["sample"].value
    assert "C000000010" in sample and "C000000011" in sample
    assert harness.user("user.10@example.com") == {}  # neither key was sent
    assert harness.user("user.12@example.com")["dataFields"]["firstName"] == "First12"
    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["accepted"], meta["quarantined"]) == (198, 2)
    errors = row_errors(harness)
    assert (
        errors["C000000010"]
        == errors["C000000011"]
        == ("identity collision: email shared by several keys")
    )


def test_emails_differing_only_in_case_are_one_user(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    rows[11]["EMAIL"] = "User.10@Example.com"
    harness = harness_with(warehouse, shared_emulator, rows)
    check = checks_of(harness.run())[IDENTITIES_UNAMBIGUOUS]
    assert check.metadata["shared_email_rows"].value == 2


def test_many_shared_emails_block_the_sync_before_any_send(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    for i in range(0, 20, 2):  # 10 pairs: 10% of rows collide, tolerance 1%
        rows[i + 1]["EMAIL"] = rows[i]["EMAIL"]
    harness = harness_with(warehouse, shared_emulator, rows)
    result = harness.run(raise_on_error=False)
    check = checks_of(result)[IDENTITIES_UNAMBIGUOUS]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["failing_rows"].value == 20
    assert not result.success
    assert sync_key(harness.sync) not in {
        e.materialization.asset_key for e in result.get_asset_materialization_events()
    }
    assert harness.write_calls() == []


def test_a_raised_tolerance_lets_the_rest_sync(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    for i in range(0, 20, 2):
        rows[i + 1]["EMAIL"] = rows[i]["EMAIL"]
    harness = harness_with(
        warehouse, shared_emulator, rows, tolerances={"identity_collisions": 0.2}
    )
    result = harness.run()
    assert checks_of(result)[IDENTITIES_UNAMBIGUOUS].severity == dg.AssetCheckSeverity.WARN
    assert harness.sync_metadata(result, harness.sync)["accepted"] == 180


def test_a_shared_user_id_is_a_collision_when_matched_by_user_id(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    rows[11]["GITLAB_USER_ID"] = rows[10]["GITLAB_USER_ID"]
    harness = harness_with(warehouse, shared_emulator, rows, match="userId")
    check = checks_of(harness.run())[IDENTITIES_UNAMBIGUOUS]
    assert check.metadata["shared_user_id_rows"].value == 2
    assert check.metadata["failing_rows"].value == 2


def test_a_shared_user_id_is_no_collision_in_an_email_project_matched_by_email(
    warehouse, shared_emulator
):
    # Email-based projects do not keep userIds unique, and the rows name two users by email.
    rows = [contact(i) for i in range(200)]
    rows[11]["GITLAB_USER_ID"] = rows[10]["GITLAB_USER_ID"]
    harness = harness_with(warehouse, shared_emulator, rows)
    check = checks_of(harness.run())[IDENTITIES_UNAMBIGUOUS]
    assert check.passed


def test_a_user_id_that_changes_email_across_runs_is_flagged(warehouse, shared_emulator):
    harness = harness_with(warehouse, shared_emulator, [contact(i) for i in range(100)])
    assert checks_of(harness.run())[IDENTITIES_UNAMBIGUOUS].passed
    with warehouse.session() as session:
        session.execute(
            f"UPDATE {SOURCE_TABLE} SET EMAIL = 'new.5@example.com' WHERE CONTACT_ID = 'C000000005'"
        )
    result = harness.run()
    check = checks_of(result)[IDENTITIES_UNAMBIGUOUS]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["changed_email_rows"].value == 1
    assert "last sent with user.5@example.com" in check.metadata["sample"].value
    # Sent by email it would have made a second profile for user 1000005.
    assert harness.user("new.5@example.com") == {}
    assert row_errors(harness)["C000000005"] == "identity collision: userId changed email"


def test_an_email_and_user_id_of_two_known_users_are_flagged(warehouse, shared_emulator):
    # Another sync already sent user.5@example.com as userId 42 and userId 1000005 as
    # someone else: this row's email and userId are two different Iterable users.
    legacy = make_sync(name="legacy")
    with warehouse.session() as session:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
        session.execute(state_ddl(legacy))
        session.execute(
            f"INSERT INTO {SyncTables('legacy').state} (PK, EMAIL, USER_ID, OUTCOME)"
            " VALUES ('L1', 'user.5@example.com', '42', 'synced'),"
            " ('L2', 'someone.else@example.com', '1000005', 'synced'),"
            # Not accepted by Iterable: says nothing about who exists.
            " ('L3', 'user.6@example.com', '43', 'not_found'),"
            " ('L4', 'other@example.com', '1000006', 'synced')"
        )
    harness = harness_with(warehouse, shared_emulator, [contact(i) for i in range(100)])
    result = harness.run()
    check = checks_of(result)[IDENTITIES_UNAMBIGUOUS]
    assert check.metadata["two_users_rows"].value == 1
    assert check.metadata["failing_rows"].value == 1
    assert "email is userId 42; userId is someone.else@example.com" in (
        check.metadata["sample"].value
    )
    assert row_errors(harness) == {
        "C000000005": "identity collision: email and userId name two users"
    }


def test_event_syncs_are_not_checked_for_shared_emails():
    # Many events per user is what an events sync is: one email on many rows is no collision.
    events = parse_syncs(
        yaml.safe_dump(
            {
                "syncs": [
                    {
                        "name": "signups",
                        "model": "contact_namespace",
                        "type": "events",
                        "primary_key": "CONTACT_ID",
                        "identifiers": {"email": "EMAIL"},
                        "event_name": "signup",
                    }
                ]
            }
        )
    ).syncs[0]
    names = {spec.name for spec in check_specs(events, dg.AssetKey("signups_diff"))}
    assert "identifiers_valid" in names
    assert IDENTITIES_UNAMBIGUOUS not in names


def test_a_new_key_taking_a_synced_email_is_held_back_with_its_twin(warehouse, shared_emulator):
    harness = harness_with(warehouse, shared_emulator, [contact(i) for i in range(200)])
    harness.run()
    with warehouse.session() as session:
        insert_contacts(session, [contact(500, EMAIL="user.5@example.com", FIRST_NAME="Other")])
    result = harness.run()
    check = checks_of(result)[IDENTITIES_UNAMBIGUOUS]
    assert check.metadata["shared_email_rows"].value == 2  # the new key and the synced one
    assert harness.user("user.5@example.com")["dataFields"]["firstName"] == "First5"
    assert set(row_errors(harness)) == {"C000000005", "C000000500"}


USER_COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "PLAN": "VARCHAR"}
CHANGE_COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "USER_ID": "VARCHAR", "NEW_EMAIL": "VARCHAR"}


@pytest.mark.parametrize("update_match", ["email", "userId"])
def test_a_user_id_whose_email_change_iterable_took_is_sent_with_the_new_email(
    warehouse, shared_emulator, update_match
):
    # Held back while sending it would split the profile; sent once an email_updates sync
    # has moved that userId's profile to the new email (not held back forever).
    users = TypedHarness(
        warehouse=warehouse,
        emulator=shared_emulator,
        sync=make(
            "users",
            mode="upsert",
            match="email",
            identifiers={"email": "EMAIL", "userId": "USER_ID"},
            mapping=[{"column": "PLAN", "field": "plan"}],
            tolerances={"identity_collisions": 0.5},  # 1 row of 2: held back, not blocked
        ),
    )
    other = {"ID": "K2", "EMAIL": "old.2@example.com", "USER_ID": "u2", "PLAN": "free"}
    users.load([{**other, "ID": "K1", "EMAIL": "old.1@example.com", "USER_ID": "u1"}, other],
               USER_COLUMNS)  # fmt: skip
    assert users.sync_run()["accepted"] == 2
    moved = {"ID": "K1", "EMAIL": "new.1@example.com", "USER_ID": "u1", "PLAN": "pro"}
    users.load([moved, other])
    held = checks_of(users.run())[IDENTITIES_UNAMBIGUOUS]
    assert held.metadata["changed_email_rows"].value == 1
    assert users.user("new.1@example.com") == {}

    column = {"email": "EMAIL", "userId": "USER_ID"}[update_match]
    updates = TypedHarness(
        warehouse=warehouse,
        emulator=shared_emulator,
        sync=make(
            "email_updates",
            name="email_changes",
            model="email_change_rows",
            match=update_match,
            identifiers={update_match: column},
            new_email_column="NEW_EMAIL",
        ),
    )
    updates.load(
        [{"ID": "K1", "EMAIL": "old.1@example.com", "USER_ID": "u1",
          "NEW_EMAIL": "new.1@example.com"}],
        CHANGE_COLUMNS,
    )  # fmt: skip
    assert updates.sync_run()["accepted"] == 1

    result = users.run()

    assert checks_of(result)[IDENTITIES_UNAMBIGUOUS].passed
    assert users.sync_metadata(result, users.sync)["accepted"] == 1
    profile = users.user("new.1@example.com")
    assert (profile["userId"], profile["dataFields"]["plan"]) == ("u1", "pro")
    state = users.query(f"SELECT EMAIL FROM {SYNC_SCHEMA}.TEST_USERS__STATE WHERE PK = 'K1'")
    assert state == [{"EMAIL": "new.1@example.com"}]
    assert users.sync_run()["write_calls"] == 0
