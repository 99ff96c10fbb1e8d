"""Creators before updaters, and `after:` — validated, and shown as deps between sends."""

import dagster as dg
import pytest
import yaml

from iterable_sync.definitions import build_definitions
from iterable_sync.sync.config import SyncsFileError, parse_syncs
from iterable_sync.sync.order import runs_after
from iterable_sync_tests.fixtures.project import users_sync, write_syncs


def _parse(*entries: dict) -> list:
    return parse_syncs(yaml.safe_dump({"syncs": list(entries)})).syncs


def list_sync(name: str, **keys: object) -> dict:
    entry = users_sync(name, type="list", list_name=name, **keys)
    del entry["mode"], entry["match"]
    return entry


def test_syncs_that_need_existing_users_run_after_every_sync_that_creates_them():
    syncs = _parse(
        users_sync("profiles"),
        users_sync("signups", mode="upsert"),
        list_sync("newsletter"),
        {
            "name": "gone",
            "model": "contact_namespace",
            "type": "deletions",
            "action": "delete",
            "primary_key": "CONTACT_ID",
            "identifiers": {"email": "EMAIL"},
        },
    )
    assert runs_after(syncs) == {
        "profiles": ["newsletter", "signups"],
        "signups": [],
        "newsletter": [],
        "gone": ["newsletter", "signups"],
    }


def test_after_adds_to_the_order():
    syncs = _parse(users_sync("signups", mode="upsert"), list_sync("weekly", after=["signups"]))
    assert runs_after(syncs)["weekly"] == ["signups"]


def test_after_naming_no_sync_names_the_sync_and_the_key():
    with pytest.raises(SyncsFileError, match=r"sync 'profiles': after: names no sync .*'nope'"):
        _parse(users_sync("profiles", after=["nope"]))


def test_after_naming_itself_is_refused():
    with pytest.raises(SyncsFileError, match=r"sync 'profiles': after: names the sync itself"):
        _parse(users_sync("profiles", after=["profiles"]))


def test_a_cycle_through_the_implicit_order_names_the_sync_and_the_key():
    # signups creates users, so profiles (update mode) runs after it; signups cannot also
    # run after profiles.
    with pytest.raises(SyncsFileError, match=r"sync '\w+': after: makes a cycle"):
        _parse(users_sync("profiles"), users_sync("signups", mode="upsert", after=["profiles"]))


def test_a_cycle_of_afters_is_refused():
    with pytest.raises(SyncsFileError, match="makes a cycle"):
        _parse(
            users_sync("a", mode="upsert", after=["c"]),
            users_sync("b", mode="upsert", after=["a"]),
            users_sync("c", mode="upsert", after=["b"]),
        )


def test_lineage_shows_the_order_as_deps_between_sends(home, tmp_path, monkeypatch):
    write_syncs(
        monkeypatch,
        tmp_path / "syncs.yaml",
        [users_sync("profiles"), users_sync("signups", mode="upsert")],
    )
    graph = build_definitions().resolve_asset_graph()
    profiles = graph.get(dg.AssetKey(["iterable", "profiles"]))
    assert set(profiles.parent_keys) == {
        dg.AssetKey("profiles_diff"),
        dg.AssetKey(["iterable", "signups"]),
    }
    assert set(graph.get(dg.AssetKey(["iterable", "signups"])).parent_keys) == {
        dg.AssetKey("signups_diff")
    }
