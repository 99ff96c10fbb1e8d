"""Duplicate keys, the user's choice (syncs.yaml ``duplicates``): keep one row by a declared
order, drop every copy as Iterable's importer does, or block the sync. The check lists them."""

from datetime import datetime
from typing import Any

import dagster as dg
import pytest

from iterable_sync.sync.config import SyncsFileError
from iterable_sync.sync_assets import sync_key
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR", "UPDATED_AT": "TIMESTAMP_NTZ"}
ROWS = 300


def rows() -> list[dict[str, object]]:
    """300 keys; K7 twice: its older row says 'old', its newer one 'new'."""
    found: list[dict[str, object]] = [
        {"ID": f"K{n}", "EMAIL": f"user.{n}@example.com", "PLAN": "free",
         "UPDATED_AT": datetime(2026, 11, 1)}
        for n in range(ROWS)
    ]  # fmt: skip
    found[7]["PLAN"] = "new"
    found[7]["UPDATED_AT"] = datetime(2026, 11, 20)
    found.append({**found[7], "PLAN": "old", "UPDATED_AT": datetime(2026, 10, 1)})
    return found


def harness_for(warehouse: Any, emulator: Any, duplicates: dict[str, str]) -> TypedHarness:
    sync = make(
        "users",
        mode="upsert",
        match="email",
        identifiers={"email": "EMAIL"},
        mapping=[{"column": "PLAN", "field": "plan"}],
        duplicates=duplicates,
    )
    harness = TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)
    harness.load(rows(), COLUMNS)
    return harness


def pk_check(result: dg.ExecuteInProcessResult) -> Any:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "primary_key_unique"
    ]
    return evaluation


@pytest.mark.parametrize(("direction", "kept"), [("DESC", "new"), ("ASC", "old")])
def test_keep_one_keeps_the_row_first_by_the_declared_order(
    warehouse, shared_emulator, direction, kept
):
    harness = harness_for(
        warehouse, shared_emulator, {"policy": "keep_one", "order_by": f"UPDATED_AT {direction}"}
    )

    result = harness.run()

    assert harness.sync_metadata(result, harness.sync)["accepted"] == ROWS
    assert harness.user("user.7@example.com")["dataFields"]["plan"] == kept


def test_keep_one_warns_and_lists_every_duplicate(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"order_by": "UPDATED_AT DESC"})

    check = pk_check(harness.run())

    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    metadata = {k: v.value for k, v in check.metadata.items()}
    assert (metadata["duplicated_keys"], metadata["failing_rows"]) == (1, 1)
    assert "| K7 | 2 |" in metadata["sample"]


def test_drop_all_sends_no_copy_of_a_duplicated_key(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"policy": "drop_all"})

    result = harness.run()

    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["accepted"], meta["quarantined"]) == (ROWS - 1, 1)
    assert pk_check(result).metadata["failing_rows"].value == 2
    with harness.emulator.client() as client:
        assert client.get("/api/users/user.7@example.com").json().get("user") in (None, {})
    (error,) = harness.query("SELECT PK, CODE FROM ITERABLE_SYNC.ROW_ERRORS")
    assert error == {"PK": "K7", "CODE": "duplicate key (2 rows, all dropped)"}


def test_block_fails_the_check_and_sends_nothing(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"policy": "block"})

    result = harness.run(raise_on_error=False)

    check = pk_check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    sent = [
        e
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == sync_key(harness.sync)
    ]
    assert sent == []
    assert shared_emulator.admin.state()["users"] == 0


def test_order_by_takes_only_column_names_and_directions():
    with pytest.raises(SyncsFileError, match="order_by term"):
        make("users", identifiers={"email": "EMAIL"}, duplicates={"order_by": "1; DROP TABLE x"})


def test_an_order_by_column_missing_from_the_model_is_named(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"order_by": "CHANGED_AT DESC"})

    result = harness.run(raise_on_error=False)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "CHANGED_AT" in str(failure.step_failure_data.error)
