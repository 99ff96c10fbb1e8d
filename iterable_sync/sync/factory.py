"""Build a sync's assets, job and schedule from its syncs.yaml entry — never copied Python.

model ──► <sync>_diff (warehouse: records, hash, diff vs state) ──► iterable/<sync> (send)
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa
from pydantic import Field

from iterable_sync import settings
from iterable_sync.checks import identity, sync_checks
from iterable_sync.iterable import CallRecord
from iterable_sync.iterable_resource import IterableResource
from iterable_sync.metadata import markdown_table
from iterable_sync.plan.diff import REASONS, diff_sql, refresh_unchanged_sql
from iterable_sync.plan.ledgers import WRITE_BACK_DDL, history_sql
from iterable_sync.plan.records import (
    REBUILD_SHARE,
    Records,
    records_recipe,
    records_recipe_ddl,
    records_sql,
    refresh_records_sql,
    stale_records_sql,
)
from iterable_sync.plan.state import state_ddl, state_upgrade_sql
from iterable_sync.plan.tables import API_CALLS_TABLE, ROW_ERRORS_TABLE, RUNS_TABLE, SyncTables
from iterable_sync.plan.text import literal
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync import binding, locks
from iterable_sync.sync.config import Budget, NullPolicy, SyncConfig
from iterable_sync.sync.destinations import build_destination
from iterable_sync.sync.engine import CallLog, CallLogEntry, SyncRun, calls_table
from iterable_sync.sync.outcomes import RunTally
from iterable_sync.sync.pools import send_pool
from iterable_sync.warehouse import Warehouse, WarehouseSession

PREVIEW_ROWS = 10

# What define_asset_job returns; Dagster exports the class only from a private module.
AssetJob = type(dg.define_asset_job("_probe"))
SYNC_TAG = "iterable_sync/sync"


class DiffConfig(dg.Config):
    full_resync: bool = Field(
        default=False,
        description="Ignore state and resend every row (after a data loss on Iterable's "
        "side). When the state belongs to another destination (a new project), the old "
        "state is dropped and every row of the model is sent to this one.",
    )
    rebind: bool = Field(
        default=False,
        description="The state belongs to another destination that is this same Iterable "
        "project (a rotated key, a new URL): keep the state, bind it to this destination.",
    )


class SendConfig(dg.Config):
    dry_run: bool = Field(
        default=False,
        description="Show what would be sent, without calling Iterable or advancing state.",
    )


def diff_key(sync: SyncConfig) -> dg.AssetKey:
    return dg.AssetKey(f"{sync.name}_diff")


def sync_key(sync: SyncConfig) -> dg.AssetKey:
    return dg.AssetKey(["iterable", sync.name])


def snapshot_table(sync: SyncConfig) -> str:
    return f"{SYNC_SCHEMA}.{sync.model.upper()}"


def _column_types(session: WarehouseSession, sync: SyncConfig) -> dict[str, str]:
    columns = session.columns(SYNC_SCHEMA, sync.model.upper())
    if not columns:
        raise RuntimeError(
            f"sync {sync.name!r}: the snapshot {snapshot_table(sync)} does not exist; "
            f"materialize the model {sync.model!r} first"
        )
    return {name.upper(): type_ for name, type_ in columns}


def build_records_and_diff(
    session: WarehouseSession,
    sync: SyncConfig,
    project_type: str,
    full_resync: bool,
    field_types: dict[str, str] | None = None,
) -> dict[str, int]:
    """Records, state and diff tables for this run; returns the counts by kind."""
    types = _column_types(session, sync)
    records = build_records(session, sync, types, project_type, field_types)
    session.execute(state_ddl(sync))
    for statement in state_upgrade_sql(sync):
        session.execute(statement)
    for statement in diff_sql(sync, records, full_resync=full_resync):
        session.execute(statement)
    # Rows whose identity collides leave the diff before it is counted or sent.
    identity.quarantine_collisions(session, sync, project_type)
    # Records whose hash moved with nothing to send (a renamed column, a dropped field).
    for statement in refresh_unchanged_sql(sync):
        session.execute(statement)
    tables = SyncTables(sync.name)
    counts = {"added": 0, "changed": 0, "removed": 0}
    counts.update({reason_key(reason): 0 for reason in REASONS})
    for row in session.query(
        f"SELECT CHANGE, REASON, count(*) AS N FROM {tables.diff} GROUP BY CHANGE, REASON"
    ):
        counts[str(row["CHANGE"])] += int(row["N"])
        counts[reason_key(str(row["REASON"]))] += int(row["N"])
    summary = session.query(
        f"SELECT count(*) AS RECORDS,"
        f" count_if(INVALID_REASON IS NOT NULL) AS INVALID,"
        f" count_if(COPIES > 1) AS DUPLICATE_KEYS,"
        f" coalesce(sum(COPIES), 0) AS MODEL_ROWS"
        f" FROM {tables.records}"
    )[0]
    counts["records"] = int(summary["RECORDS"])
    counts["invalid"] = int(summary["INVALID"])
    counts["duplicate_keys"] = int(summary["DUPLICATE_KEYS"])
    counts["model_rows"] = int(summary["MODEL_ROWS"])
    counts["records_remade"] = records.remade
    counts["unchanged"] = (
        counts["records"] - counts["invalid"] - counts["added"] - counts["changed"]
    )
    return counts


def build_records(
    session: WarehouseSession,
    sync: SyncConfig,
    types: dict[str, str],
    project_type: str,
    field_types: dict[str, str] | None,
) -> Records:
    """The sync's records of this snapshot: the kept ones refreshed where their rows moved,
    or all made again (no records yet, a new recipe, or most keys moved). Returns what the
    diff reads them by, with the keys whose records were made again (or dropped, gone from
    the model)."""
    tables = SyncTables(sync.name)
    source = snapshot_table(sync)
    recipe = records_recipe(sync, source, types, project_type, field_types)
    session.execute(records_recipe_ddl(sync))
    kept = session.query(f"SELECT RECIPE FROM {tables.records_recipe}")
    schema, name = tables.records.split(".", 1)
    if [row["RECIPE"] for row in kept] == [recipe] and session.table_exists(schema, name):
        session.execute(stale_records_sql(sync, source, types))
        stale = int(session.scalar(f"SELECT count(*) FROM {tables.records_stale}"))
        records = int(session.scalar(f"SELECT count(*) FROM {tables.records}"))
        if stale <= REBUILD_SHARE * records:
            for statement in refresh_records_sql(sync, source, types, project_type, field_types):
                session.execute(statement)
            return Records(source, types, refreshed=True, remade=stale)
        session.execute(f"DROP TABLE IF EXISTS {tables.records_stale}")
    # The recipe goes first: records half made are never taken for this recipe's.
    session.execute(f"DELETE FROM {tables.records_recipe}")
    session.execute(records_sql(sync, source, types, project_type, field_types))
    session.execute(f"INSERT INTO {tables.records_recipe} VALUES ({literal(recipe)})")
    remade = int(session.scalar(f"SELECT count(*) FROM {tables.records}"))
    return Records(source, types, refreshed=False, remade=remade)


def reason_key(reason: str) -> str:
    """The metadata key counting the diff's rows sent for ``reason`` (``sent_field_added``)."""
    return "sent_" + reason.replace(" ", "_")


#: Distinct sets of cleared fields read for the preview (each set is one row; few exist).
CLEARED_SETS = 1_000


def would_clear(session: WarehouseSession, sync: SyncConfig) -> dict[str, int]:
    """Iterable field → rows whose value this run clears (sent as null: Iterable deletes it)."""
    fields: dict[str, int] = {}
    rows = session.query(
        f"SELECT CLEARED, count(*) AS N FROM {SyncTables(sync.name).diff}"
        f" WHERE CLEARED IS NOT NULL GROUP BY CLEARED ORDER BY 2 DESC LIMIT {CLEARED_SETS}"
    )
    for row in rows:
        for field in str(row["CLEARED"]).split():
            fields[field] = fields.get(field, 0) + int(row["N"])
    return dict(sorted(fields.items()))


def diff_preview(session: WarehouseSession, sync: SyncConfig) -> str:
    """Rows by why they are sent, the fields the run would clear, and the first rows."""
    diff = SyncTables(sync.name).diff
    reasons = session.query(
        f"SELECT REASON, count(*) AS N FROM {diff} GROUP BY REASON ORDER BY 2 DESC, 1"
    )
    reasons = [{"REASON": r["REASON"], "ROWS": r["N"]} for r in reasons]
    cleared = [{"FIELD": f, "ROWS": n} for f, n in would_clear(session, sync).items()]
    rows = session.query(
        f"SELECT CHANGE, REASON, PK, EMAIL, USER_ID, CLEARED, PAYLOAD FROM {diff}"
        f" ORDER BY SEQ LIMIT {PREVIEW_ROWS}"
    )
    parts = ["**Why rows are sent**", markdown_table(reasons, ["REASON", "ROWS"])]
    if sync.nulls is NullPolicy.CLEAR:
        parts += [
            "**Fields this run clears** (sent as null: Iterable deletes them)",
            markdown_table(cleared, ["FIELD", "ROWS"]),
        ]
    columns = ["CHANGE", "REASON", "PK", "EMAIL", "USER_ID", "CLEARED", "PAYLOAD"]
    parts += ["**First rows**", markdown_table(rows, columns)]
    return "\n\n".join(parts)


def ensure_ledgers(session: WarehouseSession) -> None:
    """The run records, call ledger and row errors, with their DESTINATION column."""
    for ddl in WRITE_BACK_DDL:
        session.execute(ddl)
    binding.ensure_tables(session)


def build_diff_asset(
    sync: SyncConfig, kind: str, project_type: str, budget: Budget
) -> dg.AssetsDefinition:
    @dg.asset(
        key=diff_key(sync),
        group_name=sync.name,
        kinds={kind, "sql"},
        deps=[dg.AssetKey(sync.model)],
        description=(
            f"{sync.label}: each record of {sync.model} validated and hashed in the "
            "warehouse and compared with what Iterable last accepted → added, changed and "
            "removed rows. Its checks block the send."
        ),
        metadata={"dagster/table_name": SyncTables(sync.name).diff},
        check_specs=sync_checks.check_specs(sync, diff_key(sync)),
    )
    def _diff(
        context: dg.AssetExecutionContext,
        config: DiffConfig,
        warehouse: Warehouse,
        iterable: IterableResource,
    ) -> dg.MaterializeResult:
        refuse_example(sync)  # before it reads Iterable's fields or claims the sync
        call_log = CallLog()
        existing: dict[str, str] = {}
        # Field types that Iterable fixed already apply to user fields only (events and
        # catalog items are typed per event name and per catalog, inferred from the data).
        if sync.FIELDS_OF == "user" and sync.mapping:
            with iterable.client(on_call=lambda r: call_log.record(_call_entry(r))) as client:
                existing = client.users.get_fields()
        with warehouse.session() as session:
            # One run per sync: the diff table rebuilt here is what this run's send reads,
            # so the sync is claimed before it is touched (see sync/locks.py).
            locks.claim(session, sync.name, context.run.run_id, _run_finished(context))
            try:
                ensure_ledgers(session)
                write_calls(session, call_log, sync, context.run.run_id, iterable)
                # The state read below must be the current destination's (sync/binding.py).
                try:
                    settled = binding.settle(
                        session,
                        sync.name,
                        iterable.destination,
                        context.run.run_id,
                        rebind=config.rebind,
                        full_resync=config.full_resync,
                    )
                except binding.DestinationMismatch as exc:
                    raise dg.Failure(description=str(exc)) from None
                if settled is not None:
                    context.log.warning(f"{sync.name}: {settled}, bound to {iterable.destination}")
                column_types = _column_types(session, sync)
                field_types = sync_checks.infer_field_types(
                    session, sync, snapshot_table(sync), column_types, existing
                )
                counts = build_records_and_diff(
                    session, sync, project_type, config.full_resync, field_types
                )
                preview = diff_preview(session, sync)
                cleared = would_clear(session, sync)
                checks = sync_checks.RecordChecks(session, sync)
                budget_check, _, new_records = checks.budget(budget, sync_checks.billing_period())
                results = [*checks.results(field_types), budget_check]
                # No send follows in this run (a blocking check failed, or only the diff was
                # selected): free the sync now rather than when the lease runs out.
                blocked = any(
                    not r.passed and r.severity == dg.AssetCheckSeverity.ERROR for r in results
                )
                if blocked or not _run_sends(context, sync):
                    locks.release(session, sync.name, context.run.run_id)
            except BaseException:
                # A diff that fails leaves nothing to send: free the sync for the next run.
                locks.release(session, sync.name, context.run.run_id)
                raise
        context.log.info(f"{sync.name}: {counts}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": counts["added"] + counts["changed"] + counts["removed"],
                **counts,
                "new_queried_records": new_records,
                "full_resync": config.full_resync,
                "destination": iterable.destination.label,
                "destination_settled": settled or "",
                "field_types": dg.MetadataValue.json(field_types),
                "nulls": sync.nulls.value,
                "would_clear": dg.MetadataValue.json(cleared),
                "preview": dg.MetadataValue.md(preview),
            },
            check_results=results,
        )

    return _diff


def _run_finished(context: dg.AssetExecutionContext) -> Callable[[str], bool]:
    """Whether this Dagster instance knows a run as ended (its sync lock is then stale)."""

    def finished(run_id: str) -> bool:
        run = context.instance.get_run_by_id(run_id)
        return run is not None and run.is_finished

    return finished


def _run_sends(context: dg.AssetExecutionContext, sync: SyncConfig) -> bool:
    steps = context.run.step_keys_to_execute  # None: every step of the job
    return steps is None or sync_key(sync).to_python_identifier() in steps


def _call_entry(record: CallRecord) -> CallLogEntry:
    return CallLogEntry(
        called_at=datetime.now(UTC).replace(tzinfo=None),
        method=record.method,
        endpoint=record.endpoint,
        status=record.status,
        latency_ms=record.latency_ms,
        batch_size=record.batch_size,
        success_count=record.success_count,
        fail_count=record.fail_count,
        error_code=record.error_code,
        attempt=record.attempt,
    )


def write_calls(
    session: WarehouseSession,
    call_log: CallLog,
    sync: SyncConfig,
    run_id: str,
    iterable: IterableResource,
) -> None:
    """Calls made outside the send (schema reads) are accounted for too."""
    calls = call_log.drain()
    if calls:
        session.append(
            API_CALLS_TABLE,
            calls_table(calls, run_id, sync.name, iterable.destination.label),
        )


def quarantine_invalid_records(session: WarehouseSession, sync: SyncConfig, run_id: str) -> int:
    """Rows the warehouse already knows cannot be sent go to ROW_ERRORS in one statement."""
    tables = SyncTables(sync.name)
    session.execute(
        f"""
INSERT INTO {ROW_ERRORS_TABLE}
  (RUN_ID, SYNC, PK, OPERATION, CODE, FIELD, VALUE, MESSAGE, RECORDED_AT)
SELECT ?, ?, PK, 'validate', INVALID_REASON, INVALID_FIELD, INVALID_VALUE,
  CASE WHEN INVALID_REASON = 'invalid value'
    THEN 'value ' || COALESCE(INVALID_VALUE, 'null') || ' of field ' || INVALID_FIELD
      || ' is not a valid ' || COALESCE(NULLIF(INVALID_TYPE, ''), 'value')
      || ' (Iterable would reject its whole batch)'
    ELSE INVALID_REASON END,
  CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
FROM {tables.records} WHERE INVALID_REASON IS NOT NULL""",
        [run_id, sync.name],
    )
    return int(
        session.scalar(f"SELECT count(*) FROM {tables.records} WHERE INVALID_REASON IS NOT NULL")
    )


def _record_run(
    session: WarehouseSession,
    sync: SyncConfig,
    run_id: str,
    started: datetime,
    tally: RunTally,
    dry_run: bool,
    destination: str,
) -> None:
    session.append(
        RUNS_TABLE,
        pa.table(
            {
                "DESTINATION": [destination],
                "RUN_ID": [run_id],
                "SYNC": [sync.name],
                "STARTED_AT": [started],
                "FINISHED_AT": [datetime.now(UTC).replace(tzinfo=None)],
                "DRY_RUN": [dry_run],
                "FULL_RESYNC": [False],
                "QUERIED": [tally.queried],
                "ADDED": [tally.added],
                "CHANGED": [tally.changed],
                "REMOVED": [tally.removed],
                "SENT": [tally.sent],
                "ACCEPTED": [tally.accepted],
                "NOT_FOUND": [tally.not_found],
                # Rows Iterable took without some fields count as failed here, so the
                # rejected-rows alert sees a project dropping a mapped field.
                "FAILED": [tally.failed + tally.partial],
                "QUARANTINED": [tally.quarantined + tally.invalid_in_model],
                "API_CALLS": [tally.api_calls],
                "SECONDS": [tally.seconds],
            }
        ),
    )


def tally_metadata(tally: RunTally) -> dict[str, object]:
    calls = {f"{endpoint} → {status}": n for (endpoint, status), n in sorted(tally.calls.items())}
    rate = tally.sent / tally.seconds if tally.seconds > 0 else 0.0
    return {
        "queried": tally.queried,
        "added": tally.added,
        "changed": tally.changed,
        "removed": tally.removed,
        "sent": tally.sent,
        "accepted": tally.accepted,
        "not_found": tally.not_found,
        "failed": tally.failed,
        "partially_delivered": tally.partial,
        "quarantined": tally.quarantined + tally.invalid_in_model,
        "deferred": tally.deferred,
        "lookups": tally.lookups,
        "api_calls": tally.api_calls,
        "write_calls": tally.write_calls,
        "latency_p50_ms": round(tally.latency_percentile(50), 1),
        "latency_p95_ms": round(tally.latency_percentile(95), 1),
        "records_per_second": round(rate, 1),
        "seconds": round(tally.seconds, 2),
        "calls_by_endpoint": dg.MetadataValue.json(calls),
        # What Iterable said it created (createdFields) and dropped (filteredOutFields).
        "created_fields": dg.MetadataValue.json(sorted(tally.created_fields)),
        "filtered_out_fields": dg.MetadataValue.json(sorted(tally.filtered_fields)),
        "row_errors": dg.MetadataValue.md(
            markdown_table(
                [{"reason": r, "rows": n} for r, n in tally.errors_by_reason.most_common()]
            )
        ),
    }


def build_sync_asset(
    sync: SyncConfig, project_type: str, budget: Budget, after: Sequence[str] = ()
) -> dg.AssetsDefinition:
    """The send. ``after``: syncs whose sends run first in any run that has both (deps:
    ``sync/order.py``)."""

    @dg.asset(
        key=sync_key(sync),
        group_name=sync.name,
        kinds={"iterable", "python"},
        deps=[diff_key(sync), *(dg.AssetKey(["iterable", name]) for name in after)],
        pool=send_pool(sync),
        owners=["team:marketing-ops"],
        description=(
            f"{sync.label}: sends {sync.name}_diff to Iterable ({sync.summary}); state "
            "advances only for rows Iterable accepted."
        ),
        tags={SYNC_TAG: sync.name},
    )
    def _send(
        context: dg.AssetExecutionContext,
        config: SendConfig,
        warehouse: Warehouse,
        iterable: IterableResource,
    ) -> dg.MaterializeResult:
        refuse_example(sync)
        started = datetime.now(UTC).replace(tzinfo=None)
        run_id = context.run.run_id
        destination = iterable.destination
        with warehouse.session() as session, _holding(session, sync, context):
            ensure_ledgers(session)
            if config.dry_run:
                tally = RunTally()
                counts = {
                    str(r["CHANGE"]): int(r["N"])
                    for r in session.query(
                        f"SELECT CHANGE, count(*) AS N FROM {SyncTables(sync.name).diff}"
                        " GROUP BY CHANGE"
                    )
                }
                tally.added, tally.changed = counts.get("added", 0), counts.get("changed", 0)
                tally.removed = counts.get("removed", 0)
                return dg.MaterializeResult(
                    metadata={
                        "dry_run": True,
                        **tally_metadata(tally),
                        "would_send": dg.MetadataValue.md(diff_preview(session, sync)),
                        "destination": destination.label,
                    }
                )
            # No call before the sync is bound to where it writes (bound on its first send).
            try:
                binding.bind_for_send(session, sync.name, destination, run_id)
            except binding.DestinationMismatch as exc:
                raise dg.Failure(description=str(exc)) from None
            context.log.info(f"{sync.name}: writing to {destination}")
            tally = send_diff(session, sync, iterable, project_type, run_id, context.log)
            session.execute(
                history_sql(sync, sync.operation),
                [run_id, run_id, run_id, sync.name, run_id],
            )
            period = sync_checks.billing_period()
            sync_checks.record_queried(session, sync, period)
            tally.queried = int(
                session.scalar(f"SELECT count(*) FROM {SyncTables(sync.name).records}")
            )
            used = int(
                session.scalar(
                    f"SELECT count(*) FROM {sync_checks.LEDGER_TABLE} WHERE PERIOD = ?", [period]
                )
            )
            _record_run(
                session, sync, run_id, started, tally, dry_run=False, destination=destination.label
            )
        context.log.info(
            f"{sync.name}: sent {tally.sent}, accepted {tally.accepted}, not found "
            f"{tally.not_found}, failed {tally.failed}, quarantined "
            f"{tally.quarantined + tally.invalid_in_model}, {tally.api_calls} API calls"
            f" to {destination}"
        )
        if tally.created_fields:
            created = ", ".join(sorted(tally.created_fields))
            context.log.info(f"{sync.name}: Iterable created new fields: {created}")
        if tally.filtered_fields:
            context.log.warning(
                f"{sync.name}: Iterable dropped fields it does not know (its project does not "
                f"create them): {', '.join(sorted(tally.filtered_fields))}; {tally.partial} rows"
                " delivered without them, see ROW_ERRORS; they are sent again next run"
            )
        return dg.MaterializeResult(
            metadata={
                "dry_run": False,
                "destination": destination.label,
                **tally_metadata(tally),
                "budget_used": used,
                "budget_left": max(budget.queried_records - used, 0),
            }
        )

    return _send


def refuse_example(sync: SyncConfig) -> None:
    """An example (``live: false``) sends to the emulator only: against a real Iterable its
    send stops here, before anything is read or called."""
    if not sync.is_live and settings.real_destination():
        raise dg.Failure(
            f"sync {sync.name!r} is not live (an example, or a {sync.type.value} sync, "
            "which must opt in) and ITERABLE_API_KEY / ITERABLE_BASE_URL name a real "
            f"Iterable: nothing was sent. Set `live: true` in the entry of {sync.name!r} "
            "in syncs.yaml to send it."
        )


@contextmanager
def _holding(
    session: WarehouseSession, sync: SyncConfig, context: dg.AssetExecutionContext
) -> Iterator[None]:
    """The sync, held by this run while it sends (claimed by its diff; re-claiming fails if
    another run took it over meanwhile), and freed however the send ends."""
    run_id = context.run.run_id
    locks.claim(session, sync.name, run_id, _run_finished(context))
    try:
        yield
    finally:
        locks.release(session, sync.name, run_id)


def send_diff(
    session: WarehouseSession,
    sync: SyncConfig,
    iterable: IterableResource,
    project_type: str,
    run_id: str,
    log: object,
) -> RunTally:
    call_log = CallLog()
    with iterable.client(on_call=lambda record: call_log.record(_call_entry(record))) as client:
        # The sync's type picks the destination; its list or catalog is made here, once.
        destination = build_destination(client, sync, project_type, session)
        last_logged = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last_logged[0] > 5 or done == total:
                last_logged[0] = time.monotonic()
                getattr(log, "info", print)(f"{sync.name}: {done}/{total} rows sent")
                # Still sending: keep the sync's lease (and stop if it was taken over).
                locks.renew(session, sync.name, run_id)

        run = SyncRun(
            session=session,
            sync=sync,
            destination=destination,
            call_log=call_log,
            run_id=run_id,
            max_in_flight=iterable.max_in_flight,
            progress=progress,
            written_to=iterable.destination.label,
        )
        tally = run.execute()
    # Calls no batch carried to the ledger (creating a list when nothing was sent).
    leftover = call_log.drain()
    if leftover:
        session.append(
            API_CALLS_TABLE,
            calls_table(leftover, run_id, sync.name, iterable.destination.label),
        )
        for entry in leftover:
            tally.calls[(f"{entry.method} {entry.endpoint}", str(entry.status or "error"))] += 1
    tally.invalid_in_model = quarantine_invalid_records(session, sync, run_id)
    return tally
