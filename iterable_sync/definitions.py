"""The one Definitions object of the project: assets, checks, jobs, schedules, resources."""

import dagster as dg

from iterable_sync import settings
from iterable_sync.jobs import daily_sync_job
from iterable_sync.models import load_models
from iterable_sync.models.assets import build_model_asset, build_source_specs
from iterable_sync.resources import build_resources
from iterable_sync.sensors import build_health_sensor
from iterable_sync.sync.config import load_syncs
from iterable_sync.sync.factory import (
    build_diff_asset,
    build_sync_asset,
    build_sync_job,
    build_sync_schedule,
)


def build_definitions() -> dg.Definitions:
    kind = settings.warehouse_kind()
    project_type = settings.project_type()
    models = load_models()
    syncs_file = load_syncs(settings.syncs_file())
    syncs = syncs_file.syncs
    budget = syncs_file.budget
    unknown = sorted({s.model for s in syncs} - set(models))
    if unknown:
        raise ValueError(f"syncs.yaml names models that do not exist: {unknown}")
    sync_jobs = {s.name: build_sync_job(s) for s in syncs}
    return dg.Definitions(
        assets=[
            *build_source_specs(models, kind),
            *(build_model_asset(model, models, kind) for model in models.values()),
            *(build_diff_asset(s, kind, project_type, budget) for s in syncs),
            *(build_sync_asset(s, project_type, budget) for s in syncs),
        ],
        jobs=[daily_sync_job, *sync_jobs.values()],
        schedules=[build_sync_schedule(s, sync_jobs[s.name]) for s in syncs],
        sensors=[build_health_sensor(s) for s in syncs],
        resources=build_resources(),
    )


defs = build_definitions()
