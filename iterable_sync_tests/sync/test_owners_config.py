"""``owners:`` of a sync in syncs.yaml: Dagster's two forms, errors naming sync and key."""

from pathlib import Path

import pytest
import yaml

from iterable_sync.sync.config import SyncsFileError, load_syncs, parse_syncs

ROOT = Path(__file__).resolve().parents[2]
BASE = {"name": "s", "model": "m", "primary_key": "ID", "identifiers": {"email": "E"}}


def parse(owners: object):
    return parse_syncs(yaml.safe_dump({"syncs": [{**BASE, "owners": owners}]})).syncs[0]


def test_a_team_and_an_email_are_owners():
    sync = parse(["team:marketing-ops", "amy@example.com"])
    assert sync.owners == ["team:marketing-ops", "amy@example.com"]


def test_without_owners_a_sync_has_none():
    assert parse_syncs(yaml.safe_dump({"syncs": [BASE]})).syncs[0].owners == []


@pytest.mark.parametrize("owner", ["marketing-ops", "team:", "team: ", "amy@", "Amy Waller"])
def test_an_owner_of_neither_form_is_refused_naming_sync_and_key(owner):
    with pytest.raises(SyncsFileError) as caught:
        parse(["team:ok", owner])
    message = str(caught.value)
    assert "sync 's': owners:" in message and repr(owner) in message


def test_the_shipped_production_sync_names_the_handbooks_two_owners():
    syncs = {s.name: s for s in load_syncs(ROOT / "syncs.yaml").syncs}
    owners = syncs["iterable_production"].owners
    assert owners == ["team:Amy Waller (Business Owner)", "team:Mihai Conteanu (Technical Owner)"]
