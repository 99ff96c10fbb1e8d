"""When Iterable rejects a whole batch, the rows at fault are isolated; the rest land."""

import json

import pytest

from iterable_sync.iterable import IterableClient, UserUpdate
from iterable_sync.sync.outcomes import DiffRow
from iterable_sync.sync.users import UsersDestination
from iterable_sync_tests.sync.harness import make_sync


def diff_row(i: int, trial: str) -> DiffRow:
    payload = {"firstName": f"F{i}", "trialStart": trial}
    return DiffRow(
        seq=i,
        pk=f"C{i}",
        email=f"u{i}@example.com",
        user_id=None,
        payload_text=json.dumps(payload),
        hash=str(i),
        change="added",
        previous_outcome=None,
        previous_email=None,
    )


@pytest.fixture
def client(shared_emulator):
    with IterableClient(shared_emulator.api_key, base_url=shared_emulator.base_url) as c:
        # Iterable already holds trialStart as a date.
        c.users.bulk_update(
            [UserUpdate(email="first@example.com", data_fields={"trialStart": "2026-01-01"})]
        )
        yield c


def test_a_zero_date_rejected_by_iterable_is_isolated_and_the_batch_delivered(
    client, shared_emulator
):
    rows = [diff_row(i, "2026-11-02 09:30:00") for i in range(1_000)]
    rows[637] = diff_row(637, "0000-00-00 00:00:00")
    destination = UsersDestination(client=client, sync=make_sync(), project_type="email")
    outcome = destination.send(rows)
    assert len(outcome.accepted) == 999
    assert [(row.pk, error.field, error.value) for row, error in outcome.quarantined] == [
        ("C637", "trialStart", "0000-00-00 00:00:00")
    ]
    message = outcome.quarantined[0][1].message
    assert "'date'" in message and "0000-00-00 00:00:00" in message
    assert shared_emulator.admin.state()["users"] == 1 + 999


def test_several_distinct_bad_values_are_found_by_splitting(client, shared_emulator):
    rows = [diff_row(i, "2026-11-02 09:30:00") for i in range(64)]
    for i in (3, 20, 41):
        rows[i] = diff_row(i, f"not a date {i}")
    destination = UsersDestination(client=client, sync=make_sync(), project_type="email")
    outcome = destination.send(rows)
    assert sorted(row.pk for row, _ in outcome.quarantined) == ["C20", "C3", "C41"]
    assert len(outcome.accepted) == 61
    # Bounded: each offender costs a few calls, not a call per row.
    bulk = [
        c for c in shared_emulator.admin.calls(limit=10_000) if c["path"].endswith("bulkUpdate")
    ]
    assert len(bulk) <= 1 + 3 * 3


def _send_one_bad_doc(client, held: dict, bad_at: int, bad: dict) -> list[tuple]:
    """Iterable holds ``doc`` as ``held``; four rows go, one with ``bad`` as its doc: the
    other three land, and the quarantined rows are returned as (pk, field, value)."""
    client.users.bulk_update([UserUpdate(email="first@example.com", data_fields={"doc": held})])
    rows = [diff_row(i, "2026-11-02 09:30:00") for i in range(4)]
    payload = json.loads(rows[bad_at].payload_text) | {"doc": bad}
    rows[bad_at] = DiffRow(**{**rows[bad_at].__dict__, "payload_text": json.dumps(payload)})
    destination = UsersDestination(client=client, sync=make_sync(), project_type="email")
    outcome = destination.send(rows)
    assert len(outcome.accepted) == 3
    return [(row.pk, error.field, error.value) for row, error in outcome.quarantined]


def test_a_rejected_value_under_a_key_holding_a_dot_is_named(client, shared_emulator):
    # Iterable names a nested field by its path, "doc.a." here: key "a." inside "doc".
    quarantined = _send_one_bad_doc(client, {"a.": "text"}, 2, {"a.": 5, "b": 1})
    assert quarantined == [("C2", "doc.a.", "5")]


def test_a_rejected_value_inside_an_array_of_objects_is_named(client, shared_emulator):
    # Iterable's path to a member of an array's objects has no index: "doc.items.n".
    quarantined = _send_one_bad_doc(
        client, {"items": [{"n": "x"}]}, 1, {"items": [{"m": 1}, {"n": 7}]}
    )
    assert quarantined == [("C1", "doc.items.n", "7")]


def test_a_rejected_false_is_not_taken_for_a_zero_of_its_batch(client, shared_emulator):
    # Iterable holds doc.i as a long; one row sends false there, two send 0, one has no i.
    # In Python 0 == False: only the row whose value is the boolean Iterable named is at fault.
    client.users.bulk_update([UserUpdate(email="first@example.com", data_fields={"doc": {"i": 5}})])
    rows = []
    for i, doc in enumerate([{"i": 0}, {"i": False}, {"i": 0}, {"j": 1}]):
        row = diff_row(i, "2026-11-02 09:30:00")
        payload = json.loads(row.payload_text) | {"doc": doc}
        rows.append(DiffRow(**{**row.__dict__, "payload_text": json.dumps(payload)}))
    destination = UsersDestination(client=client, sync=make_sync(), project_type="email")

    outcome = destination.send(rows)

    assert [(row.pk, error.field, error.value) for row, error in outcome.quarantined] == [
        ("C1", "doc.i", "false")
    ]
    assert sorted(row.pk for row in outcome.accepted) == ["C0", "C2", "C3"]
