"""Jobs and schedules: what a run materializes; one scheduled job per cron expression, so one
tick, one snapshot.

Every sync whose ``schedule:`` is the same cron expression runs in one job: each model they
read is snapshotted once, and every diff and send of the tick reads that one snapshot (a
job per sync re-snapshotted a shared model while another sync's diff was reading it).

Why one scheduled job and not declarative automation (``AutomationCondition.on_cron``):
the diff's blocking checks only stop a send in the same run as the diff; automation may
start a later run for the send after a check failed (dagster-io/dagster#17332). One run per
tick also keeps the order of sends (``sync/order.py``) and gives a tick one place in the UI.

Against a real Iterable (``settings.real_destination()``) only live syncs are scheduled and
in ``daily_sync_job``; examples (``live: false``) keep their ``<sync>_job`` for the emulator,
where their send runs and elsewhere refuses.
"""

import re
from collections.abc import Sequence

import dagster as dg

from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync_assets import SYNC_TAG, AssetJob, diff_key, sync_key

TICK_TAG = "iterable_sync/tick"


def runnable(syncs: Sequence[SyncConfig], real_destination: bool) -> list[SyncConfig]:
    """The syncs a scheduled run or daily_sync_job may send: all on the emulator, only the
    live ones against a real Iterable."""
    return [s for s in syncs if s.is_live or not real_destination]


def selection(syncs: Sequence[SyncConfig]) -> dg.AssetSelection:
    """The syncs' sends and diffs and the models (and the models they read) upstream."""
    diffs = dg.AssetSelection.assets(*(diff_key(s) for s in syncs))
    return diffs.upstream() | dg.AssetSelection.assets(*(sync_key(s) for s in syncs))


def build_daily_sync_job(syncs: Sequence[SyncConfig]) -> AssetJob:
    return dg.define_asset_job(
        "daily_sync_job",
        selection=selection(syncs),
        description="Snapshot the models, check them, diff and send every sync to Iterable "
        "(live syncs only against a real Iterable).",
    )


def build_sync_job(sync: SyncConfig) -> AssetJob:
    """A manual run of one sync: its model snapshot, diff and send (not the sends it runs
    after: those belong to their own syncs)."""
    return dg.define_asset_job(
        f"{sync.name}_job",
        selection=selection([sync]),
        description=f"{sync.label}: snapshot {sync.model}, check, diff and send.",
        tags={SYNC_TAG: sync.name},
    )


def tick_name(cron: str) -> str:
    """``0 6 * * *`` → ``syncs_0_6_x_x_x``: names the job and schedule of one cron."""
    fields = [re.sub(r"[^0-9A-Za-z]+", "_", part.replace("*", "x")) for part in cron.split()]
    return "syncs_" + "_".join(fields)


def build_tick_jobs(
    syncs: Sequence[SyncConfig], real_destination: bool
) -> list[tuple[AssetJob, dg.ScheduleDefinition]]:
    """One job and schedule per cron expression, over the syncs scheduled on it."""
    by_cron: dict[str, list[SyncConfig]] = {}
    for sync in runnable(syncs, real_destination):
        if sync.schedule is not None:
            # "0 6 * * *" and "0  6 * * *" are one tick.
            by_cron.setdefault(" ".join(sync.schedule.split()), []).append(sync)
    built = []
    for cron, group in sorted(by_cron.items()):
        name = tick_name(cron)
        names = ", ".join(s.name for s in group)
        job = dg.define_asset_job(
            f"{name}_job",
            selection=selection(group),
            description=f"Syncs on {cron} (UTC), each model snapshotted once: {names}.",
            tags={TICK_TAG: name},
        )
        schedule = dg.ScheduleDefinition(
            name=f"{name}_schedule",
            job=job,
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=f"{cron} (UTC): {names}",
        )
        built.append((job, schedule))
    return built
