"""The one Definitions object of the project: one bundle per sync, merged with what is
shared (model assets, the tick jobs and schedules, daily_sync_job, resources).

Each sync's own definitions (its diff asset with its checks, its send asset, its job and its
health sensor) come from ``sync_definitions`` over its syncs.yaml entry, as Dagster's own
examples merge per-source bundles (``Definitions.merge``). What spans syncs is built once:
one scheduled job per cron expression (``jobs.py``) and the order of sends between syncs
(``sync/order.py``), which each send asset receives as deps.
"""

import warnings
from collections.abc import Sequence

import dagster as dg

from iterable_sync import settings
from iterable_sync.jobs import build_daily_sync_job, build_sync_job, build_tick_jobs, runnable
from iterable_sync.models import load_models
from iterable_sync.models.assets import build_model_asset, build_source_specs
from iterable_sync.resources import build_resources
from iterable_sync.sensors import build_health_sensor
from iterable_sync.sync.config import Budget, SyncConfig, load_syncs
from iterable_sync.sync.order import runs_after
from iterable_sync.sync_assets import build_diff_asset, build_sync_asset


def sync_definitions(
    sync: SyncConfig, kind: str, project_type: str, budget: Budget, after: Sequence[str]
) -> dg.Definitions:
    """One sync's bundle: its diff (with its checks) and send assets, job and sensor.
    ``after``: the syncs whose sends run first in a run that has both."""
    return dg.Definitions(
        assets=[
            build_diff_asset(sync, kind, project_type, budget),
            build_sync_asset(sync, project_type, budget, after),
        ],
        jobs=[build_sync_job(sync)],
        sensors=[build_health_sensor(sync)],
    )


def build_definitions() -> dg.Definitions:
    kind = settings.warehouse_kind()
    project_type = settings.project_type()
    real = settings.real_destination()
    models = load_models()
    syncs_file = load_syncs(settings.syncs_file())
    syncs = syncs_file.syncs
    budget = syncs_file.budget
    unknown = sorted({s.model for s in syncs} - set(models))
    if unknown:
        raise ValueError(f"syncs.yaml names models that do not exist: {unknown}")
    order = runs_after(syncs)
    ticks = build_tick_jobs(syncs, real)
    # Code references and the schema-change checks are marked beta in Dagster 1.13; they are
    # used as documented, and the warning would repeat on every load of the definitions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        # Each model asset points at its .sql file and at the Python that runs it.
        model_assets = dg.with_source_code_references(
            [build_model_asset(model, models, kind) for model in models.values()]
        )
        # A model whose columns changed since its last snapshot warns (never blocks): a
        # mapped column gone or retyped is what breaks a sync's next diff.
        schema_checks = dg.build_column_schema_change_checks(
            assets=model_assets, severity=dg.AssetCheckSeverity.WARN
        )
    shared = dg.Definitions(
        assets=[*build_source_specs(models, kind), *model_assets],
        asset_checks=schema_checks,
        jobs=[build_daily_sync_job(runnable(syncs, real)), *(job for job, _ in ticks)],
        schedules=[schedule for _, schedule in ticks],
        resources=build_resources(),
    )
    bundles = [sync_definitions(s, kind, project_type, budget, order[s.name]) for s in syncs]
    return dg.Definitions.merge(shared, *bundles)


defs = build_definitions()
