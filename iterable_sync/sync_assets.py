"""Build a sync's assets, job and schedule from its syncs.yaml entry — never copied Python.

model ──► <sync>_diff (warehouse: records, hash, diff vs state) ──► iterable/<sync> (send)
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import dagster as dg

# Dagster's own cron iterator, the one its scheduler fires ticks by: the gaps measured here
# are the gaps between the schedule's runs. Private, hence the one import of it.
from dagster._utils.schedules import cron_string_iterator
from pydantic import Field

from iterable_sync import settings
from iterable_sync.checks import sync_checks
from iterable_sync.iterable_resource import IterableResource
from iterable_sync.metadata import table
from iterable_sync.sync import binding, planning, sending
from iterable_sync.sync.config import Budget, NullPolicy, SyncConfig
from iterable_sync.sync.engine import CallLog
from iterable_sync.sync.outcomes import RunTally
from iterable_sync.sync.plan import budget as budget_ledger
from iterable_sync.sync.plan import locks
from iterable_sync.sync.plan.field_types import infer_field_types
from iterable_sync.sync.plan.ledgers import WRITE_BACK_DDL
from iterable_sync.sync.plan.tables import SyncTables, snapshot_table
from iterable_sync.sync.pools import send_pool
from iterable_sync.warehouse import WarehouseSession
from iterable_sync.warehouse_resource import Warehouse

PREVIEW_ROWS = 10
#: How late a send may be past its schedule's next tick before it shows as late: a run
#: that takes long, or a retry, is not yet a stale Iterable.
FRESHNESS_GRACE = timedelta(hours=2)
#: Ticks read to find the longest gap of a schedule: a year of a daily or weekly cron, and
#: enough of a frequent one to see its daily pattern.
_TICKS_READ = 1000
_TICKS_SPAN = timedelta(days=366)
#: Ticks are counted from a fixed instant, so the window is the same on every load.
_TICKS_FROM = datetime(2026, 1, 1, tzinfo=UTC)

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


def longest_tick_gap(cron: str) -> timedelta:
    """The longest time between two ticks of ``cron`` (UTC): 24 h for ``0 6 * * *``, 3 days
    for a weekday cron over a weekend."""
    ticks = cron_string_iterator(_TICKS_FROM.timestamp(), cron, "UTC")
    previous, longest = next(ticks), timedelta(0)
    for _, tick in zip(range(_TICKS_READ), ticks, strict=False):
        longest = max(longest, tick - previous)
        if tick - _TICKS_FROM > _TICKS_SPAN:
            break
        previous = tick
    return longest


def freshness_policy(sync: SyncConfig) -> dg.FreshnessPolicy | None:
    """Late when the send has not succeeded within its schedule's longest gap between ticks
    plus ``FRESHNESS_GRACE`` (26 h for a daily sync); none for a sync without a schedule."""
    if sync.schedule is None:
        return None
    return dg.FreshnessPolicy.time_window(
        fail_window=longest_tick_gap(sync.schedule) + FRESHNESS_GRACE
    )


def diff_key(sync: SyncConfig) -> dg.AssetKey:
    return dg.AssetKey(f"{sync.name}_diff")


def sync_key(sync: SyncConfig) -> dg.AssetKey:
    return dg.AssetKey(["iterable", sync.name])


PREVIEW_COLUMNS = ["CHANGE", "REASON", "PK", "EMAIL", "USER_ID", "CLEARED", "PAYLOAD"]


def diff_preview(session: WarehouseSession, sync: SyncConfig) -> dict[str, dg.MetadataValue]:
    """Rows by why they are sent, what happens to users who left (``users_leaving``, under
    ``on_leave: clear|delete``), the fields the run would clear, and the first rows, as
    sortable tables (``rows_by_reason``, ``fields_cleared``, ``preview``)."""
    reasons = [{"REASON": r, "ROWS": n} for r, n in planning.rows_by_reason(session, sync)]
    shown: dict[str, dg.MetadataValue] = {"rows_by_reason": table(reasons, ["REASON", "ROWS"])}
    if leaving := planning.on_leave_note(session, sync):
        # on_leave: clear or delete acts on users who left: said before anything is sent.
        shown["users_leaving"] = dg.MetadataValue.md(leaving)
    cleared = [{"FIELD": f, "ROWS": n} for f, n in planning.would_clear(session, sync).items()]
    if sync.nulls is NullPolicy.CLEAR or cleared:
        # Sent as null: Iterable deletes these fields.
        shown["fields_cleared"] = table(cleared, ["FIELD", "ROWS"])
    shown["preview"] = table(planning.first_rows(session, sync, PREVIEW_ROWS), PREVIEW_COLUMNS)
    return shown


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
        owners=list(sync.owners),
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
            with iterable.client(
                on_call=lambda r: call_log.record(sending.call_entry(r))
            ) as client:
                existing = client.users.get_fields()
        with warehouse.session() as session:
            # One run per sync: the diff table rebuilt here is what this run's send reads,
            # so the sync is claimed before it is touched (see sync/plan/locks.py).
            locks.claim(session, sync.name, context.run.run_id, _run_finished(context))
            try:
                ensure_ledgers(session)
                sending.write_calls(
                    session, call_log, sync, context.run.run_id, iterable.destination.label
                )
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
                # The plan reads the model once, at one point in time: its snapshot may be a
                # view (models/snapshot.py), read here in one transaction.
                with session.consistent_read():
                    column_types = planning.column_types(session, sync)
                    field_types = infer_field_types(
                        session, sync, snapshot_table(sync), column_types, existing
                    )
                    counts = planning.build_records_and_diff(
                        session, sync, project_type, config.full_resync, field_types
                    )
                    preview = diff_preview(session, sync)
                    cleared = planning.would_clear(session, sync)
                    checks = sync_checks.RecordChecks(session, sync)
                    period = budget_ledger.billing_period()
                    budget_check, _, new_records = checks.budget(budget, period)
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
                **preview,
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
        "row_errors": table(
            [{"REASON": r, "ROWS": n} for r, n in tally.errors_by_reason.most_common()],
            ["REASON", "ROWS"],
        ),
        # Dynamic lists only: each list this run touched, with its rows sent and leaving.
        **({"lists": dg.MetadataValue.json(tally.per_list)} if tally.per_list else {}),
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
        owners=list(sync.owners),
        freshness_policy=freshness_policy(sync),
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
            # What this run sends (or would): the first rows of the diff, before it is sent.
            preview = diff_preview(session, sync)
            if config.dry_run:
                tally = RunTally()
                counts = planning.rows_by_change(session, sync)
                tally.added, tally.changed = counts.get("added", 0), counts.get("changed", 0)
                tally.removed = counts.get("removed", 0)
                return dg.MaterializeResult(
                    metadata={
                        "dry_run": True,
                        **tally_metadata(tally),
                        "would_send": preview["preview"],
                        "rows_by_reason": preview["rows_by_reason"],
                        "destination": destination.label,
                    }
                )
            # No call before the sync is bound to where it writes (bound on its first send).
            try:
                binding.bind_for_send(session, sync.name, destination, run_id)
            except binding.DestinationMismatch as exc:
                raise dg.Failure(description=str(exc)) from None
            context.log.info(f"{sync.name}: writing to {destination}")
            target = sending.IterableTarget(
                iterable.client, iterable.max_in_flight, destination.label
            )
            tally = sending.send_diff(session, sync, target, project_type, run_id, context.log)
            used = sending.write_back(session, sync, run_id, started, tally, destination.label)
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
                "preview": preview["preview"],
                "budget_used": used,
                "budget_left": max(budget.queried_records - used, 0),
                **debugger_metadata(sync, tally, run_id),
            }
        )

    return _send


def debugger_metadata(sync: SyncConfig, tally: RunTally, run_id: str) -> dict[str, object]:
    """With ``debugger.capture``: how many calls' bodies were stored, and how to see them."""
    if not sync.debugger.capture:
        return {}
    return {
        "debugger_calls": tally.captured_calls,
        "debugger_command": dg.MetadataValue.md(
            f"`python -m iterable_sync calls {sync.name} --run {run_id}`"
        ),
    }


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
