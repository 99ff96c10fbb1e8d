"""The emulator's persisted state: one SQLite file (WAL) under the state directory.

One connection, one re-entrant lock: every request's reads and writes run under the lock and
every write request is one ``BEGIN IMMEDIATE`` transaction, so parallel requests serialise
cleanly and a request is applied entirely or not at all. JSON documents (profiles, events,
catalog items) are stored as text; the identifiers a lookup needs are real columns.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic_core import from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(
    id INTEGER PRIMARY KEY, email TEXT, user_id TEXT, data TEXT NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS users_email ON users(email);
CREATE INDEX IF NOT EXISTS users_user_id ON users(user_id);
CREATE TABLE IF NOT EXISTS fields(
    category TEXT NOT NULL, path TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY(category, path));
CREATE TABLE IF NOT EXISTS forgotten(kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY(kind, value));
CREATE TABLE IF NOT EXISTS quota(endpoint TEXT NOT NULL, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    pk INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, user_row INTEGER NOT NULL,
    event_name TEXT NOT NULL, event_type TEXT NOT NULL, created_ms INTEGER NOT NULL,
    data TEXT NOT NULL, extra TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_user ON events(user_row, created_ms);
CREATE TABLE IF NOT EXISTS lists(
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, description TEXT,
    created_ms INTEGER NOT NULL, list_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS list_members(
    list_id INTEGER NOT NULL, user_row INTEGER NOT NULL, PRIMARY KEY(list_id, user_row));
CREATE INDEX IF NOT EXISTS list_members_user ON list_members(user_row);
CREATE TABLE IF NOT EXISTS catalogs(
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_items(
    catalog_id INTEGER NOT NULL, item_id TEXT NOT NULL, value TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL, PRIMARY KEY(catalog_id, item_id));
CREATE TABLE IF NOT EXISTS subscriptions(
    user_row INTEGER NOT NULL, kind TEXT NOT NULL, group_id INTEGER NOT NULL,
    PRIMARY KEY(user_row, kind, group_id));
CREATE TABLE IF NOT EXISTS catalog_fields(
    catalog_id INTEGER NOT NULL, path TEXT NOT NULL, type TEXT NOT NULL,
    PRIMARY KEY(catalog_id, path));
"""
_TABLES = (
    "users",
    "fields",
    "forgotten",
    "quota",
    "events",
    "lists",
    "list_members",
    "catalogs",
    "catalog_items",
    "subscriptions",
    "catalog_fields",
)
_CHUNK = 500  # stay far below SQLite's bound-parameter limit

#: The profile fields kept in the ``subscriptions`` table (list memberships are in
#: ``list_members``).
SUBSCRIPTION_KINDS = (
    "subscribedMessageTypeIds",
    "unsubscribedChannelIds",
    "unsubscribedMessageTypeIds",
)

UserRow = tuple[int, str | None, str | None, str]  # id, email, user_id, data JSON


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class StateConflictError(RuntimeError):
    """The state directory belongs to a project of another type."""


class Store:
    def __init__(self, path: Path, project_type: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in tx()).
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose
        # the last commits), and several times faster than FULL.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.execute("PRAGMA cache_size=-65536")  # 64 MB: bulk upserts stay in memory
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.executescript(SCHEMA)
        stored = self.conn.execute("SELECT value FROM meta WHERE key='project_type'").fetchone()
        if stored is None:
            self.conn.execute("INSERT INTO meta VALUES('project_type', ?)", (project_type,))
        elif stored[0] != project_type:
            # Iterable never changes a project's type; neither does a state directory.
            raise StateConflictError(
                f"state in {path} is a {stored[0]!r} project, not {project_type!r}"
            )

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def reset(self) -> None:
        with self.tx() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")

    # --- users -------------------------------------------------------------------------

    def users_by(self, column: str, values: Sequence[str]) -> list[UserRow]:
        assert column in ("email", "user_id")
        rows: list[UserRow] = []
        for chunk in _chunks(values):
            marks = ",".join("?" * len(chunk))
            rows += self.conn.execute(
                f"SELECT id, email, user_id, data FROM users WHERE {column} IN ({marks}) "
                "ORDER BY id",
                list(chunk),
            ).fetchall()
        return rows

    def user_keys(self, column: str, values: Sequence[str]) -> list[tuple[int, Any, Any]]:
        """id, email, user_id of the users whose ``column`` is one of ``values``."""
        assert column in ("email", "user_id")
        rows: list[tuple[int, Any, Any]] = []
        for chunk in _chunks(values):
            marks = ",".join("?" * len(chunk))
            rows += self.conn.execute(
                f"SELECT id, email, user_id FROM users WHERE {column} IN ({marks}) ORDER BY id",
                list(chunk),
            ).fetchall()
        return rows

    def user_data(self, user_row: int) -> str | None:
        found = self.conn.execute("SELECT data FROM users WHERE id=?", (user_row,)).fetchone()
        return found[0] if found else None

    def next_user_id(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()[0])

    def upsert_users(self, rows: Iterable[tuple[int, str | None, str | None, str, float]]) -> None:
        self.conn.executemany(
            "INSERT INTO users(id, email, user_id, data, updated) VALUES(?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET email=excluded.email, user_id=excluded.user_id, "
            "data=excluded.data, updated=excluded.updated",
            rows,
        )

    def patch_users(
        self, rows: Iterable[tuple[str | None, str | None, str, str, float, int]]
    ) -> None:
        """Merge JSON patches into stored profiles without a Python round trip."""
        self.conn.executemany(
            "UPDATE users SET email=?, user_id=?, data=json_patch(json_patch(data, ?), ?), "
            "updated=? WHERE id=?",
            rows,
        )

    def delete_users(self, ids: Sequence[int]) -> None:
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for table, column in (
                ("users", "id"),
                ("events", "user_row"),
                ("list_members", "user_row"),
                ("subscriptions", "user_row"),
            ):
                self.conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", list(chunk))

    def user_lists(self, user_row: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT list_id FROM list_members WHERE user_row=? ORDER BY list_id", (user_row,)
        )
        return [r[0] for r in rows]

    def user_subscriptions(self, user_row: int) -> dict[str, list[int]]:
        """The user's channel and message-type subscription state, by profile field."""
        out: dict[str, list[int]] = {kind: [] for kind in SUBSCRIPTION_KINDS}
        rows = self.conn.execute(
            "SELECT kind, group_id FROM subscriptions WHERE user_row=? ORDER BY kind, group_id",
            (user_row,),
        )
        for kind, group_id in rows:
            out[kind].append(group_id)
        return out

    # --- fields, forgotten, quotas -----------------------------------------------------

    def load_fields(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for category, path, kind in self.conn.execute("SELECT category, path, type FROM fields"):
            out.setdefault(category, {})[path] = kind
        return out

    def add_fields(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO fields VALUES(?, ?, ?)", rows)

    def load_forgotten(self) -> set[tuple[str, str]]:
        return {(k, v) for k, v in self.conn.execute("SELECT kind, value FROM forgotten")}

    def set_forgotten(self, kind: str, value: str, forgotten: bool) -> None:
        if forgotten:
            self.conn.execute("INSERT OR IGNORE INTO forgotten VALUES(?, ?)", (kind, value))
        else:
            self.conn.execute("DELETE FROM forgotten WHERE kind=? AND value=?", (kind, value))

    def record_quota(self, endpoint: str, ts: float) -> None:
        with self.tx() as conn:
            conn.execute("INSERT INTO quota VALUES(?, ?)", (endpoint, ts))
            conn.execute("DELETE FROM quota WHERE ts < ?", (ts - 86_400,))

    def load_quota(self, since: float) -> list[tuple[str, float]]:
        with self.read() as conn:
            rows = conn.execute(
                "SELECT endpoint, ts FROM quota WHERE ts >= ? ORDER BY ts", (since,)
            )
            return [(e, t) for e, t in rows]

    # --- events ------------------------------------------------------------------------

    def upsert_events(self, rows: Iterable[tuple[str, int, str, str, int, str, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO events(event_id, user_row, event_name, event_type, created_ms, data, "
            "extra) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO UPDATE SET "
            "user_row=excluded.user_row, event_name=excluded.event_name, "
            "event_type=excluded.event_type, created_ms=excluded.created_ms, "
            "data=excluded.data, extra=excluded.extra",
            rows,
        )

    def user_events(self, user_row: int, limit: int) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT event_id, event_name, event_type, created_ms, data, extra FROM events "
            "WHERE user_row=? ORDER BY created_ms DESC, pk DESC LIMIT ?",
            (user_row, limit),
        ).fetchall()

    # --- summary -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        with self.read() as c:
            one = lambda sql: c.execute(sql).fetchone()[0]  # noqa: E731
            lists = [
                {"id": i, "name": n, "members": m}
                for i, n, m in c.execute(
                    "SELECT l.id, l.name, COUNT(m.user_row) FROM lists l LEFT JOIN list_members "
                    "m ON m.list_id = l.id GROUP BY l.id ORDER BY l.id"
                )
            ]
            catalogs = [
                {"name": n, "items": k}
                for n, k in c.execute(
                    "SELECT c.name, COUNT(i.item_id) FROM catalogs c LEFT JOIN catalog_items i "
                    "ON i.catalog_id = c.id GROUP BY c.id ORDER BY c.name_key"
                )
            ]
            by_name = dict(
                c.execute(
                    "SELECT event_name, COUNT(*) FROM events GROUP BY event_name ORDER BY 1"
                ).fetchall()
            )
            return {
                "users": one("SELECT COUNT(*) FROM users"),
                "forgotten": one("SELECT COUNT(*) FROM forgotten"),
                "events": {"total": sum(by_name.values()), "byName": by_name},
                "lists": lists,
                "catalogs": catalogs,
            }


def dumps(value: Any) -> str:
    # pydantic-core's encoder (already a dependency) is ~4x faster than json.dumps, which
    # matters on bulk writes of 1,000 profiles.
    # A number that overflowed to infinity is stored as null: JSON has no Infinity.
    return to_json(value, inf_nan_mode="null").decode()


def loads(text: str | bytes) -> Any:
    return from_json(text)
