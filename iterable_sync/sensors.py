"""Sensors: run failures, and runs whose rejected or quarantined rows pass a sync's limit."""

import dagster as dg

from iterable_sync.alerts import send_alert
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.factory import SYNC_TAG, sync_key


@dg.run_failure_sensor(
    name="sync_run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="Records every failed run (a blocked sync included) where the team sees it.",
)
def sync_run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    sync = run.tags.get(SYNC_TAG, run.job_name)
    message = context.failure_event.message or "run failed"
    send_alert("run_failed", sync, message, {"run_id": run.run_id, "job": run.job_name})


def rejected_share(metadata: dict[str, object]) -> float:
    def number(key: str) -> float:
        value = metadata.get(key)
        value = getattr(value, "value", value)
        return float(value) if isinstance(value, int | float) else 0.0

    bad = number("failed") + number("quarantined")
    total = number("sent") + number("quarantined")
    return bad / total if total else 0.0


def build_rejected_rows_sensor(sync: SyncConfig) -> dg.SensorDefinition:
    limit = sync.tolerances.rejected_rows_alert

    @dg.asset_sensor(
        name=f"{sync.name}_rejected_rows_alert",
        asset_key=sync_key(sync),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Flags a {sync.label} run whose rejected + quarantined rows pass "
        f"{limit:.0%} of its rows.",
    )
    def _sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> None:
        materialization = asset_event.asset_materialization
        if materialization is None:
            return
        share = rejected_share(dict(materialization.metadata))
        if share > limit:
            send_alert(
                "rejected_rows",
                sync.name,
                f"{share:.1%} of rows rejected or quarantined (limit {limit:.0%})",
                {"run_id": asset_event.run_id},
            )

    return _sensor
