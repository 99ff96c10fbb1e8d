"""One health sensor per sync: it alerts when the sync's health changes, not on every run.

Each tick reads the runs that ended since the last tick (in the order they ended, whatever
job ran them). For each run that planned the sync's send it works out the sync's health
and compares it with the health kept in the sensor's cursor (``alerts.transitions``): a
failing sync is one alert however many runs it keeps failing, and one recovery notice
when a run delivers again."""

import json
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from iterable_sync import alerts
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.tables import RUNS_TABLE
from iterable_sync.sync_assets import diff_key, sync_key
from iterable_sync.warehouse import WarehouseSession
from iterable_sync.warehouse_resource import Warehouse

#: Runs one tick evaluates at most; the rest wait for the next tick (the cursor says where).
MAX_RUNS_PER_TICK = 25
_RUN_EVENTS = {
    dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_FAILURE,
}


@dataclass
class HealthCursor:
    """What the sensor keeps between ticks: where it stopped, and the health it last saw."""

    after: int | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> "HealthCursor":
        if not text:
            return cls()
        data = json.loads(text)
        return cls(after=data.get("after"), problems=dict(data.get("problems") or {}))

    def dump(self) -> str:
        return json.dumps({"after": self.after, "problems": self.problems}, sort_keys=True)


def _figures(row: dict[str, Any]) -> alerts.RunFigures:
    return alerts.RunFigures(
        seconds=float(row["SECONDS"] or 0),
        queried=int(row["QUERIED"] or 0),
        sent=int(row["SENT"] or 0),
        failed=int(row["FAILED"] or 0),
        quarantined=int(row["QUARANTINED"] or 0),
    )


def delivered_run_problems(
    session: WarehouseSession, sync: SyncConfig, run_id: str, thresholds: alerts.Thresholds
) -> dict[str, str] | None:
    """Problems of a run that delivered, from SYNC_RUNS and the sync's recent runs there;
    None when the run left no row (a dry run)."""
    if not session.table_exists(*RUNS_TABLE.split(".", 1)):
        return None
    columns = "STARTED_AT, SECONDS, QUERIED, SENT, FAILED, QUARANTINED"
    rows = session.query(
        f"SELECT {columns} FROM {RUNS_TABLE} WHERE RUN_ID = ? AND SYNC = ?",
        [run_id, sync.name],
    )
    if not rows:
        return None
    recent = session.query(
        f"SELECT {columns} FROM {RUNS_TABLE}"
        " WHERE SYNC = ? AND NOT COALESCE(DRY_RUN, FALSE) AND STARTED_AT < ?"
        f" ORDER BY STARTED_AT DESC LIMIT {int(thresholds.recent_runs)}",
        [sync.name, rows[0]["STARTED_AT"]],
    )
    return alerts.run_problems(
        _figures(rows[0]),
        [_figures(r) for r in recent],
        sync.tolerances.rejected_rows_alert,
        thresholds,
    )


def _why_not_delivered(events: list[dg.EventLogEntry], sync: SyncConfig) -> str:
    """The first reason a run gives: a blocking check, else the step that failed."""
    for entry in events:
        event = entry.dagster_event
        if event is None or event.event_type is not dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.asset_check_evaluation_data
        if (
            evaluation.asset_key == diff_key(sync)
            and not evaluation.passed
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ):
            return f"blocked by check {evaluation.check_name} ({evaluation.description})"
    failures = [
        e.dagster_event
        for e in events
        if e.dagster_event is not None
        and e.dagster_event.event_type is dg.DagsterEventType.STEP_FAILURE
    ]
    # In a run of many syncs, this sync's own steps first (its model's, its diff, its send).
    own = {sync.model, diff_key(sync).to_python_identifier(), sync_key(sync).to_python_identifier()}
    failures.sort(key=lambda event: event.step_key not in own)
    for event in failures:
        error = event.step_failure_data.error
        # Dagster wraps what the step raised: the innermost cause says what went wrong.
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip() if error else "step failed"
        return f"step {event.step_key} failed: {message.splitlines()[0][:300]}"
    return "the run failed before the send"


def assess_run(
    events: list[dg.EventLogEntry],
    session: WarehouseSession,
    sync: SyncConfig,
    run: dg.DagsterRun,
    previous: dict[str, str],
    thresholds: alerts.Thresholds,
) -> dict[str, str]:
    """The sync's health after a finished run that planned its send (``events``: the
    run's planned and done materializations, check evaluations and step failures)."""
    delivered = [
        e.asset_materialization
        for e in events
        if e.asset_materialization is not None
        and e.asset_materialization.asset_key == sync_key(sync)
    ]
    if delivered:
        dry_run = delivered[-1].metadata.get("dry_run")
        problems = None
        if not getattr(dry_run, "value", dry_run):
            problems = delivered_run_problems(session, sync, run.run_id, thresholds)
        # A dry run delivers nothing and measures nothing: the health stands as it was,
        # but it did get through the checks.
        if problems is None:
            return {k: v for k, v in previous.items() if k != alerts.FAILING}
        return problems
    if run.status is not dg.DagsterRunStatus.FAILURE:
        return dict(previous)  # cancelled, or the send was skipped: says nothing
    # A failed run measures nothing: problems seen on the last delivered run stand.
    kept = {k: v for k, v in previous.items() if k in alerts.RUN_PROBLEMS}
    reason = _why_not_delivered(events, sync)
    return {**kept, alerts.FAILING: f"run {run.run_id[:8]} did not deliver: {reason}"}


def _finished_runs(
    instance: dg.DagsterInstance, after: int | None, limit: int, ascending: bool = True
) -> list[tuple[int, str]]:
    """(storage id, run id) of runs that succeeded or failed, in the order they ended."""
    found: list[tuple[int, str]] = []
    bound: int | None = None
    for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type, after_storage_id=after),
            limit=limit,
            ascending=ascending,
        ).records
        found += [(r.storage_id, r.run_id) for r in records]
        if ascending and len(records) == limit:
            # More of this kind wait: nothing past its last one may be read yet.
            last = records[-1].storage_id
            bound = last if bound is None else min(bound, last)
    found.sort(reverse=not ascending)
    return [f for f in found if bound is None or f[0] <= bound]


def _planned_here(events: list[dg.EventLogEntry], sync: SyncConfig) -> bool:
    return any(
        e.dagster_event is not None
        and e.dagster_event.event_type is dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        and e.dagster_event.asset_key == sync_key(sync)
        for e in events
    )


def build_health_sensor(sync: SyncConfig) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{sync.name}_health_alert",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Alerts when {sync.label} starts failing, rejects more than "
        f"{sync.tolerances.rejected_rows_alert:.0%} of its rows, runs much slower or its "
        "model is much smaller than usual — once per change, with a recovery notice.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
        instance = context.instance
        first_tick = not context.cursor
        cursor = HealthCursor.parse(context.cursor)
        if first_tick:
            # No history replayed on a first tick: the newest run of the sync sets the
            # health (and alerts if it is unhealthy); older ones are past.
            runs = _finished_runs(instance, None, MAX_RUNS_PER_TICK, ascending=False)
            cursor.after = max((storage_id for storage_id, _ in runs), default=None)
        else:
            runs = _finished_runs(instance, cursor.after, MAX_RUNS_PER_TICK)
        thresholds = alerts.Thresholds.from_env()
        channels = alerts.Channels.from_env()
        evaluated = sent = 0
        with warehouse.session() as session:
            for storage_id, run_id in runs:
                if not first_tick:
                    cursor.after = storage_id
                run = instance.get_run_by_id(run_id)
                events = list(instance.all_logs(run_id, of_type=_RUN_EVENTS)) if run else []
                if run is None or not _planned_here(events, sync):
                    continue  # a run that did not try to send this sync
                evaluated += 1
                health = assess_run(events, session, sync, run, cursor.problems, thresholds)
                for notice in alerts.transitions(cursor.problems, health):
                    alerts.send_alert(
                        notice.kind,
                        sync.name,
                        notice.message,
                        {"run_id": run.run_id, "job": run.job_name},
                        channels=channels,
                    )
                    sent += 1
                cursor.problems = health
                if first_tick:
                    break
        if not evaluated:
            return dg.SensorResult(skip_reason="no new run of this sync", cursor=cursor.dump())
        state = ", ".join(sorted(cursor.problems)) or "healthy"
        context.log.info(f"{sync.name}: {evaluated} run(s) read, {sent} alert(s); {state}")
        return dg.SensorResult(cursor=cursor.dump())

    return _sensor
