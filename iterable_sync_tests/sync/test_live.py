"""`live:` — examples run against the emulator only; against a real Iterable nothing
irreversible or invented is scheduled or sent unless the entry asks for it."""

from pathlib import Path

import dagster as dg
import pytest

from iterable_sync import settings
from iterable_sync.definitions import build_definitions
from iterable_sync.sync.config import SyncsFileError, load_syncs
from iterable_sync.sync_assets import sync_key
from iterable_sync_tests.fixtures.project import users_sync, write_syncs
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

SHIPPED = Path(__file__).resolve().parents[2] / "syncs.yaml"
DELETIONS = {"name": "forget_them", "action": "delete", "identifiers": {"email": "EMAIL"}}
COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR"}


def _sends(defs: dg.Definitions, job_name: str) -> set[str]:
    keys = defs.resolve_job_def(job_name).asset_layer.selected_asset_keys
    return {k.path[-1] for k in keys if k.path[0] == "iterable"}


def test_live_defaults_to_true_except_for_deletions_and_email_updates():
    users = make("users", identifiers={"email": "EMAIL"})
    deletions = make("deletions", **DELETIONS)
    emails = make(
        "email_updates", match="email", identifiers={"email": "EMAIL"}, new_email_column="NEW"
    )
    assert (users.is_live, deletions.is_live, emails.is_live) == (True, False, False)
    assert make("deletions", **DELETIONS, live=True).is_live
    assert not make("users", identifiers={"email": "EMAIL"}, live=False).is_live


def test_a_live_value_that_is_not_a_boolean_names_the_sync_and_the_key(tmp_path):
    path = tmp_path / "syncs.yaml"
    path.write_text(
        "syncs:\n  - {name: s1, model: m, primary_key: K,"
        " identifiers: {email: E}, live: sometimes}\n"
    )
    with pytest.raises(SyncsFileError, match=r"sync 's1': live: Input should be a valid boolean"):
        load_syncs(path)


def test_shipped_syncs_yaml_sends_only_the_handbook_sync_for_real():
    live = [s.name for s in load_syncs(SHIPPED).syncs if s.is_live]
    assert live == ["iterable_production"]


def test_with_a_real_iterable_only_live_syncs_are_scheduled(home, monkeypatch):
    monkeypatch.setenv(settings.SYNCS_FILE_ENV, str(SHIPPED))
    monkeypatch.setenv("ITERABLE_API_KEY", "not-a-real-key")
    defs = build_definitions()  # the key is read at run time, never here
    scheduled = set().union(*(_sends(defs, s.job_name) for s in defs.schedules or []))  # type: ignore[union-attr]
    assert scheduled == {"iterable_production"}
    assert _sends(defs, "daily_sync_job") == {"iterable_production"}


def test_on_the_emulator_every_sync_is_scheduled(home, monkeypatch):
    monkeypatch.setenv(settings.SYNCS_FILE_ENV, str(SHIPPED))
    defs = build_definitions()
    scheduled = set().union(*(_sends(defs, s.job_name) for s in defs.schedules or []))  # type: ignore[union-attr]
    assert scheduled == {s.name for s in load_syncs(SHIPPED).syncs}
    assert _sends(defs, "daily_sync_job") == scheduled


def test_a_live_sync_runs_after_a_send_outside_its_job_without_running_it(
    home, tmp_path, monkeypatch
):
    """An example that creates users is not in the real schedule; the live sync that runs
    after it still is, alone."""
    write_syncs(
        monkeypatch,
        tmp_path / "syncs.yaml",
        [users_sync("profiles"), users_sync("signups", mode="upsert", live=False)],
    )
    monkeypatch.setenv("ITERABLE_BASE_URL", "https://api.iterable.com")
    defs = build_definitions()
    assert [_sends(defs, s.job_name) for s in defs.schedules or []] == [{"profiles"}]  # type: ignore[union-attr]


@pytest.fixture
def deletions_harness(warehouse, shared_emulator, monkeypatch) -> TypedHarness:
    shared_emulator.admin.seed_users([{"email": f"user.{i}@example.com"} for i in range(20)])
    # A real Iterable, as far as the sync can tell; the calls still reach the emulator.
    monkeypatch.setenv("ITERABLE_BASE_URL", shared_emulator.base_url)
    monkeypatch.setenv("ITERABLE_API_KEY", shared_emulator.api_key)
    harness = TypedHarness(
        warehouse=warehouse, emulator=shared_emulator, sync=make("deletions", **DELETIONS)
    )
    harness.load([{"ID": f"K{i}", "EMAIL": f"user.{i}@example.com"} for i in range(20)], COLUMNS)
    return harness


def test_a_deletions_sync_refuses_a_real_iterable_unless_it_says_live(deletions_harness):
    result = deletions_harness.run(raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "'forget_them'" in message and "live: true" in message
    assert deletions_harness.write_calls() == []
    assert deletions_harness.emulator.admin.state()["users"] == 20


def test_a_deletions_sync_that_says_live_true_runs_against_a_real_iterable(
    deletions_harness,
):
    deletions_harness.sync = make("deletions", **DELETIONS, live=True)
    assert deletions_harness.sync_run()["accepted"] == 20
    assert deletions_harness.emulator.admin.state()["users"] == 0


def test_a_deletions_sync_runs_on_the_emulator_without_live(deletions_harness, monkeypatch):
    monkeypatch.delenv("ITERABLE_BASE_URL")
    monkeypatch.delenv("ITERABLE_API_KEY")
    assert deletions_harness.sync_run()["accepted"] == 20


def test_the_send_alone_refuses_too(deletions_harness):
    """A run of the send step only (its diff made earlier) still sends nothing for real."""
    harness = deletions_harness
    result = dg.materialize(
        harness.assets(),
        selection=[sync_key(harness.sync)],
        resources={"warehouse": harness.warehouse, "iterable": harness.iterable()},
        raise_on_error=False,
    )
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == sync_key(harness.sync).to_python_identifier()
    assert "'forget_them'" in failure.step_failure_data.error.message
    assert harness.write_calls() == []
