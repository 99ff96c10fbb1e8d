"""Case 1's anchors: what planning costs done well by hand, on the same rows and columns.

Each anchor hashes the columns the shipped sync maps (its primary key, identifiers and mapped
columns) of the same model (``planning.model_sql``, each variant) and compares the hashes with
a previous run's, which ``prepare_anchors`` makes once from the unchanged data (not measured),
as the product's state is prepared. Each runs in its own bounded child:

- ``native_floor``: DuckDB's own ``hash()`` of the columns, kept as a table (the next run's
  previous hashes) and a full outer join with the previous ones into a table of the keys added,
  changed and removed; 512 MB memory limit. Nothing a sync in the warehouse does can cost
  less: the floor. Its hash is not stable across DuckDB versions, so a sync could not keep it.
- ``stable_hash``: the same with a hash that is stable (MD5 of ``to_json(struct_pack(...))``),
  what a hand-written SQL sync would keep; 512 MB memory limit.
- ``pandas_vectorized``: a hand-written Python sync done well: the columns streamed in
  chunks of a million rows (Arrow-backed pandas columns), ``pd.util.hash_pandas_object`` per
  chunk (vectorized, no per-row Python), outer ``merge`` of the keys' hashes with the
  previous ones (Parquet), and the changed rows' data read again. (Holding the whole model
  in one frame, as the first version did, passed 16 GB at 10M rows.)

The product's plan also makes each record's payload, keeps state and runs the checks; the
anchors make no payload. The ratios of the table are the product's times over these.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks import planning
from benchmarks._harness import WORK, progress

#: As measured in issue 25: the anchors in the warehouse run under DuckDB's 512 MB limit.
ANCHOR_MEMORY_LIMIT = "512MB"
NATIVE_PREVIOUS = "BENCH.ANCHOR_NATIVE_PREVIOUS"
NATIVE_CURRENT = "BENCH.ANCHOR_NATIVE_CURRENT"
NATIVE_DIFF = "BENCH.ANCHOR_NATIVE_DIFF"
STABLE_PREVIOUS = "BENCH.ANCHOR_STABLE_PREVIOUS"
STABLE_CURRENT = "BENCH.ANCHOR_STABLE_CURRENT"
STABLE_DIFF = "BENCH.ANCHOR_STABLE_DIFF"


def synced_columns() -> tuple[str, list[str]]:
    """The shipped sync's primary key and every column it sends (identifiers, mapped)."""
    key, columns = planning._baseline_columns(planning.shipped_sync())
    names = [column for _, column in columns]
    return key, [key] + [c for c in dict.fromkeys(names) if c != key]


#: In the name of the pandas anchor's cached previous hashes: changes when they are made
#: otherwise, so a stale file is not compared against.
PANDAS_RECIPE = "v3"


def pandas_previous_file(rows: int) -> Path:
    return WORK / f"anchor-pandas-{PANDAS_RECIPE}-{rows}-seed{planning.SEED}.parquet"


def _duckdb_model(conn: Any, variant: str) -> str:
    import sqlglot

    sql = planning.model_sql(variant, planning._source_columns(conn))
    return sqlglot.transpile(sql, "snowflake", "duckdb")[0]


def _native_hash(columns: list[str]) -> str:
    return f"hash({', '.join(columns)})"


def _stable_hash(columns: list[str]) -> str:
    fields = ", ".join(f"{c} := {c}" for c in columns)
    return f"md5(to_json(struct_pack({fields})))"


def _hashes(key: str, digest: str, model: str) -> str:
    """One hash per key: the model has duplicate keys (the product quarantines them), and a
    join of duplicates would report their pairs as changes. The smallest hash of a key's rows
    stands for it, which a changed row changes as often as not; an anchor keeps it cheap."""
    return f"SELECT {key} AS PK, MIN({digest}) AS HASH FROM ({model}) GROUP BY {key}"


def _connect(path: str) -> Any:
    import duckdb

    conn = duckdb.connect(path)
    conn.execute(f"SET memory_limit = '{ANCHOR_MEMORY_LIMIT}'")
    conn.execute("SET preserve_insertion_order = false")
    return conn


def prepare_anchors(path: str, rows: int) -> dict[str, Any]:
    """(In a child, not measured.) The previous run's hashes of each anchor, from the
    unchanged data: tables in the warehouse, and a Parquet file for pandas."""
    key, columns = synced_columns()
    conn = _connect(path)
    try:
        conn.execute("CREATE SCHEMA IF NOT EXISTS BENCH")
        model = _duckdb_model(conn, "unchanged")
        for table, digest in (
            (NATIVE_PREVIOUS, _native_hash(columns)),
            (STABLE_PREVIOUS, _stable_hash(columns)),
        ):
            progress(f"previous hashes: {table}")
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS {_hashes(key, digest, model)}")
    finally:
        conn.close()
    target = pandas_previous_file(rows)
    if not target.exists():
        progress("previous hashes: pandas")
        _pandas_all_hashes(path, "unchanged", key, columns).to_parquet(target)
    return {"prepared": True}


def _diff_in_warehouse(
    path: str, variant: str, digest: str, previous: str, current: str, diff: str
) -> dict[str, Any]:
    key, _ = synced_columns()
    started = time.perf_counter()
    conn = _connect(path)
    try:
        model = _duckdb_model(conn, variant)
        progress("hashing")
        conn.execute(f"CREATE OR REPLACE TABLE {current} AS {_hashes(key, digest, model)}")
        hashed = time.perf_counter()
        progress("full outer join")
        conn.execute(
            f"CREATE OR REPLACE TABLE {diff} AS"
            " SELECT COALESCE(c.PK, p.PK) AS PK,"
            " CASE WHEN p.PK IS NULL THEN 'added' WHEN c.PK IS NULL THEN 'removed'"
            " ELSE 'changed' END AS KIND"
            f" FROM {current} c FULL OUTER JOIN {previous} p ON c.PK = p.PK"
            " WHERE c.HASH IS DISTINCT FROM p.HASH"
        )
        counts = dict(conn.execute(f"SELECT KIND, COUNT(*) FROM {diff} GROUP BY KIND").fetchall())
    finally:
        conn.close()
    done = time.perf_counter()
    return {
        "hash_s": hashed - started,
        "join_s": done - hashed,
        "total_s": done - started,
        "changes": {kind: int(counts.get(kind, 0)) for kind in ("added", "changed", "removed")},
    }


def native_floor(path: str, variant: str) -> dict[str, Any]:
    """(In a child.) DuckDB ``hash()`` of the synced columns + full outer join: the floor."""
    _, columns = synced_columns()
    return _diff_in_warehouse(
        path, variant, _native_hash(columns), NATIVE_PREVIOUS, NATIVE_CURRENT, NATIVE_DIFF
    )


def stable_hash(path: str, variant: str) -> dict[str, Any]:
    """(In a child.) MD5 of ``to_json(struct_pack(...))`` + full outer join."""
    _, columns = synced_columns()
    return _diff_in_warehouse(
        path, variant, _stable_hash(columns), STABLE_PREVIOUS, STABLE_CURRENT, STABLE_DIFF
    )


# ----------------------------------------------------------------------------- pandas

#: Rows the pandas anchor holds at a time: a hand-written sync done well streams the model
#: (the whole of 10M rows' 19 columns in one frame passed 16 GB).
PANDAS_CHUNK = 1_000_000


def _pandas_chunks(path: str, variant: str, columns: list[str]) -> Any:
    """The synced columns, a frame of Arrow-backed columns per ``PANDAS_CHUNK`` rows."""
    import duckdb
    import pandas as pd

    conn = duckdb.connect(path, read_only=True)
    try:
        model = _duckdb_model(conn, variant)
        reader = conn.sql(f"SELECT {', '.join(columns)} FROM ({model})").to_arrow_reader(
            PANDAS_CHUNK
        )
        for batch in reader:
            yield batch.to_pandas(types_mapper=pd.ArrowDtype)
    finally:
        conn.close()


def _pandas_hashes(frame: Any, key: str, columns: list[str]) -> Any:
    import pandas as pd

    hashes = pd.util.hash_pandas_object(frame[columns], index=False)
    return pd.DataFrame({"pk": frame[key].astype("str").to_numpy(), "hash": hashes.to_numpy()})


def _pandas_all_hashes(path: str, variant: str, key: str, columns: list[str]) -> Any:
    import pandas as pd

    chunks = _pandas_chunks(path, variant, columns)
    parts = [_pandas_hashes(chunk, key, columns) for chunk in chunks]
    # Duplicate keys: one row each (the first), or the merge pairs them up as changes.
    return pd.concat(parts, ignore_index=True).drop_duplicates("pk")


def pandas_vectorized(path: str, variant: str, previous: str) -> dict[str, Any]:
    """(In a child.) A hand-written pandas sync done well: the model streamed in chunks of
    Arrow-backed columns, ``hash_pandas_object`` per chunk (vectorized, no per-row Python),
    an outer ``merge`` of the keys' hashes with the previous run's (Parquet), then the
    changed rows' data read again for the keys to send."""
    import pandas as pd

    key, columns = synced_columns()
    started = time.perf_counter()
    progress("fetching and hashing in chunks")
    hashing_s = 0.0
    parts = []
    for chunk in _pandas_chunks(path, variant, columns):
        hashing = time.perf_counter()
        parts.append(_pandas_hashes(chunk, key, columns))
        hashing_s += time.perf_counter() - hashing
    current = pd.concat(parts, ignore_index=True).drop_duplicates("pk")
    hashed = time.perf_counter()
    progress("merging with the previous hashes")
    before = pd.read_parquet(previous)
    merged = current.merge(before, on="pk", how="outer", suffixes=("", "_old"), indicator=True)
    added = merged["_merge"] == "left_only"
    removed = merged["_merge"] == "right_only"
    changed = (merged["_merge"] == "both") & (merged["hash"] != merged["hash_old"])
    to_send = set(merged.loc[added | changed, "pk"])
    progress(f"reading the {len(to_send):,} rows to send")
    sending = sum(
        int(chunk[key].isin(to_send).sum()) for chunk in _pandas_chunks(path, variant, columns)
    )
    done = time.perf_counter()
    return {
        # Time in hash_pandas_object; the rest of the first pass is fetching.
        "fetch_s": (hashed - started) - hashing_s,
        "hash_s": hashing_s,
        "merge_s": done - hashed,
        "total_s": done - started,
        "rows": len(current),
        "to_send": sending,
        "changes": {
            "added": int(added.sum()),
            "changed": int(changed.sum()),
            "removed": int(removed.sum()),
        },
    }
