"""`make demo`: the whole daily job on the embedded defaults, headless, with a summary.

It seeds the DuckDB warehouse when it is empty, starts the local Iterable emulator (state
kept under ITERABLE_SYNC_HOME), gives the emulator the users that "already exist in
Iterable" — most of the model's contacts, not all, so update mode has users to update and
users to skip — then runs ``daily_sync_job`` in this process against the Dagster instance
under DAGSTER_HOME, so the run shows up in ``make ui`` afterwards.
"""

import os
from typing import Any

import dagster as dg

from iterable_sync import settings
from iterable_sync.iterable_resource import EMULATOR_KEY
from iterable_sync.warehouse_resource import DuckDBWarehouse

#: One contact in this many is not yet in Iterable (update mode must skip it).
NOT_IN_ITERABLE_EVERY = 8

EXISTING_USERS_SQL = f"""
SELECT DISTINCT CAST(GITLAB_USER_ID AS VARCHAR) AS USER_ID, TRIM(EMAIL) AS EMAIL
FROM SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL
WHERE GITLAB_USER_ID IS NOT NULL
  AND REGEXP_LIKE(TRIM(EMAIL), '^[^@ ]+@[^@ ]+[.][^@ ]+$')
  AND MOD(GITLAB_USER_ID, {NOT_IN_ITERABLE_EVERY}) <> 0
"""


def _ensure_seeded(warehouse: DuckDBWarehouse, rows: int, seed: int) -> None:
    from iterable_sync.seed import is_empty, seed_contacts

    with warehouse.session() as session:
        conn = session.conn  # type: ignore[attr-defined]
        if is_empty(conn):
            summary = seed_contacts(conn, rows=rows, seed=seed)
            print(f"Seeded the embedded warehouse with {summary.rows:,} contacts (seed {seed}).")
        else:
            print(f"Embedded warehouse already seeded: {warehouse.path}")


def _existing_users(warehouse: DuckDBWarehouse) -> list[dict[str, Any]]:
    with warehouse.session() as session:
        users: list[dict[str, Any]] = []
        for batch in session.iter_batches(EXISTING_USERS_SQL):
            users += [{"email": r["EMAIL"], "userId": r["USER_ID"]} for r in batch]
    return users


def _summary(result: dg.ExecuteInProcessResult) -> list[str]:
    lines = ["", "Summary", "-------"]
    models: list[str] = []
    # Each sync's diff and send side by side, whatever order the steps ran in.
    per_sync: dict[str, list[str]] = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        assert mat is not None
        meta = {k: v.value for k, v in mat.metadata.items()}
        key = mat.asset_key.to_user_string()
        if "dagster/row_count" in meta and "query_seconds" in meta:
            models.append(f"model {key}: {meta['dagster/row_count']:,} rows")
        elif "added" in meta and "records" in meta:
            per_sync.setdefault(key.removesuffix("_diff"), []).insert(
                0,
                f"  diff {key}: {meta['added']:,} added, {meta['changed']:,} changed, "
                f"{meta['removed']:,} removed, {meta['unchanged']:,} unchanged, "
                f"{meta['invalid']:,} invalid",
            )
        elif "sent" in meta:
            deferred = meta.get("deferred") or 0
            per_sync.setdefault(key.split("/")[-1], []).append(
                f"  sync {key}: sent {meta['sent']:,}, accepted {meta['accepted']:,}, "
                f"not in Iterable {meta['not_found']:,}, failed {meta['failed']:,}, "
                f"quarantined {meta['quarantined']:,}"
                + (f", deferred to a later run {deferred:,}" if deferred else "")
                + f"; {meta['api_calls']:,} API calls ({meta['write_calls']:,} writes), "
                f"{meta['records_per_second']:,} records/s"
            )
            if "debugger_calls" in meta:  # the sync's request debugger is on
                name = key.split("/")[-1]
                per_sync[name].append(
                    f"    {meta['debugger_calls']:,} calls' bodies kept: "
                    f"python -m iterable_sync calls {name}"
                )
    lines += models
    for name in sorted(per_sync):
        lines += [f"{name}:", *per_sync[name]]
    checks = result.get_asset_check_evaluations()
    if checks:
        warned = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN]
        failed = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
        passed = len(checks) - len(warned) - len(failed)
        lines.append(
            f"checks: {passed} passed, {len(warned)} warned (rows quarantined), "
            f"{len(failed)} failed (sync blocked)"
        )
        lines += [
            f"  {'FAILED' if c in failed else 'warned'} {c.asset_key.to_user_string()}:"
            f"{c.check_name}: {c.description}"
            for c in warned + failed
        ]
    lines.append(f"run: {'SUCCESS' if result.success else 'FAILURE'} ({result.run_id})")
    return lines


def run_demo(rows: int, seed: int) -> int:
    from iterable_sync.emulator.launcher import EmulatorProcess

    os.environ.setdefault(settings.HOME_ENV, str(settings.home()))
    warehouse = DuckDBWarehouse(path=str(settings.duckdb_path()))
    _ensure_seeded(warehouse, rows, seed)

    state_dir = settings.home() / "emulator"
    with EmulatorProcess(
        api_key=EMULATOR_KEY, project_type=settings.project_type(), state_dir=state_dir
    ) as emulator:
        if int(emulator.admin.state().get("users", 0)) == 0:
            users = _existing_users(warehouse)
            emulator.admin.seed_users(users)
            print(f"Iterable emulator: {len(users):,} users already exist in the project.")
    # The run starts the embedded emulator on that state itself, as every run without a key
    # does: its destination is then the emulator's state, the same from run to run (a URL
    # given here would name a port that changes each time). The demo never writes to a
    # project named by the environment.
    for name in ("ITERABLE_BASE_URL", "ITERABLE_API_KEY"):
        if os.environ.pop(name, None):
            print(f"The demo ignores {name}: it runs on the embedded emulator.")
    print(f"Iterable emulator state: {state_dir} (the run log gives its URL and /_emulator/ UI)")

    from iterable_sync.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def("daily_sync_job")
    instance = dg.DagsterInstance.get() if settings.load().dagster_home else None
    if instance is None:
        instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        # Step-level INFO lines are the progress report; DEBUG would drown them.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    print("\n".join(_summary(result)))
    return 0 if result.success else 1
