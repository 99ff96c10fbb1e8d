"""Identity collisions: rows that would overwrite one Iterable user in turn, or split one.

The verdict only (``find_collisions``): holding the rows back is the planner's next step
(``sync/plan/quarantine.py``), and the identity check counts what it held back
(``checks/identity.py``).

Found in the warehouse before anything is sent, from the run's records and diff and what
the warehouse already knows Iterable holds (the state tables of this and the other syncs:
rows Iterable accepted, with the email and userId they were sent with). No call to
Iterable per row, no table read into Python: every rule is a join built on the rows about
to be sent, and only the few colliding rows are written out.

Four collisions, each a reason a row is held back (quarantined, like the other checks'
rows, so the rest of the model still syncs; past the tolerance the check blocks the send):

- **email shared by several keys** — one Iterable user would receive each key's values in
  turn, the last one winning. Checked where the email names one user: matched by email, or
  in a project that keeps emails unique (email-based, hybrid).
- **userId shared by several keys** — the same, for userIds: matched by userId, or in a
  project that keeps userIds unique (userID-based, hybrid).
- **userId changed email** — matched by email, a userId last sent with another email would
  create a second profile for the same person (a split profile). Change the email with an
  ``email_updates`` sync (users/updateEmail) instead: once a state table shows Iterable
  took the change (that sync's accepted row, or any sync's later accepted row with the
  userId and the new email), the row is no collision and is sent, and state takes the new
  email. Otherwise the row would be held back for ever.
- **email and userId name two users** — the email belongs to one known Iterable user and
  the userId to another: sending both would move the userId or fail.
"""

import json
from typing import Any

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config import Match, SyncConfig, SyncType
from iterable_sync.sync.plan import rules
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import literal
from iterable_sync.warehouse import WarehouseSession

IDENTITIES_UNAMBIGUOUS = rules.IDENTITIES_UNAMBIGUOUS

SHARED_EMAIL = "email shared by several keys"
SHARED_USER_ID = "userId shared by several keys"
CHANGED_EMAIL = "userId changed email"
TWO_USERS = "email and userId name two users"
#: When a row collides in several ways, the reason it is held back for (most specific first).
KINDS = (TWO_USERS, CHANGED_EMAIL, SHARED_EMAIL, SHARED_USER_ID)
#: The state outcome of a row Iterable accepted: that user exists.
SYNCED = "synced"


def applies(sync: SyncConfig) -> bool:
    """Syncs whose rows are user profiles. Events, purchases and list members name users
    too, but many rows per user is what they are: sharing an email is no collision there."""
    return sync.type is SyncType.USERS


def collisions_table(sync: SyncConfig) -> str:
    return f"{SYNC_SCHEMA}.{sync.name.upper()}__COLLISIONS"


def _state_tables(session: WarehouseSession) -> list[str]:
    """Every sync's state table in the warehouse, syncs no longer configured included:
    the users they sent still exist in Iterable."""
    rows = session.query(
        "SELECT DISTINCT table_name AS NAME FROM information_schema.columns"
        " WHERE upper(table_schema) = upper(?) AND upper(column_name) = 'OUTCOME'",
        [SYNC_SCHEMA],
    )
    names = sorted(str(r["NAME"]).upper() for r in rows)
    return [f"{SYNC_SCHEMA}.{name}" for name in names if name.endswith("__STATE")]


def _email_change_tables(session: WarehouseSession, state_tables: list[str]) -> list[str]:
    """The state tables of ``email_updates`` syncs: their payload names the new email
    (``{"dataFields": ..., "newEmail": ...}``; a user profile's payload is its fields). One
    row of each is read: a sync's rows all have its type's shape."""
    found = []
    for table in state_tables:
        rows = session.query(f"SELECT PAYLOAD FROM {table} WHERE PAYLOAD IS NOT NULL LIMIT 1")
        try:
            payload = json.loads(str(rows[0]["PAYLOAD"])) if rows else None
        except ValueError:
            payload = None
        if isinstance(payload, dict) and {"dataFields", "newEmail"} <= payload.keys():
            found.append(table)
    return found


def _known_users(state_tables: list[str]) -> str:
    """(lower-case email, userId) of each user Iterable accepted with both identifiers."""
    selects = [
        f"SELECT LOWER(EMAIL) AS EMAIL, USER_ID FROM {table}"
        f" WHERE OUTCOME = {literal(SYNCED)}"
        " AND EMAIL IS NOT NULL AND USER_ID IS NOT NULL"
        for table in state_tables
    ]
    return " UNION ALL ".join(selects)


def _accepted(state_tables: list[str], payload: bool = False) -> str:
    """Every row Iterable accepted of these syncs: its email (lower case), userId, when it
    was sent, and (``payload``) what was sent."""
    columns = "LOWER(EMAIL) AS EMAIL, USER_ID, LAST_SYNCED" + (", PAYLOAD" if payload else "")
    selects = [
        f"SELECT {columns} FROM {table} WHERE OUTCOME = {literal(SYNCED)}" for table in state_tables
    ]
    return " UNION ALL ".join(selects)


#: An accepted row ``t`` of an ``email_updates`` sync moved its user to the email of the
#: row ``m`` (compared as lower-case JSON text). Wrapped in COALESCE so that it is no join
#: key: it is evaluated on the few rows the join on an identifier matched, never parsed
#: for every row of the table.
_MOVED_TO_EMAIL = (
    "COALESCE(LOWER(TO_JSON(GET_PATH(TRY_PARSE_JSON(t.PAYLOAD), '\"newEmail\"')))"
    " = LOWER(TO_JSON(m.EMAIL)), FALSE)"
)
#: The share of the records pending past which the keys several records share are found
#: by one GROUP BY of every record rather than from the pending rows' keys (measured at 1M
#: rows: the first costs about the same whatever is pending, the second grows with it and
#: passes the first near a third).
MOST_PENDING = 0.25


def collisions_sql(
    sync: SyncConfig,
    project_type: str,
    state_tables: list[str],
    email_change_tables: list[str] | None = None,
    most_pending: bool = False,
) -> str:
    """The collisions table: one row per (key, kind of collision), with what it collides
    with.

    Only a row that is about to be sent (in the diff) can overwrite or split a user now, so
    every rule starts from the diff's rows (``pending``). A row that shares an email or
    userId with a row about to be sent is involved too, and held back with it. Rows other
    checks hold back are not in the diff.

    The pending rows are read where each rule uses them, never copied into a table of
    their own (on a first run or a full resync that is every record: at 10M rows past
    DuckDB's memory limit). Keys several records share: when few rows are pending
    (``most_pending`` false), the records with a pending row's key, counted per key (a run
    that sends 1% pays for 1%); when most are, one GROUP BY of every record's key, whose
    few shared keys are then matched with the pending rows and joined back to their
    records (no hash table of every pending key, no window over every record).
    ``email_change_tables``: the state tables of ``email_updates`` syncs
    (``_email_change_tables``), the only ones whose payloads are read.
    """
    tables = SyncTables(sync.name)
    match = sync.resolve_match(project_type)
    both = bool(sync.identifiers.userId and sync.identifiers.email)
    # The rows this run sends ('unchanged' rows, whose hash moved with nothing to send,
    # and 'removed' ones name no new identity).
    pending = f"(SELECT PK, EMAIL, USER_ID FROM {tables.diff} WHERE CHANGE IN ('added', 'changed'))"
    ctes: list[str] = []
    parts: list[str] = []
    # Each part: PK, EMAIL, USER_ID, KIND, FIELD, DETAIL, PRIORITY.

    def shared(kind: str, field: str, key: str) -> str:
        """Records sharing ``key`` (an expression over ``r``) with a row about to be sent."""
        pending_key = key.replace("r.", "p.")
        columns = f"""{literal(kind)} AS KIND, '{field}' AS FIELD,
  KEYS || ' keys share ' || SHARED AS DETAIL, {KINDS.index(kind)} AS PRIORITY"""
        if not most_pending:
            return f"""SELECT PK, EMAIL, USER_ID, {columns}
FROM (
  SELECT r.PK, r.EMAIL, r.USER_ID, {key} AS SHARED,
    COUNT(*) OVER (PARTITION BY {key}) AS KEYS
  FROM {tables.records} r
  WHERE r.INVALID_REASON IS NULL
    AND {key} IN (SELECT {pending_key} FROM {pending} p)
) g
WHERE KEYS > 1"""
        return f"""SELECT r.PK, r.EMAIL, r.USER_ID, {columns}
FROM {tables.records} r
JOIN (
  SELECT g.SHARED, g.KEYS
  FROM (
    SELECT {key} AS SHARED, COUNT(*) AS KEYS
    FROM {tables.records} r
    WHERE r.INVALID_REASON IS NULL AND {key} IS NOT NULL
    GROUP BY {key}
    HAVING COUNT(*) > 1
  ) g
  WHERE EXISTS (SELECT 1 FROM {pending} p WHERE {pending_key} = g.SHARED)
) k ON {key} = k.SHARED
WHERE r.INVALID_REASON IS NULL"""

    if match is Match.EMAIL or project_type in {"email", "hybrid"}:
        parts.append(shared(SHARED_EMAIL, "email", "LOWER(r.EMAIL)"))
    if sync.identifiers.userId and (match is Match.USER_ID or project_type in {"userId", "hybrid"}):
        parts.append(shared(SHARED_USER_ID, "userId", "r.USER_ID"))
    if both and match is Match.EMAIL:
        # A pending row whose userId this sync last sent with another email (a row per
        # such send) ...
        ctes.append(
            f"""moved AS (
  SELECT p.PK, p.EMAIL, p.USER_ID, s.EMAIL AS SENT_EMAIL, s.LAST_SYNCED AS SENT_AT
  FROM {pending} p
  JOIN {tables.state} s ON s.USER_ID = p.USER_ID AND LOWER(s.EMAIL) <> LOWER(p.EMAIL)
  WHERE s.OUTCOME = {literal(SYNCED)}
)"""
        )
        # ... is no split profile once the warehouse knows Iterable has moved that user to
        # the row's email since: a later accepted row of any sync with this userId and
        # email, or a later email change (an email_updates sync) to it, of this userId or
        # of the email last sent. Else the row would be held back for ever.
        later = "(m.SENT_AT IS NULL OR t.LAST_SYNCED >= m.SENT_AT)"
        settled = (
            [
                f"""SELECT m.PK, m.SENT_EMAIL FROM moved m
  JOIN ({_accepted(state_tables)}) t ON t.USER_ID = m.USER_ID AND t.EMAIL = LOWER(m.EMAIL)
  WHERE {later}"""
            ]
            if state_tables
            else []
        )
        if email_change_tables:
            changes = f"({_accepted(email_change_tables, payload=True)})"
            settled += [
                f"""SELECT m.PK, m.SENT_EMAIL FROM moved m
  JOIN {changes} t ON t.USER_ID = m.USER_ID
  WHERE {later} AND {_MOVED_TO_EMAIL}""",
                f"""SELECT m.PK, m.SENT_EMAIL FROM moved m
  JOIN {changes} t ON t.EMAIL = LOWER(m.SENT_EMAIL)
  WHERE {later} AND {_MOVED_TO_EMAIL}""",
            ]
        unsettled = ""
        if settled:
            ctes.append("settled AS (\n  " + "\n  UNION\n  ".join(settled) + "\n)")
            unsettled = (
                "LEFT JOIN settled x ON x.PK = m.PK AND x.SENT_EMAIL = m.SENT_EMAIL"
                " WHERE x.PK IS NULL"
            )
        parts.append(
            f"""SELECT m.PK, m.EMAIL, m.USER_ID, {literal(CHANGED_EMAIL)} AS KIND,
  'email' AS FIELD, 'last sent with ' || MIN(m.SENT_EMAIL) AS DETAIL,
  {KINDS.index(CHANGED_EMAIL)} AS PRIORITY
FROM moved m
{unsettled}
GROUP BY m.PK, m.EMAIL, m.USER_ID"""
        )
    if both and state_tables:
        # The rows whose email is a known user with another userId (few), then those of
        # them whose userId is a known user with another email. The second join streams
        # the state tables past the few rows the first found.
        known = f"({_known_users(state_tables)})"
        ctes.append(
            f"""email_elsewhere AS (
  SELECT p.PK, p.EMAIL, p.USER_ID, MIN(k.USER_ID) AS EMAIL_USER_ID
  FROM {pending} p
  JOIN {known} k ON k.EMAIL = LOWER(p.EMAIL) AND k.USER_ID <> p.USER_ID
  GROUP BY p.PK, p.EMAIL, p.USER_ID
)"""
        )
        parts.append(
            f"""SELECT e.PK, e.EMAIL, e.USER_ID, {literal(TWO_USERS)} AS KIND,
  'userId' AS FIELD,
  'email is userId ' || MIN(e.EMAIL_USER_ID) || '; userId is ' || MIN(k.EMAIL) AS DETAIL,
  {KINDS.index(TWO_USERS)} AS PRIORITY
FROM email_elsewhere e
JOIN {known} k ON k.USER_ID = e.USER_ID AND k.EMAIL <> LOWER(e.EMAIL)
GROUP BY e.PK, e.EMAIL, e.USER_ID"""
        )
    body = "\nUNION ALL\n".join(parts) or (
        "SELECT CAST(NULL AS VARCHAR) AS PK, CAST(NULL AS VARCHAR) AS EMAIL,"
        " CAST(NULL AS VARCHAR) AS USER_ID, CAST(NULL AS VARCHAR) AS KIND,"
        " CAST(NULL AS VARCHAR) AS FIELD, CAST(NULL AS VARCHAR) AS DETAIL,"
        " 0 AS PRIORITY WHERE FALSE"
    )
    with_ = f"WITH {', '.join(ctes)}\n" if ctes else ""
    return f"CREATE OR REPLACE TABLE {collisions_table(sync)} AS\n{with_}{body}"


def find_collisions(session: WarehouseSession, sync: SyncConfig, project_type: str) -> int:
    """This run's collisions, written to the sync's collisions table (the identity check's
    verdict, which ``sync/plan/quarantine.py`` acts on); run once the diff is built, before it is
    counted or sent. Returns the keys that collide."""
    if not applies(sync):
        return 0
    tables = SyncTables(sync.name)
    shares = session.query(
        f"SELECT (SELECT count(*) FROM {tables.diff} WHERE CHANGE IN ('added', 'changed'))"
        f" AS PENDING, (SELECT count(*) FROM {tables.records}) AS RECORDS"
    )[0]
    most_pending = int(shares["PENDING"]) > MOST_PENDING * max(int(shares["RECORDS"]), 1)
    state_tables = _state_tables(session)
    changes = _email_change_tables(session, state_tables)
    session.execute(collisions_sql(sync, project_type, state_tables, changes, most_pending))
    return int(session.scalar(f"SELECT count(DISTINCT PK) FROM {collisions_table(sync)}"))


def collisions_found(session: WarehouseSession, sync: SyncConfig) -> bool:
    """Whether this sync's collisions were looked for (its collisions table exists)."""
    return session.table_exists(SYNC_SCHEMA, collisions_table(sync).split(".", 1)[1])


def collisions_by_kind(session: WarehouseSession, sync: SyncConfig) -> dict[str, int]:
    """Keys colliding, by kind of collision."""
    rows = session.query(
        f"SELECT KIND, count(DISTINCT PK) AS N FROM {collisions_table(sync)} GROUP BY KIND"
    )
    return {str(row["KIND"]): int(row["N"]) for row in rows}


def collisions_sample(
    session: WarehouseSession, sync: SyncConfig, limit: int
) -> list[dict[str, Any]]:
    """The first colliding rows, grouped so the keys that collide with each other sit next
    to each other."""
    return session.query(
        f"SELECT KIND, PK, EMAIL, USER_ID, DETAIL FROM {collisions_table(sync)}"
        f" ORDER BY PRIORITY, LOWER(EMAIL), USER_ID, PK LIMIT {int(limit)}"
    )
