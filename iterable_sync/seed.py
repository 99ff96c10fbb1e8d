"""Realistic, deliberately dirty synthetic contacts for the embedded DuckDB warehouse.

The table has the shape of the production model's source,
``SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL``, and carries the dirt a real
warehouse has (fanned-out keys, broken emails, ``'0000-00-00 00:00:00'`` dates, mixed types)
at small documented rates — see ``docs/seed-data.md``. The rows are generated in SQL
(``seed.sql``), one ``CREATE TABLE ... AS SELECT`` over the row numbers: every value is a
pure function of (seed, row number, column), so a table is reproducible from
(rows, seed, as_of) alone, and DuckDB builds 10 million rows in well under a minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

import duckdb

SCHEMA = "SENSITIVE"
TABLE = "POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL"
QUALIFIED_TABLE = f"{SCHEMA}.{TABLE}"

#: What the summary counts as a well-formed email (after which "untrimmed" means: well-formed
#: once surrounding whitespace is removed). Deliberately plain: local part, one @, a dotted
#: domain ending in a TLD of two or more letters.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"

#: CONTACT_ID has nine digits. (Row hashes, 32-bit bijections, would last to 2^32.)
MAX_ROWS = 999_999_999

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class SeedSummary:
    """What is in the table, counted by SQL after generation (not what was intended)."""

    rows: int
    distinct_contacts: int
    #: Rows beyond the first for each CONTACT_ID (a fanned-out join's extra rows).
    duplicate_key_rows: int
    email_null: int
    #: Empty or whitespace-only.
    email_blank: int
    email_no_at: int
    email_multiple_at: int
    #: One @ but no dotted domain with a TLD, e.g. ``name@gmail``.
    email_bad_domain: int
    #: Well-formed once leading/trailing whitespace is removed.
    email_untrimmed: int
    user_id_null: int
    created_date_null: int
    last_login_null: int
    active_state_null: int
    namespaces_null: int
    trial_zero_date: int
    #: Looks like ``yyyy-MM-dd HH:mm:ss`` but is no calendar date, e.g. February 30th.
    trial_impossible_date: int
    #: Not in the ``yyyy-MM-dd HH:mm:ss`` shape at all, e.g. ``'N/A'``.
    trial_unparseable: int
    company_size_non_integer: int
    #: GITLAB_DOTCOM_CREATED_DATE inside the model's one-month window (GETDATE() = as_of).
    rows_in_window: int
    #: Rows the production model's WHERE clause keeps, with GETDATE() taken as as_of.
    rows_passing_model: int

    @property
    def emails_missing_or_malformed(self) -> int:
        return (
            self.email_null
            + self.email_blank
            + self.email_no_at
            + self.email_multiple_at
            + self.email_bad_domain
            + self.email_untrimmed
        )

    @property
    def trial_invalid_dates(self) -> int:
        return self.trial_zero_date + self.trial_impossible_date + self.trial_unparseable

    def as_dict(self) -> dict[str, int]:
        """Every count, the derived totals included (for asset metadata or a CLI)."""
        return {
            **asdict(self),
            "emails_missing_or_malformed": self.emails_missing_or_malformed,
            "trial_invalid_dates": self.trial_invalid_dates,
        }


@cache
def _sections() -> dict[str, str]:
    """The named sections of seed.sql (``-- name: x`` starts section x)."""
    text = resources.files("iterable_sync").joinpath("seed.sql").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("-- name:"):
            current = sections.setdefault(line.removeprefix("-- name:").strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _table_exists(conn: duckdb.DuckDBPyConnection) -> bool:
    rows = conn.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE upper(table_schema) = ? AND upper(table_name) = ?",
        [SCHEMA, TABLE],
    ).fetchall()
    return bool(rows[0][0])


def is_empty(conn: duckdb.DuckDBPyConnection) -> bool:
    """True when the contacts table is missing or has no rows (the warehouse needs seeding)."""
    if not _table_exists(conn):
        return True
    rows = conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {QUALIFIED_TABLE})").fetchall()
    return bool(rows[0][0])


def summarize(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> SeedSummary:
    """Count rows and each kind of dirt in the contacts table as it is now."""
    cursor = conn.execute(_sections()["summary"], {"as_of": as_of, "email_pattern": EMAIL_PATTERN})
    names = [column[0] for column in cursor.description or []]
    # fetchall, not fetchone: DuckDB keeps a half-read result open on the connection.
    (row,) = cursor.fetchall()
    return SeedSummary(**{name: int(value) for name, value in zip(names, row, strict=True)})


def seed_contacts(
    conn: duckdb.DuckDBPyConnection,
    rows: int,
    seed: int = 42,
    as_of: dt.date | None = None,
    replace: bool = True,
) -> SeedSummary:
    """Create ``SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL`` with ``rows`` contacts.

    The content depends only on (rows, seed, as_of): ``as_of`` (default: today in UTC) is the
    day all dates are anchored to — creation dates fall in the 100 days before it. With
    ``replace=False`` a table that already has rows is kept as it is and summarized, so a
    caller can seed-if-empty without destroying a warehouse someone filled by hand.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be an integer from 0 to {MAX_ROWS}, got {rows!r}")
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int)
        or not (_BIGINT_MIN <= seed <= _BIGINT_MAX)
    ):
        raise ValueError(f"seed must be an integer that fits a BIGINT, got {seed!r}")
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    if isinstance(as_of, dt.datetime):
        # A datetime would shift every timestamp by its time of day; the anchor is a day.
        as_of = as_of.date()

    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    if not replace and not is_empty(conn):
        return summarize(conn, as_of)

    sql = _sections()
    # A cursor is a session of its own: the helper macros and the row-number table are TEMP
    # objects of that session, so they vanish when it closes instead of lingering in the
    # caller's connection.
    with conn.cursor() as session:
        session.execute(sql["macros"])
        keys = session.execute(sql["keys"], {"seed": seed}).fetchall()
        k1, k2 = keys[0]
        session.execute(sql["row_numbers"], {"rows": rows})
        # One CREATE OR REPLACE ... AS SELECT: readers see the old table or the new one,
        # never a half-written one.
        session.execute(sql["create_table"], {"as_of": as_of, "k1": k1, "k2": k2})
    return summarize(conn, as_of)
