"""syncs.yaml per type: each type's keys are checked, and every error names the sync and
the key the person editing the file has to fix."""

from pathlib import Path

import pytest
import yaml

from iterable_sync.sync.config import SyncsFileError, SyncType, load_syncs, parse_syncs

ROOT = Path(__file__).resolve().parents[2]


def error_of(entry: dict) -> str:
    base = {"name": "s", "model": "m", "primary_key": "ID"}
    with pytest.raises(SyncsFileError) as caught:
        parse_syncs(yaml.safe_dump({"syncs": [{**base, **entry}]}))
    return str(caught.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "newsletter"}, "sync 's': type: type must be one of users, events"),
        (
            {"type": "events", "identifiers": {"email": "E"}, "event_name": "x", "list_id": 3},
            "sync 's': list_id: Extra inputs are not permitted",
        ),
        (
            {"type": "events", "identifiers": {"email": "E"}},
            "set exactly one of event_name (static) or event_name_column",
        ),
        (
            {"type": "purchases", "identifiers": {"email": "E"}, "items_column": "I"},
            "sync 's': total_column: Field required",
        ),
        (
            {"type": "catalog", "catalog": "my catalog"},
            "sync 's': catalog: Value error, a catalog name is letters, digits and dashes",
        ),
        (
            {"type": "catalog", "catalog": "c", "identifiers": {"email": "E"}},
            "sync 's': identifiers: Value error, catalog items are not users",
        ),
        (
            {"type": "list", "identifiers": {"email": "E"}, "list_name": "a", "list_id": 1},
            "set list_name (a list this sync creates) or list_id, not both",
        ),
        (
            {"type": "email_updates", "identifiers": {"email": "E"}, "new_email_column": "N"},
            "sync 's': match: Field required",
        ),
        (
            {"type": "deletions", "identifiers": {"email": "E"}, "action": "erase"},
            "sync 's': action: Input should be 'delete', 'forget' or 'unforget'",
        ),
        (
            {
                "type": "deletions",
                "identifiers": {"email": "E"},
                "action": "forget",
                "mapping": [{"column": "A", "field": "a"}],
            },
            "sync 's': mapping: Value error, type deletions sends no fields",
        ),
        (
            {"type": "deletions", "identifiers": {"email": "E"}, "action": "forget",
             "daily_limit": 5000},
            "sync 's': daily_limit: Input should be less than or equal to 1000",
        ),
        ({"type": "list"}, "identifiers: name the email and/or userId column"),
        (
            {"identifiers": {"email": "E"}, "not_found": {"retry": "sometimes"}},
            "sync 's': not_found.retry: Input should be 'every_run', 'backoff' or 'never'",
        ),
        (
            {"identifiers": {"email": "E"}, "not_found": {"first_after_days": 2}},
            "sync 's': not_found: Value error, first_after_days applies to `retry: backoff`",
        ),
        (
            {
                "identifiers": {"email": "E"},
                "not_found": {"retry": "backoff", "first_after_days": 8, "max_after_days": 4},
            },
            "sync 's': not_found: Value error, max_after_days (4) is less than first_after_days",
        ),
        (
            {"identifiers": {"email": "E"}, "not_found": {"retry": "backoff", "after": 1}},
            "sync 's': not_found.after: Extra inputs are not permitted",
        ),
        (
            {
                "type": "deletions",
                "identifiers": {"email": "E"},
                "action": "delete",
                "not_found": {"retry": "every_run"},
            },
            "sync 's': not_found: Value error, a user not found is already deleted",
        ),
        (
            {"type": "catalog", "catalog": "c", "not_found": {"retry": "never"}},
            "sync 's': not_found: Value error, catalog items are not users",
        ),
    ],
)
def test_type_specific_keys_are_validated_and_errors_name_the_key(entry, message):
    assert message in error_of(entry)


def test_the_shipped_syncs_file_has_a_working_example_of_every_type():
    syncs = load_syncs(ROOT / "syncs.yaml").syncs
    assert {s.type for s in syncs} == set(SyncType)
