"""Case 3 — a no-change rerun at 1M rows: the whole job again, and not one write call.

The job is the product's own assets (model snapshot, diff with its checks, send), run with
``dagster.materialize`` on the shipped sync against the emulator (real rate limits, 50 ms
latency). The emulator is first given the model's users, as
``make demo`` does (the shipped sync updates existing users only: with none, every record
would end "not found" and the rerun would measure the not-found back-off, not a steady
state). A first run, unthrottled so that it is quick, sends every record and advances state
(Iterable accepts them). The measured second run, in a fresh process, finds no change: it
must make zero write calls.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._harness import WORK, progress
from benchmarks.planning import PROJECT_TYPE, SOURCE, seeded_database, shipped_sync

KEY = "benchmark-key"


def prepare(rows: int, log: Any = print) -> str:
    """A copy of the seeded warehouse with none of the sync's tables (a first run's start)."""
    import duckdb

    source = seeded_database(rows, log)
    path = WORK / f"rerun-{rows}.duckdb"
    path.unlink(missing_ok=True)
    shutil.copy(source, path)
    conn = duckdb.connect(str(path))
    try:
        conn.execute("DROP SCHEMA IF EXISTS ITERABLE_SYNC CASCADE")
    finally:
        conn.close()
    return str(path)


#: Users given to the emulator per admin call.
SEED_CHUNK = 50_000


def existing_users(path: str) -> Iterator[list[dict[str, Any]]]:
    """The model's users (email and userId, as the shipped sync identifies them), in chunks
    for the emulator's admin API: the users the project already holds."""
    import duckdb

    sync = shipped_sync()
    email, user_id = sync.identifiers.email, sync.identifiers.userId
    conn = duckdb.connect(path, read_only=True)
    try:
        reader = conn.sql(
            f"SELECT DISTINCT ON (lower(trim({email}))) trim({email}) AS email,"
            f" CAST({user_id} AS VARCHAR) AS user_id FROM {SOURCE}"
            f" WHERE {email} IS NOT NULL AND trim({email}) LIKE '%_@_%'"
        ).to_arrow_reader(SEED_CHUNK)
        for batch in reader:
            yield [
                {"email": e, **({"userId": u} if u else {})}
                for e, u in zip(
                    batch.column("email").to_pylist(),
                    batch.column("user_id").to_pylist(),
                    strict=True,
                )
            ]
    finally:
        conn.close()


def run_job(path: str, base_url: str, unthrottled: bool = False) -> dict[str, Any]:
    """(In a child.) Materialize model → diff (+ checks) → send, as the daily job does."""
    import dagster as dg

    from iterable_sync.iterable_resource import IterableResource
    from iterable_sync.models import Model, _source_tables
    from iterable_sync.models.assets import build_model_asset, build_source_specs
    from iterable_sync.sync.config import Budget
    from iterable_sync.sync_assets import build_diff_asset, build_sync_asset, sync_key
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    sync = shipped_sync()
    # The whole seeded table is the model (the shipped one keeps a one-month window).
    sql = f"SELECT * FROM {SOURCE}"
    model = Model(name=sync.model, sql=sql, source_tables=_source_tables(sql))
    models = {model.name: model}
    budget = Budget(queried_records=100_000_000)
    iterable = IterableResource(
        api_key=KEY,
        base_url=base_url,
        project_type=PROJECT_TYPE,
        rate_limit_scale=1_000.0 if unthrottled else 1.0,
    )
    progress("materializing")
    started = time.perf_counter()
    result = dg.materialize(
        [
            *build_source_specs(models, "duckdb"),
            build_model_asset(model, models, "duckdb"),
            build_diff_asset(sync, "duckdb", PROJECT_TYPE, budget),
            build_sync_asset(sync, PROJECT_TYPE, budget),
        ],
        resources={"warehouse": DuckDBWarehouse(path=path), "iterable": iterable},
        raise_on_error=False,
    )
    wall = time.perf_counter() - started
    sent: dict[str, Any] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key == sync_key(sync):
            sent = {k: v.value for k, v in materialization.metadata.items()}
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    return {
        "wall_s": wall,
        "success": result.success,
        "sent": sent.get("sent"),
        "accepted": sent.get("accepted"),
        "not_found": sent.get("not_found"),
        "write_calls": sent.get("write_calls"),
        "checks": checks,
    }


def write_calls(emulator: Any, since: int) -> int:
    """Calls that could change the project: anything but GET, admin calls aside."""
    return sum(
        1
        for c in emulator.admin.calls(since=since, limit=100_000)
        if c["method"] != "GET" and not c["path"].startswith("/_emulator")
    )


def last_seq(emulator: Any) -> int:
    calls = emulator.admin.calls(limit=100_000)
    return max((c["seq"] for c in calls), default=0)
