"""Iterable's request flags as sync keys, read back through Iterable's read endpoints:
users ``merge_nested_objects`` / ``create_new_fields``, list ``update_existing_users_only``,
events ``campaign_id_column`` / ``template_id_column``."""

import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.sync.config import SyncsFileError
from iterable_sync.sync.order import runs_after
from iterable_sync_tests.sync.typed_harness import TypedHarness, make


def test_merge_nested_objects_keeps_the_keys_it_does_not_send(warehouse, shared_emulator):
    """ApiUserUpdateRequest.mergeNestedObjects: "if a user profile has data
    {"mySettings":{"mobile":true}} and the request has data {"mySettings":{"email":true}},
    merging results in {"mySettings":{"mobile":true,"email":true}}"."""
    shared_emulator.admin.seed_users(
        [{"email": "m.0@example.com", "dataFields": {"mySettings": {"mobile": True}}}]
    )
    sync = make(
        "users",
        mode="upsert",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "SETTINGS", "field": "mySettings", "cast": "json"}],
        merge_nested_objects=True,
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [{"ID": "C0", "EMAIL": "m.0@example.com", "SETTINGS": {"email": True}}],
        {"ID": "VARCHAR", "EMAIL": "VARCHAR", "SETTINGS": "VARIANT"},
    )
    assert harness.sync_run()["accepted"] == 1
    fields = harness.user("m.0@example.com")["dataFields"]
    assert fields["mySettings"] == {"mobile": True, "email": True}


def test_create_new_fields_overrides_a_project_that_drops_them(warehouse, shared_emulator):
    """BulkUpdateUsersRequest.createNewFields: "Whether new fields should be ingested and
    added to the schema. Defaults to project's setting to allow or drop unrecognized
    fields." """
    shared_emulator.admin.set_unknown_fields("drop")
    sync = make(
        "users",
        mode="upsert",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "SEATS", "field": "seatsNeverSeen"}],
        create_new_fields=True,
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [{"ID": "C0", "EMAIL": "n.0@example.com", "SEATS": 4}],
        {"ID": "VARCHAR", "EMAIL": "VARCHAR", "SEATS": "BIGINT"},
    )
    meta = harness.sync_run()
    assert (meta["accepted"], meta["partially_delivered"]) == (1, 0)
    assert harness.user("n.0@example.com")["dataFields"]["seatsNeverSeen"] == 4


@pytest.mark.emulator(project_type="userId")
def test_update_existing_users_only_skips_unknown_users(warehouse, emulator: EmulatorProcess):
    """SubscribeRequest.updateExistingUsersOnly: "When true, Iterable ignores requests with
    unknown userIds and email addresses" (userID-based and hybrid projects)."""
    emulator.admin.seed_users([{"userId": "u0", "email": "l.0@example.com"}])
    sync = make(
        "list",
        match="userId",
        identifiers={"userId": "USER_ID"},
        update_existing_users_only=True,
    )
    harness = TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync, project_type="userId")
    harness.load(
        [{"ID": "C0", "USER_ID": "u0"}, {"ID": "C1", "USER_ID": "u1"}],
        {"ID": "VARCHAR", "USER_ID": "VARCHAR"},
    )
    meta = harness.sync_run()
    assert (meta["accepted"], meta["not_found"]) == (1, 1)
    assert emulator.admin.state()["users"] == 1


def test_a_list_that_skips_unknown_users_runs_after_the_creators() -> None:
    skipper = make("list", identifiers={"userId": "U"}, update_existing_users_only=True)
    creator = make("users", mode="upsert", identifiers={"email": "E"}, mapping=[]).model_copy(
        update={"name": "creator"}
    )
    assert runs_after([skipper, creator])["test_list"] == ["creator"]


def test_events_carry_campaign_and_template_ids(warehouse, shared_emulator):
    sync = make(
        "events",
        event_name="converted",
        identifiers={"email": "EMAIL"},
        campaign_id_column="CAMPAIGN",
        template_id_column="TEMPLATE",
        tolerances={"invalid_values": 0.6},
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load(
        [
            {"ID": "E0", "EMAIL": "e.0@example.com", "CAMPAIGN": "123", "TEMPLATE": 456},
            {"ID": "E1", "EMAIL": "e.1@example.com", "CAMPAIGN": "abc", "TEMPLATE": 1},
        ],
        {"ID": "VARCHAR", "EMAIL": "VARCHAR", "CAMPAIGN": "VARCHAR", "TEMPLATE": "BIGINT"},
    )
    meta = harness.sync_run()
    assert (meta["accepted"], meta["quarantined"]) == (1, 1)
    with shared_emulator.client() as client:
        events = client.get("/api/events/e.0@example.com").json()["events"]
    (event,) = events
    assert (event["campaignId"], event["templateId"]) == (123, 456)
    (error,) = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert error["PK"] == "E1" and "campaignId is not an integer" in error["MESSAGE"]


@pytest.mark.parametrize(
    ("type_", "keys", "message"),
    [
        ("users", {"merge_nested_objects": "sometimes"}, "merge_nested_objects"),
        ("users", {"create_new_fields": "maybe"}, "create_new_fields"),
        ("list", {"update_existing_users_only": "perhaps"}, "update_existing_users_only"),
        ("events", {"event_name": "x", "campaign_id_column": "bad name"}, "campaign_id_column"),
        ("users", {"campaign_id_column": "C"}, "campaign_id_column"),
    ],
)
def test_flag_errors_name_the_sync_and_the_key(type_: str, keys: dict, message: str) -> None:
    with pytest.raises(SyncsFileError) as caught:
        make(type_, identifiers={"email": "EMAIL"}, **keys)
    assert f"test_{type_}" in str(caught.value) and message in str(caught.value)
