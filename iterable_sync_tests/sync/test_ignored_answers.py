"""What Iterable says it ignored, from answers of the shapes it sends, becomes row errors
naming the field or value: the destinations over a client on an injected httpx transport
(no emulator: it has no rule for ``disallowedEventNames``, which Iterable's spec lists in
BulkTrackResponse without describing)."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from iterable_sync.iterable import BulkUpdateResult, IterableClient, RateLimits, RetryPolicy
from iterable_sync.sync import dropped_fields
from iterable_sync.sync.events import EventsDestination
from iterable_sync.sync.lists import ListDestination
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow
from iterable_sync.sync.users import UsersDestination
from iterable_sync_tests.iterable.recorded import (
    BULK_UPDATE_OK,
    SUBSCRIBE_INVALID,
    TRACK_BULK_PARTIAL,
)
from iterable_sync_tests.sync.typed_harness import make, upsert_users


@pytest.fixture
def answering() -> Iterator[Callable[[dict[str, Any]], IterableClient]]:
    """A client whose every request is answered 200 with the given body."""
    made: list[IterableClient] = []

    def client(body: dict[str, Any]) -> IterableClient:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        made.append(
            IterableClient(
                "test-key",
                transport=transport,
                rate_limits=RateLimits.off(),
                retry=RetryPolicy(sleep=lambda _: None, jitter=0.0),
            )
        )
        return made[-1]

    yield client
    for each in made:
        each.close()


def diff_row(pk: str, payload: dict[str, Any], email: str | None = None, **keys: Any) -> DiffRow:
    return DiffRow(
        seq=1,
        pk=pk,
        email=email or f"{pk.lower()}@example.com",
        user_id=None,
        payload_text=json.dumps(payload),
        hash="0" * 32,
        change="added",
        previous_outcome=None,
        previous_email=None,
        **keys,
    )


def event_row(pk: str, name: str) -> DiffRow:
    return diff_row(pk, {"dataFields": {"plan": "free"}, "eventName": name, "id": pk})


def errors_of(outcome: BatchOutcome) -> dict[str, tuple[Any, ...]]:
    return {e.pk: (e.code, e.field, e.value) for _, e in outcome.errors}


def test_an_event_of_a_disallowed_name_is_a_row_error_naming_it(answering):
    answer = {**TRACK_BULK_PARTIAL, "successCount": 1, "failCount": 1, "invalidEmails": []}
    answer["failedUpdates"] = {**answer["failedUpdates"], "invalidEmails": []}
    answer["disallowedEventNames"] = ["blocked"]
    sync = make("events", event_name="x", identifiers={"email": "EMAIL"}, mapping=[])
    events = EventsDestination(answering(answer), sync, "email")
    outcome = events.send([event_row("E1", "blocked"), event_row("E2", "allowed")])
    assert [row.pk for row in outcome.accepted] == ["E2"]
    assert errors_of(outcome) == {"E1": ("disallowedEventNames", "eventName", "blocked")}
    assert [row.pk for row, _ in outcome.failed] == ["E1"]  # state does not advance


def test_a_list_subscriber_iterable_called_an_invalid_email_is_named(answering):
    sync = make("list", identifiers={"email": "EMAIL"}, mapping=[])
    members = ListDestination(answering(SUBSCRIBE_INVALID), sync, "email", 7)
    outcome = members.send([diff_row("L1", {"dataFields": {}}, email="user@")])
    assert errors_of(outcome) == {"L1": ("invalidEmail", "email", "user@")}
    assert outcome.accepted == []


def test_a_user_in_a_failed_updates_list_is_named_by_its_identifier(answering):
    answer = {**BULK_UPDATE_OK, "successCount": 1, "failCount": 1}
    answer["failedUpdates"] = {**answer["failedUpdates"], "invalidDataEmails": ["u1@example.com"]}
    users = UsersDestination(answering(answer), upsert_users([]), "email")
    outcome = users.send([diff_row("U1", {"plan": "free"}), diff_row("U2", {"plan": "pro"})])
    assert errors_of(outcome) == {"U1": ("invalidData", "email", "u1@example.com")}
    assert [row.pk for row in outcome.accepted] == ["U2"]


def test_created_fields_are_reported_with_the_rows_accepted(answering):
    answer = {**BULK_UPDATE_OK, "createdFields": ["plan"]}
    users = UsersDestination(answering(answer), upsert_users([]), "email")
    outcome = users.send([diff_row("U1", {"plan": "free"}), diff_row("U2", {"plan": "pro"})])
    assert outcome.created_fields == {"plan"}
    assert [row.pk for row in outcome.accepted] == ["U1", "U2"]
    assert outcome.errors == []


def test_state_keeps_what_iterable_holds_of_a_row_whose_nested_field_was_dropped():
    # Under `nulls: keep` state records more than the payload (a value kept by Iterable):
    # the dropped field leaves that record, the rest of it stays.
    row = diff_row(
        "U1",
        {"doc": {"a": 1, "b": 2}},
        state_payload=json.dumps({"plan": "kept", "doc": {"a": 1, "b": 2}}),
        fast=42,
    )
    settled = dropped_fields.settle(
        BatchOutcome(accepted=[row]),
        BulkUpdateResult.model_validate({**BULK_UPDATE_OK, "filteredOutFields": ["doc.b"]}),
        "users/bulkUpdate",
        fields_of=lambda r: r.payload,
        under=None,
    )
    ((held, errors),) = settled.partial
    assert json.loads(held.state_payload_text) == {"plan": "kept", "doc": {"a": 1}}
    assert held.hash != row.hash and held.fast is None
    assert [(e.field, e.value) for e in errors] == [("doc.b", "2")]
