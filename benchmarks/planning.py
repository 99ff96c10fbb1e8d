"""Case 1 — planning at scale: snapshot the model, hash every record, diff it against state.

The warehouse is a DuckDB file of synthetic contacts (``seed_contacts``), kept under
``benchmarks/.work/`` and reused while its rows and seed match. The benchmark's model is the
whole seeded table (``SELECT *``), so the model has exactly N rows; the shipped model's
one-month window would keep a quarter of them. The sync is the shipped ``iterable_production``.

State is prepared once per data set and per version of the records SQL: a first run whose
diff (every record added) is folded into state as if Iterable accepted it all, and whose
records fill the month's queried-records ledger — the steady state of a daily sync. Each
measured run then does what the diff asset does, in a fresh process: snapshot the model,
take the field types (Iterable's getFields answer: the types the first run gave the fields,
so nothing is inferred, as in every daily run after the first), build records and the diff
(``build_records_and_diff``), run the checks. The first run's inference (a scan per text
column) is timed once, in ``prepare_state``, and reported apart.
Before each measured run the sync's records are put back as the first run left them
(``reset_records``, not measured): a daily run refreshes yesterday's records, so a run
measured after another must not find today's already made.
"No change" runs on the same data; "1% changed" alters one mapped column of 1% of contacts.

The per-row baseline (``BENCH_PER_ROW=1``; the anchors of ``anchors.py`` are what the targets
are judged against) is a naive hand-written sync: pull the model into pandas (Arrow-backed
columns), hash each row in Python (MD5 of the JSON of its identifiers and mapped columns),
and compare with the previous run's hashes, loaded into memory from a Parquet file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import WORK, progress

SEED = 42
#: The day the synthetic dates are anchored to (fixed, so a data set is reproducible).
AS_OF = dt.date(2026, 3, 15)
SYNC_NAME = "iterable_production"
PROJECT_TYPE = "email"
SOURCE = "SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL"
#: 1% of contacts (by contact number), all their rows: the "changed" variant's model.
CHANGED_WHERE = "MOD(CAST(SUBSTR(CONTACT_ID, 2) AS BIGINT), 100) = 0"
CHANGED_COLUMN = "JOB_TITLE"
META = "BENCH.META"
#: The records of the prepared day (the first run's): yesterday's, to every measured run.
PREPARED_RECORDS = "BENCH.RECORDS_PREPARED"
#: Bumped when what ``prepare_state`` leaves changes: data sets prepared before are redone.
PREPARED_VERSION = 2
#: Rows the baseline turns into Python values at a time.
BASELINE_CHUNK = 100_000


def shipped_sync() -> Any:
    from iterable_sync.settings import PACKAGE_DIR
    from iterable_sync.sync.config import load_syncs

    syncs = load_syncs(PACKAGE_DIR.parent / "syncs.yaml").syncs
    return next(s for s in syncs if s.name == SYNC_NAME)


def state_table_name() -> str:
    """The shipped sync's state table (most of the product's bytes)."""
    from iterable_sync.sync.plan.tables import SyncTables

    return SyncTables(SYNC_NAME).state


def snapshot_table_name() -> str:
    """Where the model asset snapshots the shipped sync's model."""
    from iterable_sync.sync.plan import tables

    return tables.snapshot_table(shipped_sync())


def model_sql(variant: str, columns: list[str]) -> str:
    """The benchmark's model (Snowflake dialect): every row; or every row with 1% changed."""
    if variant == "unchanged":
        return f"SELECT * FROM {SOURCE}"
    select = [
        f"CASE WHEN {CHANGED_WHERE} THEN COALESCE({c}, '') || ' (changed)' ELSE {c} END AS {c}"
        if c == CHANGED_COLUMN
        else c
        for c in columns
    ]
    return f"SELECT {', '.join(select)} FROM {SOURCE}"


def _source_columns(conn: Any) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'SENSITIVE' AND table_name = ?"
            " ORDER BY ordinal_position",
            [SOURCE.split(".")[1]],
        ).fetchall()
    ]


# ------------------------------------------------------------------------- the data set


def _meta(conn: Any) -> dict[str, str]:
    conn.execute("CREATE SCHEMA IF NOT EXISTS BENCH")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (KEY VARCHAR PRIMARY KEY, VALUE VARCHAR)")
    return dict(conn.execute(f"SELECT KEY, VALUE FROM {META}").fetchall())


def _set_meta(conn: Any, **values: str) -> None:
    _meta(conn)
    for key, value in values.items():
        conn.execute(f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", [key, value])


def seeded_database(rows: int, log: Any = print) -> Path:
    """The DuckDB file with ``rows`` seeded contacts: reused when its rows and seed match."""
    import duckdb

    from iterable_sync.seed import seed_contacts

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"contacts-{rows}-seed{SEED}.duckdb"
    if path.exists():
        conn = duckdb.connect(str(path))
        try:
            meta = _meta(conn)
            if meta.get("rows") == str(rows) and meta.get("seed") == str(SEED):
                return path
        finally:
            conn.close()
        path.unlink()
    log(f"  seeding {rows:,} contacts into {path.relative_to(WORK.parent.parent)} ...")
    started = time.perf_counter()
    conn = duckdb.connect(str(path))
    try:
        seed_contacts(conn, rows, SEED, as_of=AS_OF)
        _set_meta(conn, rows=str(rows), seed=str(SEED), as_of=AS_OF.isoformat())
    finally:
        conn.close()
    log(f"  seeded in {time.perf_counter() - started:.0f} s")
    return path


def _field_types(session: Any, sync: Any, existing: dict[str, str] | None = None) -> dict[str, str]:
    """As the diff asset infers them: ``existing`` is what Iterable's getFields answers
    (nothing for a project that has no field yet)."""
    from iterable_sync.sync import planning
    from iterable_sync.sync.plan.field_types import infer_field_types
    from iterable_sync.sync.plan.tables import snapshot_table

    column_types = planning.column_types(session, sync)
    return infer_field_types(
        session, sync, snapshot_table(sync), column_types, existing or {}
    )


def _sql_version(session: Any, sync: Any, field_types: dict[str, str]) -> str:
    """Changes when the records' recipe does: state prepared by another version is rebuilt
    (and the prepared records, whose recipe a measured run must find)."""
    from iterable_sync.sync import planning
    from iterable_sync.sync.plan.records import records_recipe
    from iterable_sync.sync.plan.state import STATE_COMPRESSED
    from iterable_sync.sync.plan.tables import snapshot_table

    types = planning.column_types(session, sync)
    recipe = records_recipe(sync, snapshot_table(sync), types, PROJECT_TYPE, field_types)
    # State's layout (its compressed columns) counts too: state laid out otherwise is
    # prepared again, or the disk figures would measure the old layout.
    return f"{recipe}:{','.join(STATE_COMPRESSED)}:{PREPARED_VERSION}"


def prepare_state(path: str) -> dict[str, Any]:
    """(In a child.) A first run whose diff is folded into state, and the ledger filled."""
    from iterable_sync.sync import planning
    from iterable_sync.sync.plan import budget
    from iterable_sync.sync.plan.tables import SyncTables, snapshot_table
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    sync = shipped_sync()
    tables = SyncTables(sync.name)
    with DuckDBWarehouse(path=path).session() as session:
        conn = session.conn  # type: ignore[attr-defined]
        meta = _meta(conn)
        schema, table = snapshot_table(sync).split(".")
        if meta.get("field_types") and session.table_exists(schema, table):
            # Prepared before: the first run's field types are stored (getFields' answer),
            # and the state stands while the records SQL it was built with is unchanged.
            known = json.loads(meta["field_types"])
            current = meta.get("state_version") == _sql_version(session, sync, known)
            if current and session.table_exists(*PREPARED_RECORDS.split(".")):
                inference = meta.get("inference_s")
                return {"prepared": False, "inference_s": float(inference) if inference else None}
        snapshot(session, sync, "unchanged")
        progress("first run: field-type inference")
        started = time.perf_counter()
        field_types = _field_types(session, sync)
        inference_s = time.perf_counter() - started
        version = _sql_version(session, sync, field_types)
        progress("first run: records and diff")
        started = time.perf_counter()
        for table in (tables.state, tables.diff, tables.records, budget.LEDGER_TABLE):
            session.execute(f"DROP TABLE IF EXISTS {table}")
        counts = planning.build_records_and_diff(session, sync, PROJECT_TYPE, False, field_types)
        first_run_s = time.perf_counter() - started
        progress("folding the diff into state")
        session.execute(
            f"INSERT INTO {tables.state} (PK, HASH, FAST, EMAIL, USER_ID, PAYLOAD, IN_MODEL,"
            " OUTCOME, FIRST_SEEN, LAST_SYNCED, LAST_RUN_ID)"
            " SELECT PK, HASH, FAST, EMAIL, USER_ID, PAYLOAD, TRUE, 'synced',"
            " CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, 'bench'"
            f" FROM {tables.diff}"
        )
        progress("filling the queried-records ledger")
        budget.record_queried(session, sync, budget.billing_period())
        # The records of this day as its send left them (each marked counted this period),
        # for every measured run to start from (reset_records).
        session.execute(
            f"CREATE OR REPLACE TABLE {PREPARED_RECORDS} AS SELECT * FROM {tables.records}"
        )
        # What getFields answers from now on: the types the first run gave the fields.
        _set_meta(
            conn,
            state_version=version,
            field_types=json.dumps(field_types),
            inference_s=f"{inference_s:.3f}",
        )
        return {
            "prepared": True,
            "inference_s": inference_s,
            "first_run_s": first_run_s,
            "counts": counts,
        }


# ------------------------------------------------------------------------- the product


def reset_records(path: str) -> dict[str, Any]:
    """(In a child, before each measured run; not measured.) The sync's records as the
    prepared day left them: a daily run refreshes yesterday's records, and a run measured
    after another would find today's already made."""
    from iterable_sync.sync.plan.records import RECORD_TYPES, RECORDS_COMPRESSED
    from iterable_sync.sync.plan.tables import SyncTables
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    records = SyncTables(SYNC_NAME).records
    with DuckDBWarehouse(path=path).session() as session:
        # Made as the planner makes it (compressed), not as a CREATE ... AS copy would.
        session.execute(f"DROP TABLE IF EXISTS {records}")
        session.create_table(records, RECORD_TYPES, RECORDS_COMPRESSED)
        session.execute(f"INSERT INTO {records} SELECT * FROM {PREPARED_RECORDS}")
    return {"reset": True}


def snapshot(session: Any, sync: Any, variant: str) -> str:
    """The model asset's work, as the shipped model is snapshotted (``models.yaml``: a table
    copy, or a view the plan reads in one transaction); returns the kind made."""
    from iterable_sync.models import Model, load_models
    from iterable_sync.models.snapshot import snapshot_model

    shipped = load_models()[sync.model]
    model = Model(
        name=shipped.name,
        sql=model_sql(variant, _source_columns(session.conn)),
        snapshot=shipped.snapshot,
    )
    return snapshot_model(session, model).value


def plan_product(path: str, variant: str) -> dict[str, Any]:
    """(In a child.) Snapshot, records + hash + diff, checks: what one daily run plans."""
    started = time.perf_counter()
    from iterable_sync import sync_assets
    from iterable_sync.checks import sync_checks
    from iterable_sync.sync import planning
    from iterable_sync.sync.config import Budget
    from iterable_sync.sync.plan import budget
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    imported = time.perf_counter()
    sync = shipped_sync()
    with DuckDBWarehouse(path=path).session() as session:
        progress("snapshot")
        kind = snapshot(session, sync, variant)
        snapshotted = time.perf_counter()
        existing = json.loads(_meta(session.conn).get("field_types") or "{}")
        # As the diff asset does (sync_assets.build_diff_asset): one transaction, the model
        # read at one point in time (a view snapshot is read nowhere else).
        with session.consistent_read():
            progress("records and diff")
            # In a daily run every mapped field exists in Iterable already (getFields), so
            # its type is not inferred again.
            field_types = _field_types(session, sync, existing)
            counts = planning.build_records_and_diff(
                session, sync, PROJECT_TYPE, False, field_types
            )
            sync_assets.diff_preview(session, sync)
            diffed = time.perf_counter()
            progress("checks")
            checks = sync_checks.RecordChecks(session, sync)
            checks.budget(Budget(), budget.billing_period())
            results = checks.results(field_types)
        checked = time.perf_counter()
    return {
        "snapshot": kind,
        "import_s": imported - started,
        "snapshot_s": snapshotted - imported,
        "diff_s": diffed - snapshotted,
        "checks_s": checked - diffed,
        "counts": counts,
        "checks": {r.check_name: r.passed for r in results},
    }


# ------------------------------------------------------------------------- the baseline


def _baseline_columns(sync: Any) -> tuple[str, list[tuple[str, str]]]:
    ids = [("email", sync.identifiers.email), ("userId", sync.identifiers.userId)]
    fields = [(m.field, m.column) for m in sync.mapping]
    return sync.primary_key, [(k, c) for k, c in ids if c] + fields


def plan_baseline(
    path: str, variant: str, previous: str | None, save: str | None
) -> dict[str, Any]:
    """(In a child.) The hand-written sync: pandas, a Python hash per row, compare in memory."""
    import duckdb
    import pandas as pd
    import sqlglot

    started = time.perf_counter()
    sync = shipped_sync()
    key, columns = _baseline_columns(sync)
    conn = duckdb.connect(path, read_only=True)
    progress("pulling the model into pandas")
    query = sqlglot.transpile(model_sql(variant, _source_columns(conn)), "snowflake", "duckdb")[0]
    # Arrow-backed columns, as pandas 2 offers: the object-dtype frame of `.df()` needed
    # 12 GB before 10M rows were in (1.9 GB at 1M), so the baseline never got to hashing.
    frame = conn.sql(query).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
    conn.close()
    pulled = time.perf_counter()
    progress(f"hashing {len(frame):,} rows")
    names = [name for name, _ in columns]
    hashes: list[str] = []
    mapped = frame[[c for _, c in columns]]
    # A slice at a time as Python lists: row tuples of Arrow-backed columns cost twice as
    # much, and the whole frame as lists would not fit.
    for start in range(0, len(frame), BASELINE_CHUNK):
        chunk = mapped.iloc[start : start + BASELINE_CHUNK]
        for values in zip(*(chunk[c].tolist() for c in chunk.columns), strict=True):
            row = dict(zip(names, values, strict=True))
            text = json.dumps(row, sort_keys=True, default=str)
            hashes.append(hashlib.md5(text.encode()).hexdigest())
        if start % 1_000_000 == 0 and start:
            progress(f"hashed {start:,} of {len(frame):,} rows")
    current = pd.DataFrame({"pk": frame[key].astype(str), "hash": hashes})
    # Duplicate keys: keep the first (a hand-written sync rarely does better).
    current = current.drop_duplicates("pk")
    hashed = time.perf_counter()
    changes: dict[str, int] = {}
    if previous:
        progress("comparing with the previous snapshot")
        before = pd.read_parquet(previous)
        merged = current.merge(before, on="pk", how="outer", suffixes=("", "_old"))
        changes = {
            "added": int(merged["hash_old"].isna().sum()),
            "removed": int(merged["hash"].isna().sum()),
            "changed": int(
                (merged["hash"].notna() & merged["hash_old"].notna()
                 & (merged["hash"] != merged["hash_old"])).sum()
            ),
        }  # fmt: skip
        # What it would send: the changed rows' data, still in memory.
        changed_keys = set(merged.loc[merged["hash"] != merged["hash_old"], "pk"])
        frame[frame[key].astype(str).isin(changed_keys)].to_dict("records")
    if save:
        current.to_parquet(save)
    return {
        "pull_s": pulled - started,
        "hash_s": hashed - pulled,
        "compare_s": time.perf_counter() - hashed,
        "rows": len(frame),
        "changes": changes,
    }
