"""Subscriptions end to end: boolean columns become the user's channel, message-type and
email-list subscriptions, read back from the profile (emulator README rows 77, 83)."""

import pytest

from iterable_sync.sync.config import SyncsFileError
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "OPT_IN": "BOOLEAN", "NEWS": "VARCHAR"}
#: Seeded by the emulator (README row 80, 81): channel 1 Marketing Email, type 10 Newsletter.
MARKETING_EMAIL, NEWSLETTER = 1, 10


def row(n: int, opt_in: bool | None, news: str | None = None) -> dict[str, object]:
    return {"ID": f"C{n}", "EMAIL": f"sub.{n}@example.com", "OPT_IN": opt_in, "NEWS": news}


def harness_for(warehouse, emulator, **keys: object) -> TypedHarness:
    sync = make(
        "subscriptions",
        identifiers={"email": "EMAIL"},
        channels=[{"column": "OPT_IN", "channel": "Marketing Email"}],
        **keys,
    )
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def test_channels_follow_the_column_and_a_rerun_writes_nothing(warehouse, shared_emulator):
    harness = harness_for(
        warehouse, shared_emulator, message_types=[{"column": "NEWS", "message_type": NEWSLETTER}]
    )
    harness.load([row(0, True, "true"), row(1, False, "FALSE"), row(2, None)], COLUMNS)
    meta = harness.sync_run()
    assert meta["accepted"] == 3
    fields = {n: harness.user(f"sub.{n}@example.com")["dataFields"] for n in range(2)}
    assert fields[0]["unsubscribedChannelIds"] == []
    assert fields[0]["unsubscribedMessageTypeIds"] == []
    assert fields[1]["unsubscribedChannelIds"] == [MARKETING_EMAIL]
    assert fields[1]["unsubscribedMessageTypeIds"] == [NEWSLETTER]
    # Null leaves the user's state alone: no call names them (so none created them).
    assert harness.user("sub.2@example.com") == {}
    # The name was resolved once and kept, as created lists are.
    (kept,) = harness.query("SELECT * FROM ITERABLE_SYNC.SYNC_OBJECTS")
    assert (kept["KIND"], kept["NAME"], kept["OBJECT_ID"]) == ("channel", "Marketing Email", "1")

    before = harness.last_seq()
    assert harness.sync_run()["write_calls"] == 0
    assert harness.calls_since(before) == []

    # A user who opts out is unsubscribed; only the changed row is sent, its whole state
    # again (one call per channel and message type it sets: subscribing twice is a no-op).
    harness.load([row(0, False, "true"), row(1, False, "FALSE"), row(2, None)])
    meta = harness.sync_run()
    assert (meta["accepted"], meta["write_calls"]) == (1, 2)
    assert harness.user("sub.0@example.com")["dataFields"]["unsubscribedChannelIds"] == [
        MARKETING_EMAIL
    ]


def test_another_channel_the_user_left_stays_left(warehouse, shared_emulator):
    """bulkUpdateSubscriptions "overwrites (does not merge)" (spec): the group action
    touches only the mapped channel, so a channel the sync does not map keeps its state."""
    shared_emulator.admin.seed_users([{"email": "sub.0@example.com"}])
    with shared_emulator.client() as client:
        client.put(
            "/api/subscriptions/messageChannel/3",
            params={"action": "unsubscribe"},
            json={"users": ["sub.0@example.com"]},
        ).raise_for_status()
    harness = harness_for(warehouse, shared_emulator)
    harness.load([row(0, True)], COLUMNS)
    assert harness.sync_run()["accepted"] == 1
    assert harness.user("sub.0@example.com")["dataFields"]["unsubscribedChannelIds"] == [3]


def test_a_list_by_name_is_subscribed(warehouse, shared_emulator):
    with shared_emulator.client() as client:
        list_id = client.post("/api/lists", json={"name": "Weekly digest"}).json()["listId"]
    sync = make(
        "subscriptions",
        identifiers={"email": "EMAIL"},
        lists=[{"column": "OPT_IN", "list": "Weekly digest"}],
    )
    harness = TypedHarness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    harness.load([row(0, True), row(1, False)], COLUMNS)
    assert harness.sync_run()["accepted"] == 2
    assert harness.user("sub.0@example.com")["dataFields"]["emailListIds"] == [list_id]
    assert harness.user("sub.1@example.com")["dataFields"].get("emailListIds", []) == []


def test_a_value_that_is_not_a_boolean_is_quarantined(warehouse, shared_emulator):
    harness = harness_for(
        warehouse,
        shared_emulator,
        message_types=[{"column": "NEWS", "message_type": NEWSLETTER}],
        tolerances={"invalid_values": 0.6},
    )
    harness.load([row(0, True, "maybe"), row(1, True, "true")], COLUMNS)
    meta = harness.sync_run()
    assert (meta["accepted"], meta["quarantined"]) == (1, 1)
    (error,) = harness.query("SELECT * FROM ITERABLE_SYNC.ROW_ERRORS")
    assert error["PK"] == "C0" and "not a boolean" in error["MESSAGE"]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({}, "map at least one column"),
        (
            {"channels": [{"column": "A", "channel": 1}, {"column": "B", "channel": 1}]},
            "channels: names these twice",
        ),
        ({"channels": [{"column": "A"}]}, "channel"),
        ({"mapping": [{"column": "A", "field": "a"}]}, "sends no fields"),
    ],
)
def test_config_errors_name_the_sync_and_the_key(keys: dict, message: str) -> None:
    with pytest.raises(SyncsFileError) as caught:
        make("subscriptions", identifiers={"email": "EMAIL"}, **keys)
    assert "test_subscriptions" in str(caught.value) and message in str(caught.value)
