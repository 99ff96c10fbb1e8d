"""Run a sync of any type over a model snapshot written by the test, row by row.

The snapshot table ``ITERABLE_SYNC.<MODEL>`` is what the model asset would have made; the
test writes it directly (exact values, any columns), then runs the diff and send assets
over a real DuckDB file and the emulator over HTTP, as ``harness.Harness`` does.
"""

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import yaml

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import SyncConfig, parse_syncs
from iterable_sync.sync_assets import build_diff_asset, build_sync_asset
from iterable_sync_tests.sync.harness import Harness

JSON_TYPES = ("VARIANT", "ARRAY", "OBJECT")


def make(type_: str, **keys: Any) -> SyncConfig:
    """A sync of ``type_`` over the model ``test_model``, keyed by ``ID``."""
    entry = {"name": f"test_{type_}", "model": "test_model", "type": type_, "primary_key": "ID"}
    entry.update(keys)
    return parse_syncs(yaml.safe_dump({"syncs": [entry]})).syncs[0]


def upsert_users(mapping: list[dict[str, str]]) -> SyncConfig:
    """A users upsert matched by ``EMAIL`` with ``mapping``."""
    return make(
        "users", mode="upsert", match="email", identifiers={"email": "EMAIL"}, mapping=mapping
    )


@dataclass
class TypedHarness(Harness):
    columns: dict[str, str] | None = None

    def assets(self) -> list[Any]:
        return [
            build_diff_asset(self.sync, self.warehouse.kind, self.project_type, self.budget),
            build_sync_asset(self.sync, self.project_type, self.budget),
        ]

    @property
    def snapshot(self) -> str:
        return f"{SYNC_SCHEMA}.{self.sync.model.upper()}"

    def load(self, rows: list[dict[str, Any]], columns: dict[str, str] | None = None) -> None:
        """(Re)write the model snapshot with exactly these rows (Snowflake column types;
        VARIANT columns take Python lists and dicts)."""
        self.columns = columns or self.columns
        assert self.columns, "give the snapshot's columns"
        names = list(self.columns)
        with self.warehouse.session() as session:
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
            ddl = ", ".join(f"{n} {t}" for n, t in self.columns.items())
            session.execute(f"CREATE OR REPLACE TABLE {self.snapshot} ({ddl})")
            if not rows:
                return
            staged = ", ".join(
                f"{n} {'VARCHAR' if t in JSON_TYPES else t}" for n, t in self.columns.items()
            )
            staging = f"{SYNC_SCHEMA}.TEST_LOAD"
            session.execute(f"CREATE OR REPLACE TABLE {staging} ({staged})")
            data = {
                n: [
                    json.dumps(r.get(n))
                    if self.columns[n] in JSON_TYPES and r.get(n) is not None
                    else r.get(n)
                    for r in rows
                ]
                for n in names
            }
            session.append(staging, pa.table(data))
            select = ", ".join(
                f"PARSE_JSON({n})" if self.columns[n] in JSON_TYPES else n for n in names
            )
            session.execute(f"INSERT INTO {self.snapshot} SELECT {select} FROM {staging}")
            session.execute(f"DROP TABLE {staging}")

    def sync_run(self, **run_config: Any) -> dict[str, Any]:
        """Run diff and send; the send's metadata."""
        return self.sync_metadata(self.run(run_config or None), self.sync)

    def calls_since(self, seq: int) -> list[dict[str, Any]]:
        return self.write_calls(since=seq)

    def last_seq(self) -> int:
        calls = self.emulator.admin.calls(limit=100_000)
        return max((int(c["seq"]) for c in calls), default=0)


PLAN_COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "PLAN": "VARCHAR"}


def plan_users(warehouse: Any, emulator: Any, rows: int) -> TypedHarness:
    """A users upsert of ``rows`` contacts (email ``c<i>@example.com``, field ``plan`` =
    "free"), loaded: the smallest sync that writes, for tests about the run around it."""
    harness = TypedHarness(
        warehouse=warehouse,
        emulator=emulator,
        sync=make(
            "users",
            mode="upsert",
            identifiers={"email": "EMAIL"},
            mapping=[{"column": "PLAN", "field": "plan"}],
        ),
    )
    harness.load(
        [{"ID": f"C{i}", "EMAIL": f"c{i}@example.com", "PLAN": "free"} for i in range(rows)],
        PLAN_COLUMNS,
    )
    return harness


def synced_users(
    warehouse: Any,
    emulator: Any,
    mapping: list[dict[str, str]],
    rows: list[dict[str, Any]],
    columns: dict[str, str],
) -> "TypedHarness":
    """A users upsert (``upsert_users``) whose model ``rows`` Iterable has all accepted once."""
    harness = TypedHarness(warehouse=warehouse, emulator=emulator, sync=upsert_users(mapping))
    harness.load(rows, columns)
    assert harness.sync_run()["accepted"] == len(rows)
    return harness
