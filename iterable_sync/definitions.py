"""The one Definitions object of the project: assets, checks, jobs, schedules, resources."""

import dagster as dg

from iterable_sync import settings
from iterable_sync.jobs import build_daily_sync_job, build_sync_job, build_tick_jobs, runnable
from iterable_sync.models import load_models
from iterable_sync.models.assets import build_model_asset, build_source_specs
from iterable_sync.resources import build_resources
from iterable_sync.sensors import build_health_sensor
from iterable_sync.sync.config import load_syncs
from iterable_sync.sync.factory import build_diff_asset, build_sync_asset
from iterable_sync.sync.order import runs_after


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
    return dg.Definitions(
        assets=[
            *build_source_specs(models, kind),
            *(build_model_asset(model, models, kind) for model in models.values()),
            *(build_diff_asset(s, kind, project_type, budget) for s in syncs),
            *(build_sync_asset(s, project_type, budget, order[s.name]) for s in syncs),
        ],
        jobs=[
            build_daily_sync_job(runnable(syncs, real)),
            *(job for job, _ in ticks),
            *(build_sync_job(s) for s in syncs),
        ],
        schedules=[schedule for _, schedule in ticks],
        sensors=[build_health_sensor(s) for s in syncs],
        resources=build_resources(),
    )


defs = build_definitions()
