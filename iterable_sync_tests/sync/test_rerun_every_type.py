"""Nothing changed, nothing sent: a rerun makes zero write calls, whatever the sync type."""

from datetime import datetime

import pytest

from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {
    "ID": "VARCHAR",
    "EMAIL": "VARCHAR",
    "USER_ID": "VARCHAR",
    "NEW_EMAIL": "VARCHAR",
    "PLAN": "VARCHAR",
    "NAMESPACES": "VARIANT",
    "ITEMS": "VARIANT",
    "TOTAL": "DOUBLE",
    "HAPPENED_AT": "TIMESTAMP_NTZ",
}
PEOPLE = {"email": "EMAIL", "userId": "USER_ID"}
FIELDS = [{"column": "PLAN", "field": "plan"}]

SYNCS = {
    "users": {"mode": "upsert", "identifiers": PEOPLE, "mapping": [
        *FIELDS, {"column": "NAMESPACES", "field": "namespaces", "cast": "json"}]},
    "events": {"event_name": "namespaceCreated", "created_at_column": "HAPPENED_AT",
               "identifiers": PEOPLE, "mapping": FIELDS},
    "purchases": {"items_column": "ITEMS", "total_column": "TOTAL", "identifiers": PEOPLE},
    "carts": {"items_column": "ITEMS", "identifiers": PEOPLE, "mapping": FIELDS},
    "catalog": {"catalog": "plans", "delete_removed": True, "mapping": FIELDS},
    "list": {"list_name": "Rerun", "identifiers": PEOPLE, "mapping": FIELDS},
    "email_updates": {"match": "userId", "identifiers": {"userId": "USER_ID"},
                      "new_email_column": "NEW_EMAIL"},
    "deletions": {"action": "forget", "identifiers": {"email": "EMAIL"}},
}  # fmt: skip


def row(n: int) -> dict[str, object]:
    return {
        "ID": f"R{n}",
        "EMAIL": f"person.{n}@example.com",
        "USER_ID": f"u{n}",
        "NEW_EMAIL": f"renamed.{n}@example.com",
        "PLAN": "premium",
        "NAMESPACES": [{"path": f"group-{n}", "members": n}],
        "ITEMS": [{"id": "plan-premium", "name": "Premium", "price": 29.0, "quantity": n + 1}],
        "TOTAL": 29.0 * (n + 1),
        "HAPPENED_AT": datetime(2026, 11, 2, 12, 0, n),
    }


@pytest.mark.parametrize("type_", sorted(SYNCS))
def test_a_rerun_without_change_makes_zero_write_calls(warehouse, shared_emulator, type_):
    shared_emulator.admin.seed_users(
        [{"email": f"person.{n}@example.com", "userId": f"u{n}"} for n in range(6)]
    )
    harness = TypedHarness(
        warehouse=warehouse, emulator=shared_emulator, sync=make(type_, **SYNCS[type_])
    )
    harness.load([row(n) for n in range(6)], COLUMNS)
    first = harness.sync_run()
    assert (first["accepted"], first["failed"], first["quarantined"]) == (6, 0, 0)
    assert first["write_calls"] > 0

    before = harness.last_seq()
    again = harness.sync_run()
    assert (again["sent"], again["write_calls"]) == (0, 0)
    assert harness.calls_since(before) == []
