"""One scheduled job per cron expression: a tick snapshots each model once, its syncs read
that snapshot, creators send before updaters; against a real Iterable only live syncs."""

import dagster as dg
import pytest

from iterable_sync.definitions import build_definitions
from iterable_sync.jobs import tick_name
from iterable_sync_tests.fixtures.project import seed_contacts, users_sync, write_syncs

DAILY = "0 6 * * *"
HOURLY = "15 * * * *"
MODEL = dg.AssetKey("contact_namespace")


def _selected(defs: dg.Definitions, job_name: str) -> set[dg.AssetKey]:
    job = defs.resolve_job_def(job_name)
    return set(job.asset_layer.selected_asset_keys)


@pytest.fixture
def three_syncs_one_cron(home, tmp_path, monkeypatch):
    """Three syncs of contact_namespace on one cron (one creates users, two update them,
    named so that a name order would run the updaters first) and one on another cron."""
    write_syncs(
        monkeypatch,
        tmp_path / "syncs.yaml",
        [
            users_sync("a_profiles", schedule=DAILY),
            users_sync("b_plans", schedule=DAILY, mapping=[{"column": "PLAN", "field": "plan"}]),
            users_sync("z_signups", schedule=DAILY, mode="upsert"),
            users_sync("hourly_names", schedule=HOURLY),
        ],
    )
    return home


def test_syncs_on_one_cron_share_one_schedule_that_selects_the_model_once(
    three_syncs_one_cron,
):
    defs = build_definitions()
    schedules = {s.name: s for s in defs.schedules or []}  # type: ignore[union-attr]
    assert sorted(schedules) == sorted(
        [f"{tick_name(HOURLY)}_schedule", f"{tick_name(DAILY)}_schedule"]
    )
    # The model is selected by one scheduled job per cron (2), not one per sync (4).
    jobs_with_model = [
        s.job_name for s in schedules.values() if MODEL in _selected(defs, s.job_name)
    ]
    assert len(jobs_with_model) == 2
    daily = _selected(defs, f"{tick_name(DAILY)}_job")
    assert {k for k in daily if k.path[0] == "iterable"} == {
        dg.AssetKey(["iterable", n]) for n in ("a_profiles", "b_plans", "z_signups")
    }


@pytest.fixture
def tick_run(three_syncs_one_cron) -> dg.ExecuteInProcessResult:
    """One run of the daily tick's job over 200 contacts, on the embedded emulator."""
    seed_contacts(three_syncs_one_cron, 200)
    job = build_definitions().resolve_job_def(f"{tick_name(DAILY)}_job")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


def _sends(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "iterable"
    }


def test_a_tick_snapshots_the_model_once_for_all_its_syncs(tick_run):
    snapshots = [e for e in tick_run.get_asset_materialization_events() if e.asset_key == MODEL]
    assert len(snapshots) == 1
    assert sorted(_sends(tick_run)) == ["a_profiles", "b_plans", "z_signups"]


def test_in_a_tick_update_mode_finds_the_users_an_upsert_created(tick_run):
    sends = _sends(tick_run)
    assert sends["z_signups"]["accepted"] == 200
    for updater in ("a_profiles", "b_plans"):
        assert (sends[updater]["accepted"], sends[updater]["not_found"]) == (200, 0)


def test_a_sync_with_no_schedule_runs_only_by_hand(home, tmp_path, monkeypatch):
    write_syncs(
        monkeypatch,
        tmp_path / "syncs.yaml",
        [users_sync("scheduled"), users_sync("by_hand", schedule=None)],
    )
    defs = build_definitions()
    assert [s.name for s in defs.schedules or []] == [f"{tick_name(DAILY)}_schedule"]  # type: ignore[union-attr]
    assert dg.AssetKey(["iterable", "by_hand"]) in _selected(defs, "by_hand_job")
    assert dg.AssetKey(["iterable", "by_hand"]) not in _selected(defs, f"{tick_name(DAILY)}_job")


def test_a_manual_sync_job_does_not_run_the_sends_it_runs_after(three_syncs_one_cron):
    selected = _selected(build_definitions(), "a_profiles_job")
    assert dg.AssetKey(["iterable", "a_profiles"]) in selected
    assert dg.AssetKey(["iterable", "z_signups"]) not in selected
    assert MODEL in selected


def test_cron_names_are_readable_and_distinct():
    assert tick_name("0 6 * * *") == "syncs_0_6_x_x_x"
    assert tick_name("*/15 6-18 * * 1-5") == "syncs_x_15_6_18_x_x_1_5"
    assert tick_name("0 6 * * *") != tick_name("0 7 * * *")
