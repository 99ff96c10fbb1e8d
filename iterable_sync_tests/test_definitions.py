"""The one Definitions object loads, and its lineage changes only on purpose."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from iterable_sync.definitions import build_definitions
from iterable_sync.snowflake_warehouse import SnowflakeWarehouse
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.asset_graph import describe

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def test_definitions_load_and_validate(home):
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("daily_sync_job") is not None
    assert isinstance(defs.resources["warehouse"], DuckDBWarehouse)


def test_snowflake_is_configuration_not_code(home, monkeypatch):
    monkeypatch.setenv("ITERABLE_SYNC_WAREHOUSE", "snowflake")
    # Which way to authenticate is read when the definitions load; the credentials
    # themselves are EnvVars, read at run time.
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "at-run-time")
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY_PATH", raising=False)
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    assert isinstance(defs.resources["warehouse"], SnowflakeWarehouse)
    kinds = describe(defs)["assets"]["contact_namespace"]["kinds"]
    assert "snowflake" in kinds


def test_unknown_warehouse_kind_is_refused(home, monkeypatch):
    monkeypatch.setenv("ITERABLE_SYNC_WAREHOUSE", "bigquery")
    with pytest.raises(ValueError, match="ITERABLE_SYNC_WAREHOUSE"):
        build_definitions()


def test_asset_graph_matches_snapshot(home):
    """Keys, deps, groups, kinds, pools, checks, jobs and schedules. After a deliberate change:
    UPDATE_SNAPSHOTS=1 make test, and review the diff of the JSON file."""
    current = describe(build_definitions())
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_lineage_reads_like_the_data_flow(home):
    assets = describe(build_definitions())["assets"]
    assert assets["contact_namespace"]["deps"] == [
        "sensitive/poc_pump_marketing_contact_namespace_detail"
    ]
    assert assets["iterable_production_diff"]["deps"] == ["contact_namespace"]
    # Update mode acts on existing users: it sends after the syncs that create users.
    assert assets["iterable/iterable_production"]["deps"] == [
        "iterable/email_consent",
        "iterable/new_active_users_list",
        "iterable/new_signups",
        "iterable/plan_lists",
        "iterable/plan_purchases",
        "iterable/trial_carts",
        "iterable_production_diff",
    ]
