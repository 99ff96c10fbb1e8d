"""The diff: added, changed and removed records, each with why it is sent, and the
payloads of those rows only; unchanged ones never leave the warehouse.
"""

import json

from iterable_sync.sync.config import NullPolicy, OnLeave, SyncConfig, SyncType
from iterable_sync.sync.plan import shapes
from iterable_sync.sync.plan.record import TAG_LENGTH, record_sql, target_tag
from iterable_sync.sync.plan.records import Records
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import any_of, json_path, json_text, literal

#: Why a row of the diff is sent (its REASON), in the order they take precedence.
#: ``retry not found``: Iterable answered "not found" last time and the row is due again
#: (syncs.yaml ``not_found``), whether or not its data changed since.
NEW, RETRY_NOT_FOUND, VALUE_CHANGED, FIELD_ADDED, FIELD_CLEARED, RESYNC, REMOVED = (
    "new", "retry not found", "value changed", "field added", "field cleared", "resync",
    "removed",
)  # fmt: skip
REASONS = (NEW, RETRY_NOT_FOUND, VALUE_CHANGED, FIELD_ADDED, FIELD_CLEARED, RESYNC, REMOVED)
#: A record whose hash moved although nothing sent would change (a field removed from the
#: mapping, a value gone null under ``nulls: keep``): its state takes the new hash and the
#: row leaves the diff (``refresh_unchanged_sql``).
UNCHANGED = "unchanged"


#: The diff table's columns (Snowflake types), in the order ``diff_sql`` writes them; it is
#: made before the diff is written into it (``planning.build_records_and_diff``).
DIFF_COLUMNS = (
    ("SEQ", "BIGINT"), ("PK", "VARCHAR"), ("EMAIL", "VARCHAR"), ("USER_ID", "VARCHAR"),
    ("PAYLOAD", "VARCHAR"), ("HASH", "VARCHAR"), ("FAST", "BIGINT"), ("CHANGE", "VARCHAR"),
    ("REASON", "VARCHAR"), ("CLEARED", "VARCHAR"), ("PREVIOUS_OUTCOME", "VARCHAR"),
    ("PREVIOUS_EMAIL", "VARCHAR"), ("STATE_PAYLOAD", "VARCHAR"),
)  # fmt: skip
#: Compressed hard where the warehouse lets a table say so: the payloads (read once, by the
#: send, for the rows it sends).
DIFF_COMPRESSED = ("PAYLOAD", "STATE_PAYLOAD", "HASH")


def _payload_text(
    sync: SyncConfig,
    fields: list[str],
    typed: list[str],
    cleared: list[str] | None,
    values: list[str] | None = None,
) -> str:
    """The JSON text of the payload, built as text from the columns' JSON: fields without a
    value are left out, fields being cleared are sent as null (``cleared``: a predicate per
    field), the type's own keys are always there. Text, because no JSON constructor that
    drops nulls is spelled alike in Snowflake and DuckDB. ``values``: each field's JSON
    text, when not its column's (``J0``, ``J1``...)."""
    pieces = []
    for i, field in enumerate(fields):
        key = f',"{field}":'
        value = values[i] if values else f"J{i}"
        if cleared is None:
            pieces.append(f"COALESCE(CONCAT({literal(key)}, {value}), '')")
        else:
            pieces.append(
                f"COALESCE(CONCAT({literal(key)}, {value}),"
                f" CASE WHEN {cleared[i]} THEN {literal(key + 'null')} END, '')"
            )
    joined = ", ".join(pieces) or "''"
    inner = f"CONCAT('{{', SUBSTR(CONCAT({joined}), 2), '}}')"
    if sync.type is SyncType.USERS:
        return inner
    pairs = [("dataFields", inner)]
    pairs += [(key, f"COALESCE(T{i}, 'null')") for i, key in enumerate(typed)]
    keys = {key: literal(f'"{key}":') for key, _ in pairs}
    body = ", ',', ".join(f"{keys[key]}, {value}" for key, value in sorted(pairs))
    return f"CONCAT('{{', {body}, '}}')"


def _on_leave(sync: SyncConfig) -> tuple[str, str]:
    """(payload, cleared fields) of a row leaving the model. A users sync with
    ``on_leave: clear`` sends exactly its mapped fields as null — Iterable deletes a field
    sent as null (see ``NullPolicy``) — and names them as cleared, so the preview shows
    them before anything is sent; every other row carries what was last sent."""
    if getattr(sync, "on_leave", None) is not OnLeave.CLEAR:
        return "PREVIOUS_PAYLOAD", "CAST(NULL AS VARCHAR)"
    fields = sorted(m.field for m in sync.mapping)
    nulls = json.dumps(dict.fromkeys(fields), separators=(",", ":"))
    return literal(nulls), literal(" ".join(fields))


def diff_sql(sync: SyncConfig, records: Records, full_resync: bool = False) -> list[str]:
    """Added, changed and removed records, each with why it is sent; unchanged ones never
    leave the warehouse.

    A record whose fast hash matches its state's is unchanged (most rows, one comparison
    each of two integers). The others get their MD5: one that matches state's hash is
    unchanged too (its fast hash is then stored, ``refresh_unchanged_sql``); the rest — few
    on an ordinary day, more after a mapping change — are compared field by field with the
    payload last sent (state's PAYLOAD): a value that differs, a field that gained a value,
    and under ``nulls: clear`` a field that lost one send the row;
    anything else (a column renamed, a field dropped from the mapping, a value gone null
    under ``nulls: keep``) sends nothing. Payloads are built here, from the snapshot, for
    those rows only, from the rows the records were made of (``records``).
    """
    t = SyncTables(sync.name)
    # What the records step decided: the rows they were made of, and whether the stale keys'
    # rows sit in a table of their own (dropped by the statements below).
    snapshot_table, column_types = records.snapshot_table, records.column_types
    refreshed = records.refreshed
    row = record_sql(sync, column_types, table="m")
    # The model rows the compare reads: after a refresh, the stale keys' rows copied out of
    # the snapshot (one scan of it, done already), then the snapshot's rows of any other key
    # compared (a row state has not caught up with, such as one that failed to send).
    model_rows = snapshot_table
    if refreshed:
        unstale = f"SELECT PK FROM {t.diff_keys} EXCEPT SELECT PK FROM {t.records_stale}"
        model_rows = (
            f"(SELECT * FROM {t.records_stale_rows} UNION ALL SELECT * FROM {snapshot_table}"
            f" WHERE {record_sql(sync, column_types).pk} IN ({unstale}))"
        )
    # Which rows already in state go again, and whether leaving the model counts: per
    # type (users: every change; deletions: a key's first appearance only; shapes.py).
    resend = shapes.resend_predicate(sync, full_resync)
    removal = shapes.removal_predicate(sync)
    # Rows Iterable answered "not found" and due again (syncs.yaml `not_found`): sent whole,
    # as if new — the user holds none of their fields — with a reason of their own.
    retry_due = shapes.retry_due(sync)
    fields = list(row.values)
    typed = list(row.typed)
    users = sync.type is SyncType.USERS
    clear = sync.nulls is NullPolicy.CLEAR

    def old_path(field: str) -> str:
        return json_path(field) if users else json_path("dataFields", field)

    new_values = [f"{json_text(value)} AS J{i}" for i, (value, _) in enumerate(row.values.values())]
    new_values += [f"{json_text(value)} AS T{i}" for i, value in enumerate(row.typed.values())]
    current_columns = ", ".join(["n.*", f"{row.hash} AS RECORD_HASH", *new_values])
    old_values = [
        f"NULLIF(TO_JSON(GET_PATH(LAST_SENT, {old_path(f)})), 'null') AS O{i}"
        for i, f in enumerate(fields)
    ]
    old_values += [
        f"NULLIF(TO_JSON(GET_PATH(LAST_SENT, {json_path(k)})), 'null') AS OT{i}"
        for i, k in enumerate(typed)
    ]
    # Per field: C = its value changed, A = it gained one, X = it is cleared (sent as null).
    flags = []
    for i in range(len(fields)):
        flags.append(
            f"(NOT SAME AND J{i} IS NOT NULL AND O{i} IS NOT NULL AND J{i} <> O{i}) AS C{i}"
        )
        flags.append(f"(NOT SAME AND J{i} IS NOT NULL AND O{i} IS NULL) AS A{i}")
        cleared = f"LAST_SENT IS NOT NULL AND NOT SAME AND J{i} IS NULL AND O{i} IS NOT NULL"
        flags.append(f"({cleared if clear else 'FALSE'}) AS X{i}")
    typed_changed = any_of([f"T{i} IS DISTINCT FROM OT{i}" for i in range(len(typed))])
    flags.append(f"(NOT SAME AND LAST_SENT IS NOT NULL AND {typed_changed}) AS TYPED_CHANGED")
    n = range(len(fields))
    reason = f"""CASE
    WHEN IS_NEW THEN {literal(NEW)}
    WHEN IS_RETRY THEN {literal(RETRY_NOT_FOUND)}
    WHEN IDENTITY_CHANGED OR TYPED_CHANGED OR {any_of([f"C{i}" for i in n])}
      THEN {literal(VALUE_CHANGED)}
    WHEN {any_of([f"A{i}" for i in n])} THEN {literal(FIELD_ADDED)}
    WHEN {any_of([f"X{i}" for i in n])} THEN {literal(FIELD_CLEARED)}
    WHEN {"TRUE" if full_resync else "FALSE"} THEN {literal(RESYNC)}
  END"""
    cleared_names = ", ".join(
        f"COALESCE(CASE WHEN X{i} THEN {literal(field + ' ')} END, '')"
        for i, field in enumerate(fields)
    )
    cleared_list = f"NULLIF(TRIM(CONCAT({cleared_names})), '')" if fields else "NULL"
    payload = _payload_text(sync, fields, typed, [f"X{i}" for i in n])
    base = _payload_text(sync, fields, typed, None)
    # What Iterable holds once a row is sent: under `nulls: keep` a field left out because
    # its value went null keeps its old value there, so state records that value, not the
    # payload; else the value returning later would look like a field added and be resent.
    # Users only: bulkUpdate merges data fields, where an event or item sent again replaces
    # the old one whole. NULL where nothing is kept (the state takes the payload).
    if users and not clear and fields:
        held = _payload_text(sync, fields, typed, None, [f"COALESCE(J{i}, O{i})" for i in n])
        kept = any_of([f"(J{i} IS NULL AND O{i} IS NOT NULL)" for i in n])
        state_payload = f"CASE WHEN REASON IS NOT NULL AND {kept} THEN {held} END"
    else:
        state_payload = "CAST(NULL AS VARCHAR)"
    # A target tag in both hashes that differs: the rows go to a new catalog or list.
    retarget = (
        f"(SUBSTR(s.HASH, {TAG_LENGTH}, 1) = ':'"
        f" AND SUBSTR(s.HASH, 1, {TAG_LENGTH}) <> {literal(target_tag(sync) + ':')})"
    )
    out = (
        "SEQ, PK, EMAIL, USER_ID, {payload} AS PAYLOAD, {hash} AS HASH, FAST, {change} AS CHANGE,"
        " {reason} AS REASON, {cleared} AS CLEARED, PREVIOUS_OUTCOME, PREVIOUS_EMAIL,"
        " {state_payload} AS STATE_PAYLOAD"
    )
    sent = out.format(
        payload=f"CASE WHEN REASON IS NOT NULL THEN {payload} END",
        hash="RECORD_HASH",
        change=f"CASE WHEN REASON IS NULL THEN {literal(UNCHANGED)} ELSE CHANGE END",
        reason="REASON",
        cleared="CLEARED",
        state_payload=state_payload,
    )
    gone_payload, gone_cleared = _on_leave(sync)
    gone = out.format(
        payload=gone_payload,
        hash="STATE_HASH",
        change="CHANGE",
        reason=literal(REMOVED),
        cleared=gone_cleared,
        state_payload="CAST(NULL AS VARCHAR)",
    )
    # Keys and sequence numbers are settled on narrow rows first; only then are the rows to
    # compare joined back to the snapshot for their values.
    # Two statements: the keys to look at are numbered into their own narrow table first.
    # As one statement DuckDB kept the numbering, the snapshot join and the state join in
    # memory together: a mapping change touching every row of 1M records ran out of a 1 GB
    # limit (peaking near 3 GB); split, it stays within it.
    # One join of records and state finds all three kinds: a key in records only (added), in
    # both with a new hash (changed), in state only (removed). Only keys and hashes take part,
    # in a statement of its own: carrying every column through a join of 10M rows by 10M
    # made its hash table spill (10 s at 10M rows, against 4 s narrow), and as a CTE of the
    # next statement a full resync of 10M rows ran out of a 1 GB limit.
    candidates = f"""
CREATE OR REPLACE TABLE {t.diff_candidates} AS
SELECT COALESCE(r.PK, s.PK) AS PK
FROM (SELECT PK, FAST, INVALID_REASON FROM {t.records}) r
FULL OUTER JOIN (SELECT PK, FAST, IN_MODEL, {retry_due} AS RETRY_DUE FROM {t.state}) s
  ON s.PK = r.PK
WHERE (r.PK IS NOT NULL AND r.INVALID_REASON IS NULL
    AND (s.PK IS NULL OR {resend} OR (s.IN_MODEL AND s.RETRY_DUE)))
  OR (r.PK IS NULL AND s.IN_MODEL AND {removal})"""
    keys = f"""
CREATE OR REPLACE TABLE {t.diff_keys} AS
WITH changes AS (
  -- The keys found, with what the diff reads of them: a candidate has a valid record, or
  -- none at all (removed).
  SELECT
    COALESCE(r.PK, s.PK) AS PK,
    CASE WHEN r.PK IS NULL THEN s.EMAIL ELSE r.EMAIL END AS EMAIL,
    CASE WHEN r.PK IS NULL THEN s.USER_ID ELSE r.USER_ID END AS USER_ID,
    r.FAST,
    s.HASH AS STATE_HASH,
    COALESCE(r.COPIES, 1) AS COPIES,
    CASE WHEN r.PK IS NULL THEN 'removed' WHEN s.PK IS NULL THEN 'added' ELSE 'changed' END
      AS CHANGE,
    -- Not in state, back in the model, or bound for a new target: sent whole.
    (r.PK IS NOT NULL AND (s.PK IS NULL OR NOT s.IN_MODEL OR {retarget})) AS IS_NEW,
    -- Answered "not found" and due again: sent whole too, as a retry.
    COALESCE(r.PK IS NOT NULL AND s.IN_MODEL AND s.RETRY_DUE, FALSE) AS IS_RETRY,
    (r.PK IS NOT NULL AND s.PK IS NOT NULL AND (s.EMAIL IS DISTINCT FROM r.EMAIL
      OR s.USER_ID IS DISTINCT FROM r.USER_ID)) AS IDENTITY_CHANGED,
    s.OUTCOME AS PREVIOUS_OUTCOME,
    s.EMAIL AS PREVIOUS_EMAIL
  FROM (
    SELECT r.PK, r.EMAIL, r.USER_ID, r.FAST, r.COPIES
    FROM {t.records} r JOIN {t.diff_candidates} k ON k.PK = r.PK
    WHERE r.INVALID_REASON IS NULL
  ) r
  FULL OUTER JOIN (
    SELECT s.PK, s.EMAIL, s.USER_ID, s.HASH, s.IN_MODEL, s.OUTCOME,
      {retry_due} AS RETRY_DUE
    FROM {t.state} s JOIN {t.diff_candidates} k ON k.PK = s.PK
  ) s ON s.PK = r.PK
),
numbered AS (
  SELECT ROW_NUMBER() OVER (ORDER BY CHANGE, PK) AS SEQ, * FROM changes
)
SELECT * FROM numbered"""
    # Into a table made beforehand (``DIFF_COLUMNS``), so the warehouse may compress it: on
    # a first run or a full resync the diff holds a payload per record, as big as state.
    compare = f"""
INSERT INTO {t.diff} ({", ".join(name for name, _ in DIFF_COLUMNS)})
SELECT * FROM (
WITH numbered AS (SELECT * FROM {t.diff_keys}),
sent_before AS (
  -- The payload last sent, joined to the narrow numbered rows first: the hash tables of
  -- both joins hold these rows, never the model's values or their JSON. (Joined after the
  -- snapshot, a 1% change of 10M rows spilled under a 512MB limit: 14.7 s against 5.1 s.)
  SELECT n.*, s.PAYLOAD AS PREVIOUS_PAYLOAD
  FROM numbered n
  LEFT JOIN {t.state} s ON s.PK = n.PK
  WHERE n.CHANGE <> 'removed'
),
last_sent AS (
  SELECT {current_columns}
  FROM sent_before n
  JOIN {model_rows} m ON {row.pk} = n.PK
  WHERE n.COPIES = 1
  UNION ALL
  SELECT {current_columns}
  FROM sent_before n
  JOIN {model_rows} m ON {row.pk} = n.PK
  -- A duplicated key: the copy its record was made from (copies with one hash are alike).
  WHERE n.COPIES > 1 AND {row.fast} = n.FAST
  QUALIFY ROW_NUMBER() OVER (PARTITION BY n.PK ORDER BY n.SEQ) = 1
),
based AS (
  -- The MD5 state was judged by, or what would be sent without clearing anything, equal to
  -- the last payload: nothing to do. (A full resync compares every payload.)
  SELECT c.*,
    CASE WHEN IS_NEW OR IS_RETRY THEN FALSE
      WHEN {"FALSE" if full_resync else "RECORD_HASH = STATE_HASH"} THEN TRUE
      ELSE COALESCE({base} = PREVIOUS_PAYLOAD, FALSE) END AS SAME
  FROM last_sent c
),
parsed AS (
  -- The last payload is parsed only for rows whose text differs from it.
  SELECT b.*,
    CASE WHEN NOT SAME AND NOT IS_NEW AND NOT IS_RETRY THEN PARSE_JSON(PREVIOUS_PAYLOAD) END
      AS LAST_SENT
  FROM based b
),
compared AS (
  SELECT p.*{"".join(", " + v for v in old_values)} FROM parsed p
),
flagged AS (
  SELECT c.*, {", ".join(flags)} FROM compared c
),
reasoned AS (
  SELECT f.*, {reason} AS REASON, {cleared_list} AS CLEARED FROM flagged f
)
SELECT {sent}
FROM reasoned
UNION ALL
SELECT {gone}
FROM (
  SELECT n.*, s.PAYLOAD AS PREVIOUS_PAYLOAD
  FROM numbered n
  JOIN {t.state} s ON s.PK = n.PK
  WHERE n.CHANGE = 'removed'
)
)"""
    return [
        candidates,
        keys,
        compare,
        f"DROP TABLE IF EXISTS {t.diff_keys}",
        f"DROP TABLE IF EXISTS {t.diff_candidates}",
        f"DROP TABLE IF EXISTS {t.records_stale_rows}",
        f"DROP TABLE IF EXISTS {t.records_stale}",
    ]


def refresh_unchanged_sql(sync: SyncConfig) -> list[str]:
    """Records whose hash moved with nothing to send take their new hash and fast hash in
    state (so they are not hashed or compared again next run) and leave the diff. Nothing
    was sent for them, so their last payload — what Iterable holds — stays."""
    t = SyncTables(sync.name)
    return [
        f"UPDATE {t.state} AS st SET HASH = d.HASH, FAST = d.FAST FROM {t.diff} AS d"
        f" WHERE d.PK = st.PK AND d.CHANGE = {literal(UNCHANGED)}",
        f"DELETE FROM {t.diff} WHERE CHANGE = {literal(UNCHANGED)}",
    ]
