"""Blocking checks: a little dirt syncs with warnings, a broken model is stopped."""

import dagster as dg
import pytest

from iterable_sync.sync.config import Budget
from iterable_sync.sync_assets import diff_key, sync_key
from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync


def checks_of(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.materialization.asset_key for e in result.get_asset_materialization_events()}


def harness_with(warehouse, emulator, rows, **kwargs) -> Harness:
    with warehouse.session() as session:
        create_contacts(session, rows)
    return Harness(warehouse=warehouse, emulator=emulator, sync=make_sync(), **kwargs)


def test_a_little_dirt_warns_and_the_rest_syncs(warehouse, shared_emulator):
    rows = [contact(i) for i in range(200)]
    rows[10]["EMAIL"] = "broken"  # 0.5% bad identifiers
    rows[11]["TRIAL_START_DATE"] = "0000-00-00 00:00:00"  # 0.5% bad values
    rows.append(contact(12, FIRST_NAME="Copy"))  # one duplicate key
    harness = harness_with(warehouse, shared_emulator, rows)
    result = harness.run()
    checks = checks_of(result)
    for name in ("identifiers_valid", "values_fit_iterable_types", "primary_key_unique"):
        assert not checks[name].passed
        assert checks[name].severity == dg.AssetCheckSeverity.WARN
        assert checks[name].metadata["failing_rows"].value == 1
    assert "C000000011" in checks["values_fit_iterable_types"].metadata["sample"].value
    assert "C000000012" in checks["primary_key_unique"].metadata["sample"].value
    assert checks["queried_records_budget"].passed
    meta = harness.sync_metadata(result, harness.sync)
    assert (meta["accepted"], meta["quarantined"]) == (198, 2)


@pytest.mark.parametrize(
    ("check", "spoil"),
    [
        # A join that multiplies rows: 5% duplicate keys.
        ("primary_key_unique", lambda rows: rows + [dict(r) for r in rows[:10]]),
        # A lost identifier column: 10% of emails gone.
        (
            "identifiers_valid",
            lambda rows: [{**r, "EMAIL": None} if i % 10 == 0 else r for i, r in enumerate(rows)],
        ),
        # An upstream type change: 5% of dates turned to text.
        (
            "values_fit_iterable_types",
            lambda rows: [
                {**r, "TRIAL_START_DATE": "N/A"} if i % 20 == 0 else r for i, r in enumerate(rows)
            ],
        ),
    ],
)
def test_a_broken_model_is_blocked_before_anything_is_sent(
    warehouse, shared_emulator, check, spoil
):
    harness = harness_with(warehouse, shared_emulator, spoil([contact(i) for i in range(200)]))
    before = len(harness.write_calls())
    result = harness.run(raise_on_error=False)
    assert not result.success
    evaluation = checks_of(result)[check]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert diff_key(harness.sync) in materialized(result)
    assert sync_key(harness.sync) not in materialized(result)
    assert len(harness.write_calls()) == before
    assert shared_emulator.admin.state()["users"] == 0


def test_existing_iterable_field_types_are_enforced_before_sending(warehouse, shared_emulator):
    # Iterable already has `plan` as a long: the model's text plans would sink every batch.
    shared_emulator.admin.seed_users([{"email": "someone@example.com", "dataFields": {"plan": 3}}])
    rows = [contact(i) for i in range(100)]
    rows[0]["PLAN"] = "7"
    harness = harness_with(warehouse, shared_emulator, rows)
    result = harness.run(raise_on_error=False)
    evaluation = checks_of(result)["values_fit_iterable_types"]
    assert evaluation.metadata["failing_rows"].value == 99
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert sync_key(harness.sync) not in materialized(result)


def test_queried_records_budget_counts_each_record_once_and_blocks_past_it(
    warehouse, shared_emulator
):
    harness = harness_with(
        warehouse,
        shared_emulator,
        [contact(i) for i in range(100)],
        budget=Budget(queried_records=150, warn_at=0.5),
    )
    first = checks_of(harness.run())["queried_records_budget"]
    assert not first.passed and first.severity == dg.AssetCheckSeverity.WARN  # 100/150
    assert first.metadata["new_this_run"].value == 100
    again = checks_of(harness.run())["queried_records_budget"]
    assert again.metadata["new_this_run"].value == 0
    assert again.metadata["budget_used"].value == 100  # the same records count once
    with warehouse.session() as session:
        from iterable_sync_tests.fixtures.contacts import insert_contacts

        insert_contacts(session, [contact(i) for i in range(100, 160)])
    over = harness.run(raise_on_error=False)
    evaluation = checks_of(over)["queried_records_budget"]
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["budget_used"].value == 160
    assert sync_key(harness.sync) not in materialized(over)
