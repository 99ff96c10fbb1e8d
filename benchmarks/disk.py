"""Case 1's disk figures: the warehouse's bytes per model row, per table, after a run.

``table_bytes`` reads DuckDB's own layout of the file (``pragma_storage_info`` of each
table: every persistent segment's block and offset in it) after a checkpoint. A segment's
bytes are taken as the distance to the next segment in its block (to the block's end for the
last one, so a block's free tail counts against its last segment), plus a whole block for
each of its additional blocks: an estimate that adds up to the blocks the tables use.

The embedded warehouse writes its tables without DuckDB's ``dict_fsst`` string compression
(``iterable_sync/warehouse.py``: twice as fast to write, larger on disk), and names ZSTD on
state's text columns, most of its bytes; the source table is seeded with DuckDB's defaults.
``compression_compare`` measures the three on the same table: state copied into a fresh file
each way, write time and bytes.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from typing import Any

from benchmarks._harness import WORK, progress


def _tables(conn: Any) -> list[tuple[str, str]]:
    return [
        (schema, name)
        for schema, name in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary"
            " ORDER BY schema_name, table_name"
        ).fetchall()
    ]


def table_bytes(path: str) -> dict[str, Any]:
    """(In a child.) Each table's rows and estimated bytes, the file's size and used bytes."""
    import duckdb

    conn = duckdb.connect(path)
    try:
        conn.execute("CHECKPOINT")
        block_size = int(
            conn.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
        )
        used_blocks = int(
            conn.execute("SELECT used_blocks FROM pragma_database_size()").fetchone()[0]
        )
        segments: list[tuple[str, int, int]] = []  # (table, block, offset)
        extra: dict[str, int] = defaultdict(int)
        rows: dict[str, int] = {}
        for schema, name in _tables(conn):
            table = f"{schema}.{name}"
            progress(f"storage of {table}")
            rows[table] = int(
                conn.execute(f'SELECT COUNT(*) FROM "{schema}"."{name}"').fetchone()[0]
            )
            info = conn.execute(
                "SELECT block_id, block_offset, additional_block_ids"
                f' FROM pragma_storage_info(\'"{schema}"."{name}"\') WHERE persistent'
            ).fetchall()
            for block, offset, additional in info:
                if block is not None and block >= 0:
                    segments.append((table, int(block), int(offset)))
                extra[table] += len(additional or [])
    finally:
        conn.close()
    by_block: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for table, block, offset in segments:
        by_block[block].append((offset, table))
    estimated: dict[str, float] = defaultdict(float)
    for placed in by_block.values():
        placed.sort()
        ends = [offset for offset, _ in placed[1:]] + [block_size]
        for (offset, table), end in zip(placed, ends, strict=True):
            estimated[table] += end - offset
    for table, blocks in extra.items():
        estimated[table] += blocks * block_size
    return {
        "file_bytes": os.path.getsize(path),
        "used_bytes": used_blocks * block_size,
        "tables": {t: {"rows": rows[t], "bytes": int(estimated.get(t, 0))} for t in rows},
    }


def compression_compare(path: str, table: str, zstd: list[str]) -> dict[str, Any]:
    """(In a child.) ``table`` copied into a fresh file three ways: the session's setting
    alone (``dict_fsst`` off: strings uncompressed), DuckDB's defaults (``dict_fsst``), and
    the session's setting with ZSTD named on the ``zstd`` columns (what the product does
    for state, ``WarehouseSession.create_table``): seconds to write and bytes on disk."""
    import duckdb

    outcome: dict[str, Any] = {}
    ways = (("dict_fsst off", "dict_fsst", False), ("defaults", "", False),
            ("zstd", "dict_fsst", True))  # fmt: skip
    for label, setting, named in ways:
        with tempfile.TemporaryDirectory(prefix="bench-disk-", dir=WORK) as tmp:
            target = os.path.join(tmp, "copy.duckdb")
            conn = duckdb.connect(target)
            try:
                conn.execute("SET preserve_insertion_order = false")
                conn.execute(f"SET disabled_compression_methods = '{setting}'")
                conn.execute(f"ATTACH '{path}' AS source (READ_ONLY)")
                schema, name = table.split(".")
                columns = conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_catalog = 'source' AND table_schema = ? AND table_name = ?"
                    " ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
                body = ", ".join(
                    f"{c} {t}" + (" USING COMPRESSION zstd" if named and c in zstd else "")
                    for c, t in columns
                )
                conn.execute(f"CREATE TABLE copy ({body})")
                progress(f"copying {table}, {label}")
                started = time.perf_counter()
                conn.execute(f"INSERT INTO copy SELECT * FROM source.{table}")
                conn.execute("DETACH source")
                conn.execute("CHECKPOINT")
                written = time.perf_counter() - started
                rows = int(conn.execute("SELECT COUNT(*) FROM copy").fetchone()[0])
            finally:
                conn.close()
            outcome[label] = {"write_s": written, "bytes": os.path.getsize(target), "rows": rows}
    return outcome
