"""``daily_sync_job`` launched and awaited through ``DagsterGraphQLClient`` against the real
webserver and daemon, as a script or an operator would; its check results and
materialization metadata read back through the same GraphQL API (``POST /graphql``).

The warehouse is the small seeded one (conftest.SEED_ROWS contacts, with the seed's usual
dirt) and the state is fresh, so this is the first send of every sync."""

import json
from typing import Any

import pytest

from iterable_sync.sync.config import load_syncs
from iterable_sync_tests.ui.conftest import IN_PROCESS, ROOT, DagsterServer

pytestmark = [
    pytest.mark.slow,
    # The session's server start and one daily run fall to whichever test comes first.
    pytest.mark.timeout(600),
    # dagster_graphql's client on gql 4; nothing this project can change.
    pytest.mark.filterwarnings("ignore:Using variable_values:DeprecationWarning"),
]

MODEL = ("contact_namespace",)
DIFF = ("iterable_production_diff",)
SYNC = ("iterable", "iterable_production")
#: The checks every users sync's diff carries (README, "See before you send").
CORE_CHECKS = {
    "primary_key_unique",
    "identifiers_valid",
    "values_fit_iterable_types",
    "queried_records_budget",
}
#: Row-level rules the seed's dirt breaks a little: quarantined with a warning, not blocked.
DIRTY_CHECKS = {"primary_key_unique", "identifiers_valid", "values_fit_iterable_types"}

METADATA_FIELDS = """
  __typename
  label
  ... on IntMetadataEntry { intRepr }
  ... on FloatMetadataEntry { floatValue }
  ... on BoolMetadataEntry { boolValue }
  ... on TextMetadataEntry { text }
  ... on JsonMetadataEntry { jsonString }
  ... on MarkdownMetadataEntry { mdStr }
"""

ASSET_QUERY = f"""
query Asset($key: AssetKeyInput!) {{
  assetOrError(assetKey: $key) {{
    __typename
    ... on Asset {{
      assetMaterializations(limit: 1) {{
        runId
        metadataEntries {{ {METADATA_FIELDS} }}
      }}
      definition {{
        assetChecksOrError {{
          __typename
          ... on AssetChecks {{
            checks {{
              name
              blocking
              executionForLatestMaterialization {{
                runId
                status
                evaluation {{
                  success
                  severity
                  metadataEntries {{ {METADATA_FIELDS} }}
                }}
              }}
            }}
          }}
        }}
      }}
    }}
  }}
}}
"""


def _values(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Metadata entries by label, as Python values."""
    values: dict[str, Any] = {}
    for entry in entries:
        if "intRepr" in entry:
            values[entry["label"]] = int(entry["intRepr"])
        elif "floatValue" in entry:
            values[entry["label"]] = entry["floatValue"]
        elif "boolValue" in entry:
            values[entry["label"]] = entry["boolValue"]
        elif "jsonString" in entry:
            values[entry["label"]] = json.loads(entry["jsonString"])
        elif "text" in entry:
            values[entry["label"]] = entry["text"]
        elif "mdStr" in entry:
            values[entry["label"]] = entry["mdStr"]
        else:
            values[entry["label"]] = entry["__typename"]
    return values


def _asset(server: DagsterServer, key: tuple[str, ...]) -> dict[str, Any]:
    data = server.graphql(ASSET_QUERY, {"key": {"path": list(key)}})["assetOrError"]
    assert data["__typename"] == "Asset", f"{'/'.join(key)}: {data}"
    return data


def _metadata(server: DagsterServer, key: tuple[str, ...], run_id: str) -> dict[str, Any]:
    """The metadata of the asset's latest materialization, which must be ``run_id``'s."""
    materializations = _asset(server, key)["assetMaterializations"]
    assert materializations, f"{'/'.join(key)} has no materialization"
    assert materializations[0]["runId"] == run_id, f"{'/'.join(key)}: last made by another run"
    return _values(materializations[0]["metadataEntries"])


def _checks(server: DagsterServer, key: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    found = _asset(server, key)["definition"]["assetChecksOrError"]
    assert found["__typename"] == "AssetChecks", f"{'/'.join(key)}: {found}"
    return {check["name"]: check for check in found["checks"]}


@pytest.fixture(scope="module")
def daily_run(dagster_server: DagsterServer) -> str:
    """One run of daily_sync_job, submitted through DagsterGraphQLClient, dequeued by the
    daemon (the QueuedRunCoordinator of dagster.yaml) and awaited through the client.

    Its steps run in the run worker (``in_process``): a step process of the default executor
    costs a full import of the definitions (~10 s here) and the job has ~30 steps; the
    browser test runs the default executor, as the UI launches it.
    """
    run_id = dagster_server.launch("daily_sync_job", run_config=IN_PROCESS)
    dagster_server.wait_for_run(run_id)
    return run_id


@pytest.fixture(scope="module")
def diff_checks(dagster_server: DagsterServer, daily_run: str) -> dict[str, dict[str, Any]]:
    return _checks(dagster_server, DIFF)


def test_location_is_the_configured_one(dagster_server: DagsterServer) -> None:
    # The webserver serves the location [tool.dagster] names; launches target it.
    assert dagster_server.location_name == "iterable_sync"
    assert dagster_server.repository_name == "__repository__"


def test_daily_run_materializes_every_sync(dagster_server: DagsterServer, daily_run: str) -> None:
    syncs = load_syncs(ROOT / "syncs.yaml").syncs
    assert len(syncs) > 1
    for sync in syncs:
        for key in ((f"{sync.name}_diff",), ("iterable", sync.name)):
            metadata = _metadata(dagster_server, key, daily_run)
            assert metadata.get("dry_run", False) is False, f"{'/'.join(key)}: {metadata}"


def test_diff_carries_blocking_checks_evaluated_by_the_run(
    diff_checks: dict[str, dict[str, Any]], daily_run: str
) -> None:
    assert set(diff_checks) >= CORE_CHECKS, sorted(diff_checks)
    for name, check in diff_checks.items():
        assert check["blocking"], name
        execution = check["executionForLatestMaterialization"]
        assert execution is not None, f"{name} did not run before the diff materialized"
        assert execution["runId"] == daily_run, f"{name} was last evaluated by another run"


def test_seeded_dirt_is_quarantined_with_warnings(
    dagster_server: DagsterServer, diff_checks: dict[str, dict[str, Any]], daily_run: str
) -> None:
    diff = _metadata(dagster_server, DIFF, daily_run)
    failing = {}
    for name in DIRTY_CHECKS:
        execution = diff_checks[name]["executionForLatestMaterialization"]
        evaluation = execution["evaluation"]
        metadata = _values(evaluation["metadataEntries"])
        # Failed, but as a warning: under the sync's tolerance, so the send still ran.
        assert execution["status"] == "FAILED", f"{name}: {execution}"
        assert evaluation["severity"] == "WARN", f"{name}: {evaluation}"
        assert 0 < metadata["failing_share"] <= metadata["tolerance"], f"{name}: {metadata}"
        assert metadata["rule"], f"{name}: {metadata}"
        failing[name] = metadata["failing_rows"]
    # The checks count the same rows the diff held back.
    assert failing["primary_key_unique"] == diff["duplicate_keys"], (failing, diff)
    row_level = (failing["identifiers_valid"], failing["values_fit_iterable_types"])
    assert max(row_level) <= diff["invalid"] <= sum(row_level), (failing, diff)
    sync = _metadata(dagster_server, SYNC, daily_run)
    assert sync["quarantined"] == diff["invalid"], (sync, diff)


def test_budget_check_counts_this_runs_records(
    dagster_server: DagsterServer, diff_checks: dict[str, dict[str, Any]], daily_run: str
) -> None:
    execution = diff_checks["queried_records_budget"]["executionForLatestMaterialization"]
    assert execution["status"] == "SUCCEEDED", execution
    budget = _values(execution["evaluation"]["metadataEntries"])
    configured = load_syncs(ROOT / "syncs.yaml").budget.queried_records
    assert budget["budget"] == configured, budget
    # The ledger counts records per sync: on a fresh ledger, each of this sync's records once.
    diff = _metadata(dagster_server, DIFF, daily_run)
    assert budget["new_this_run"] == diff["new_queried_records"] == diff["records"], (budget, diff)
    assert budget["new_this_run"] <= budget["budget_used"], budget
    assert budget["budget_used"] + budget["budget_left"] == configured, budget
    sync = _metadata(dagster_server, SYNC, daily_run)
    assert sync["budget_used"] + sync["budget_left"] == configured, sync


def test_model_diff_and_send_agree(dagster_server: DagsterServer, daily_run: str) -> None:
    model = _metadata(dagster_server, MODEL, daily_run)
    diff = _metadata(dagster_server, DIFF, daily_run)
    sync = _metadata(dagster_server, SYNC, daily_run)

    assert model["dagster/row_count"] == diff["model_rows"] > 0, (model, diff)
    assert diff["records"] == diff["model_rows"] - diff["duplicate_keys"], diff
    # A fresh state: every valid record is new, and all of them are sent.
    assert diff["added"] == diff["records"] - diff["invalid"] > 0, diff
    assert (diff["changed"], diff["removed"]) == (0, 0), diff
    assert sync["queried"] == diff["records"], (sync, diff)
    assert sync["sent"] == diff["added"], (sync, diff)


def test_update_mode_updates_known_users_and_skips_the_rest(
    dagster_server: DagsterServer, daily_run: str
) -> None:
    sync = _metadata(dagster_server, SYNC, daily_run)
    # The emulator holds most contacts as existing users (as `make demo` seeds it): update
    # mode updates those, reports the rest as not found, and never creates a user.
    assert sync["accepted"] > 0 and sync["not_found"] > 0, sync
    assert sync["failed"] == 0, sync
    assert sync["accepted"] + sync["not_found"] == sync["sent"], sync
    calls = sync["calls_by_endpoint"]
    assert calls, sync
    assert all(call.startswith("POST /api/users/bulkUpdate → 200") for call in calls), calls
    assert sum(calls.values()) == sync["api_calls"] == sync["write_calls"], sync
    # Bulk update takes at most 1,000 users a call.
    assert sync["api_calls"] >= -(-sync["sent"] // 1000), sync
    assert sync["latency_p95_ms"] >= sync["latency_p50_ms"] > 0, sync
    assert sync["records_per_second"] > 0, sync
