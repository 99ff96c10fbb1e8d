"""A sync's assets as Dagster shows them: owners from syncs.yaml, and a send that shows as
late when its schedule's run has not succeeded in time."""

from datetime import timedelta

import dagster as dg
import pytest

from iterable_sync.definitions import build_definitions
from iterable_sync.sync_assets import diff_key, freshness_policy, longest_tick_gap, sync_key
from iterable_sync_tests.sync.harness import make_sync


@pytest.mark.parametrize(
    ("cron", "gap"),
    [
        ("0 6 * * *", timedelta(hours=24)),
        ("0 6 * * 1-5", timedelta(days=3)),  # Friday 06:00 to Monday 06:00
        ("0 */6 * * *", timedelta(hours=6)),
        ("0 6,18 * * *", timedelta(hours=12)),
        ("0 6 1 * *", timedelta(days=31)),
    ],
)
def test_the_longest_gap_between_ticks(cron, gap):
    assert longest_tick_gap(cron) == gap


def test_a_daily_send_is_late_after_26_hours():
    policy = freshness_policy(make_sync(schedule="0 6 * * *"))
    assert isinstance(policy, dg.FreshnessPolicy)
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)  # type: ignore[attr-defined]


def test_a_sync_without_a_schedule_has_no_freshness_policy():
    assert freshness_policy(make_sync(schedule=None)) is None


def test_the_shipped_sends_carry_owners_and_freshness_from_config(home):
    graph = build_definitions().resolve_asset_graph()
    send = graph.get(sync_key(make_sync(name="iterable_production")))
    owners = ["team:Amy Waller (Business Owner)", "team:Mihai Conteanu (Technical Owner)"]
    assert list(send.owners) == owners
    assert send.freshness_policy is not None
    assert send.freshness_policy.fail_window.to_timedelta() == timedelta(hours=26)  # type: ignore[attr-defined]
    diff = graph.get(diff_key(make_sync(name="iterable_production")))
    assert list(diff.owners) == owners
