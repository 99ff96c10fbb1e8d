"""A four-sync scenario — users, events, a static list and a catalog — over model snapshots
generated in the warehouse, and a check that Iterable (the emulator's state), the sync's
state tables and the models agree, row by row.

Shared by the fault tests (about 10,000 rows) and ``benchmarks/faults_1m.py`` (1M rows):
the values of row ``i`` follow from ``i``, so nothing has to be held to verify them.
"""

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import SyncConfig, parse_syncs
from iterable_sync.sync.objects import OBJECTS_TABLE
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse_resource import Warehouse

SYNCS_YAML = """
syncs:
  - name: fault_users
    model: fault_users_model
    type: users
    mode: upsert
    match: email
    primary_key: ID
    identifiers: {email: EMAIL}
    mapping:
      - {column: NAME, field: name}
      - {column: SCORE, field: score}
      - {column: PLAN, field: plan}
  - name: fault_events
    model: fault_events_model
    type: events
    event_name: faultEvent
    created_at_column: HAPPENED_AT
    primary_key: ID
    identifiers: {email: EMAIL}
    mapping:
      - {column: N, field: n}
      - {column: PLAN, field: plan}
  - name: fault_list
    model: fault_list_model
    type: list
    list_name: Fault list
    primary_key: ID
    identifiers: {email: EMAIL}
    mapping:
      - {column: PLAN, field: listPlan}
  - name: fault_catalog
    model: fault_catalog_model
    type: catalog
    catalog: fault-items
    primary_key: ID
    mapping:
      - {column: NAME, field: name}
      - {column: PRICE, field: price}
"""

PLANS = ("free", "premium", "ultimate")
CATALOG = "fault-items"
LIST_NAME = "Fault list"
EVENT_NAME = "faultEvent"


def syncs() -> list[SyncConfig]:
    return parse_syncs(SYNCS_YAML).syncs


@dataclass(frozen=True)
class Sizes:
    users: int
    events: int
    members: int
    items: int

    @classmethod
    def of(cls, total: int) -> "Sizes":
        """``total`` rows split 40/30/20/10 across the four models."""
        return cls(total * 4 // 10, total * 3 // 10, total * 2 // 10, total // 10)

    @property
    def total(self) -> int:
        return self.users + self.events + self.members + self.items


# Row i of each model, as the warehouse builds it (DuckDB SQL over range(n)) and as Python
# expects to find it in Iterable. Names carry non-ASCII text on purpose.
def email(i: int) -> str:
    return f"person.{i}@example.com"


def user_fields(i: int) -> dict[str, Any]:
    return {"name": f"Zoë {i} ✓", "score": i * 7 % 1000, "plan": PLANS[i % 3]}


def event_fields(i: int) -> dict[str, Any]:
    return {"n": i, "plan": PLANS[i % 3]}


def item_fields(i: int) -> dict[str, Any]:
    return {"name": f"Item {i}", "price": i * 0.5}


def write_models(warehouse: Warehouse, sizes: Sizes) -> None:
    """The four model snapshots, generated in the warehouse (DuckDB SQL)."""
    plan = "list_value('free', 'premium', 'ultimate')[(i % 3) + 1]"
    tables = {
        "FAULT_USERS_MODEL": (
            f"SELECT 'U' || i AS ID, 'person.' || i || '@example.com' AS EMAIL,"
            f" 'Zoë ' || i || ' ✓' AS NAME, CAST(i * 7 % 1000 AS BIGINT) AS SCORE,"
            f" {plan} AS PLAN FROM range({sizes.users}) t(i)"
        ),
        # Events belong to the users of the model (their i modulo the users).
        "FAULT_EVENTS_MODEL": (
            f"SELECT 'E' || i AS ID, 'person.' || (i % {max(sizes.users, 1)}) || '@example.com'"
            f" AS EMAIL, CAST(i AS BIGINT) AS N, {plan} AS PLAN,"
            f" TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i) AS HAPPENED_AT"
            f" FROM range({sizes.events}) t(i)"
        ),
        "FAULT_LIST_MODEL": (
            f"SELECT 'L' || i AS ID, 'person.' || i || '@example.com' AS EMAIL,"
            f" {plan} AS PLAN FROM range({sizes.members}) t(i)"
        ),
        "FAULT_CATALOG_MODEL": (
            f"SELECT 'item-' || i AS ID, 'Item ' || i AS NAME, i * 0.5 AS PRICE"
            f" FROM range({sizes.items}) t(i)"
        ),
    }
    with warehouse.session() as session:
        session.execute_native(f"CREATE SCHEMA IF NOT EXISTS {SYNC_SCHEMA}")
        for table, select in tables.items():
            session.execute_native(f"CREATE OR REPLACE TABLE {SYNC_SCHEMA}.{table} AS {select}")


@dataclass
class Verdict:
    """What the verification compared and every disagreement it found (up to a sample)."""

    rows_verified: int = 0
    mismatches: int = 0
    samples: list[str] = field(default_factory=list)

    def mismatch(self, what: str) -> None:
        self.mismatches += 1
        if len(self.samples) < 20:
            self.samples.append(what)


def _emulator_db(state_dir: Path) -> sqlite3.Connection:
    # Read-only: the emulator keeps writing its own file (WAL); this only reads it.
    return sqlite3.connect(f"file:{state_dir / 'state.sqlite3'}?mode=ro", uri=True)


def _state(warehouse: Warehouse, sync: SyncConfig) -> Iterator[dict[str, Any]]:
    """Each record's state row beside its record (the model as the last diff hashed it: its
    fast hash, which state takes with the MD5 of the same values)."""
    tables = SyncTables(sync.name)
    with warehouse.session() as session:
        for batch in session.iter_batches(
            f"SELECT r.PK, r.FAST AS RECORD_HASH, s.FAST AS STATE_HASH, s.OUTCOME,"
            f" s.IN_MODEL FROM {tables.records} r FULL OUTER JOIN {tables.state} s"
            f" ON r.PK = s.PK"
        ):
            yield from batch


def verify(warehouse: Warehouse, state_dir: Path, sizes: Sizes) -> Verdict:
    """Iterable equals the models; each sync's state says synced, with the model's hash, for
    exactly the model's rows — so nothing is recorded as sent that Iterable lacks."""
    verdict = Verdict()
    db = _emulator_db(state_dir)
    try:
        _verify_users(db, sizes, verdict)
        _verify_events(db, sizes, verdict)
        _verify_list(db, warehouse, sizes, verdict)
        _verify_catalog(db, sizes, verdict)
    finally:
        db.close()
    for sync in syncs():
        for row in _state(warehouse, sync):
            if row["RECORD_HASH"] is None:
                verdict.mismatch(f"{sync.name}: state holds {row['PK']} the model does not")
            elif row["OUTCOME"] != "synced" or row["STATE_HASH"] != row["RECORD_HASH"]:
                verdict.mismatch(
                    f"{sync.name}: {row['PK']} state {row['OUTCOME']}/{row['STATE_HASH']}"
                    f" vs record {row['RECORD_HASH']}"
                )
    return verdict


def _verify_users(db: sqlite3.Connection, sizes: Sizes, verdict: Verdict) -> None:
    found: dict[str, dict[str, Any]] = {}
    for mail, data in db.execute("SELECT email, data FROM users"):
        if mail in found:
            verdict.mismatch(f"user {mail} exists twice")
        found[mail] = json.loads(data)
    for i in range(sizes.users):
        data = found.get(email(i))
        expected = user_fields(i)
        got = {k: data.get(k) for k in expected} if data is not None else None
        if got != expected:
            verdict.mismatch(f"user {email(i)}: {got} != {expected}")
        verdict.rows_verified += 1


def _verify_events(db: sqlite3.Connection, sizes: Sizes, verdict: Verdict) -> None:
    seen: dict[int, int] = {}
    rows = db.execute(
        "SELECT e.data, u.email FROM events e JOIN users u ON u.id = e.user_row"
        " WHERE e.event_name = ?",
        [EVENT_NAME],
    )
    for data, mail in rows:
        fields = json.loads(data)
        n = fields.get("n")
        if not isinstance(n, int) or not 0 <= n < sizes.events:
            verdict.mismatch(f"event not in the model: {fields}")
            continue
        seen[n] = seen.get(n, 0) + 1
        expected = event_fields(n)
        if {k: fields.get(k) for k in expected} != expected or mail != email(n % sizes.users):
            verdict.mismatch(f"event {n}: {fields} of {mail}")
    for n in range(sizes.events):
        copies = seen.get(n, 0)
        if copies != 1:
            verdict.mismatch(f"event {n} is in Iterable {copies} times")
        verdict.rows_verified += 1


def _verify_list(
    db: sqlite3.Connection, warehouse: Warehouse, sizes: Sizes, verdict: Verdict
) -> None:
    with warehouse.session() as session:
        recorded = session.query(
            f"SELECT OBJECT_ID FROM {OBJECTS_TABLE} WHERE SYNC = 'fault_list' AND KIND = 'list'"
        )
    lists = db.execute("SELECT id FROM lists WHERE name = ?", [LIST_NAME]).fetchall()
    if len(recorded) != 1 or [str(r[0]) for r in lists] != [recorded[0]["OBJECT_ID"]]:
        verdict.mismatch(f"list: Iterable has {lists}, the warehouse recorded {recorded}")
        return
    members = {
        mail
        for (mail,) in db.execute(
            "SELECT u.email FROM list_members m JOIN users u ON u.id = m.user_row"
            " WHERE m.list_id = ?",
            [lists[0][0]],
        )
    }
    expected = {email(i) for i in range(sizes.members)}
    for extra in sorted(members - expected)[:5]:
        verdict.mismatch(f"list member not in the model: {extra}")
    for i in range(sizes.members):
        if email(i) not in members:
            verdict.mismatch(f"list member missing: {email(i)}")
        verdict.rows_verified += 1


def _verify_catalog(db: sqlite3.Connection, sizes: Sizes, verdict: Verdict) -> None:
    items = {
        item_id: json.loads(value)
        for item_id, value in db.execute(
            "SELECT i.item_id, i.value FROM catalog_items i JOIN catalogs c"
            " ON c.id = i.catalog_id WHERE c.name = ?",
            [CATALOG],
        )
    }
    if len(items) != sizes.items:
        verdict.mismatch(f"catalog holds {len(items)} items, the model {sizes.items}")
    for i in range(sizes.items):
        value = items.get(f"item-{i}")
        expected = item_fields(i)
        got = {k: value.get(k) for k in expected} if value is not None else None
        if got != expected:
            verdict.mismatch(f"item-{i}: {got} != {expected}")
        verdict.rows_verified += 1
