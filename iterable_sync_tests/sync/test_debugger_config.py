"""``debugger:`` in syncs.yaml: checked like every key, errors naming the sync and the key."""

from pathlib import Path

import pytest
import yaml

from iterable_sync.sync.config import SyncsFileError, load_syncs, parse_syncs

ROOT = Path(__file__).resolve().parents[2]

BASE = {
    "name": "contacts",
    "model": "contact_namespace",
    "primary_key": "CONTACT_ID",
    "identifiers": {"email": "EMAIL", "userId": "GITLAB_USER_ID"},
    "mapping": [{"column": "FIRST_NAME", "field": "firstName"}],
}


def parse(**entry: object):
    return parse_syncs(yaml.safe_dump({"syncs": [{**BASE, **entry}]})).syncs[0]


def error_of(**entry: object) -> str:
    with pytest.raises(SyncsFileError) as caught:
        parse(**entry)
    return str(caught.value)


def test_the_debugger_is_off_by_default():
    debugger = parse().debugger
    assert (debugger.capture, debugger.keep_days, debugger.redact) == (False, 7, [])


@pytest.mark.parametrize(
    ("debugger", "message"),
    [
        ({"capture": "sometimes"}, "sync 'contacts': debugger.capture: Input should be a valid"),
        ({"keep_days": 0}, "sync 'contacts': debugger.keep_days: Input should be greater"),
        ({"max_calls": 0}, "sync 'contacts': debugger.max_calls: Input should be greater"),
        ({"keep": 3}, "sync 'contacts': debugger.keep: Extra inputs are not permitted"),
        ({"redact": ["first name"]}, "sync 'contacts': debugger.redact: Value error, redact"),
        (
            {"redact": ["PASSWORD"]},
            "sync 'contacts': (entry): Value error, debugger.redact: ['PASSWORD'] name no column",
        ),
    ],
)
def test_debugger_keys_are_validated_and_errors_name_sync_and_key(debugger, message):
    assert message in error_of(debugger=debugger)


def test_redact_takes_columns_fields_and_identifiers():
    sync = parse(debugger={"capture": True, "redact": ["FIRST_NAME", "EMAIL", "userId"]})
    assert sync.redacted_fields() == {"FIRST_NAME", "firstName", "EMAIL", "email", "userId"}


def test_the_shipped_examples_capture_and_the_live_production_sync_does_not():
    """README: on in the examples the demo runs, off for the large sync that reaches a real
    Iterable."""
    syncs = {s.name: s for s in load_syncs(ROOT / "syncs.yaml").syncs}
    assert not syncs["iterable_production"].debugger.capture
    examples = [s for s in syncs.values() if s.live is False]
    assert examples and all(s.debugger.capture for s in examples)
