"""`python -m iterable_sync calls <sync> [--run RUN_ID | --record PK] [--last N]`: the request
debugger's view of a sync's calls, each with its request and response bodies.

The bodies are the ones the sync's ``debugger: {capture: true}`` stored in
``ITERABLE_SYNC.API_CALL_BODIES`` (``sync/plan/call_bodies.py``). For one record, the batch
bodies are narrowed to the entries that concern it (those naming its key, email or userId).
"""

import json
import re
from typing import Any

from iterable_sync.resources import build_warehouse
from iterable_sync.sync.plan.tables import CALL_BODIES_TABLE, SyncTables
from iterable_sync.warehouse import WarehouseSession

_SYNC_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_COLUMNS = (
    "RUN_ID, CALL_SEQ, CALLED_AT, METHOD, ENDPOINT, STATUS, LATENCY_MS, ATTEMPT, ERROR_CODE,"
    " ERROR, KEYS, REQUEST_BODY, RESPONSE_BODY"
)


def _exists(session: WarehouseSession, table: str) -> bool:
    schema, name = table.split(".")
    return session.table_exists(schema, name)


def captured_calls(
    session: WarehouseSession,
    sync: str,
    run_id: str | None = None,
    primary_key: str | None = None,
    last: int = 20,
) -> list[dict[str, Any]]:
    """The last ``last`` captured calls, oldest first: of ``run_id``, of the calls that
    carried ``primary_key``, or (neither given) of the sync's latest run with captured
    calls."""
    if not _exists(session, CALL_BODIES_TABLE):
        return []
    where, params = "SYNC = ?", [sync]
    if run_id is not None:
        where, params = where + " AND RUN_ID = ?", [*params, run_id]
    elif primary_key is not None:
        # KEYS is a JSON array of the batch's keys: the quoted key is in its text.
        where += " AND CONTAINS(KEYS, ?)"
        params = [*params, json.dumps(primary_key, ensure_ascii=False)]
    else:
        where += (
            f" AND RUN_ID = (SELECT RUN_ID FROM {CALL_BODIES_TABLE} WHERE SYNC = ?"
            " ORDER BY CALLED_AT DESC LIMIT 1)"
        )
        params = [*params, sync]
    # A call's bodies may be a batch of 1,000 users: only the ones shown are read.
    rows = session.query(
        f"SELECT {_COLUMNS} FROM {CALL_BODIES_TABLE} WHERE {where}"
        f" ORDER BY CALLED_AT DESC, CALL_SEQ DESC LIMIT {max(int(last), 1)}",
        params,
    )
    if primary_key is not None:
        # The quoted key cannot match inside another key's quotes; checked all the same.
        rows = [r for r in rows if primary_key in json.loads(str(r["KEYS"] or "[]"))]
    return list(reversed(rows))


def record_identifiers(session: WarehouseSession, sync: str, primary_key: str) -> set[str]:
    """The record's key, and the email and userId its state knows (what its entries in a
    batch body are named by)."""
    found = {primary_key}
    # The name comes from the command line and names a table: only a sync name's shape
    # (config_base's) is let into SQL.
    if not _SYNC_NAME.fullmatch(sync):
        return found
    state = SyncTables(sync).state
    if _exists(session, state):
        rows = session.query(f"SELECT EMAIL, USER_ID FROM {state} WHERE PK = ?", [primary_key])
        for row in rows:
            found |= {str(v) for v in (row["EMAIL"], row["USER_ID"]) if v is not None}
    return found


def _mentions(value: Any, names: set[str]) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, names) for v in value)
    return value is not None and not isinstance(value, bool) and str(value) in names


def narrow(value: Any, names: set[str]) -> Any:
    """``value`` with each list of objects cut to the objects that mention one of ``names``
    (a batch's users, events, purchases), and each object of objects keyed by id cut to the
    ids among ``names`` (a catalog batch's ``documents``), when any matches; the rest as it
    is."""
    if isinstance(value, dict):
        if value and all(isinstance(v, dict) for v in value.values()):
            kept = {k: v for k, v in value.items() if k in names}
            if kept:
                return kept
        return {k: narrow(v, names) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        kept = [v for v in value if _mentions(v, names)]
        return [narrow(v, names) for v in kept] if kept else value
    return value


def _pretty(text: str | None, names: set[str] | None) -> str:
    if text is None:
        return "(none)"
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if names is not None:
        parsed = narrow(parsed, names)
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def describe_call(row: dict[str, Any], names: set[str] | None = None) -> str:
    """One call: when, what, how it ended; then its request and response bodies (narrowed
    to the entries mentioning ``names`` when given)."""
    status = row["STATUS"] if row["STATUS"] is not None else "no response"
    error = f"  {row['ERROR_CODE']}" if row["ERROR_CODE"] else ""
    keys = json.loads(str(row["KEYS"] or "[]"))
    lines = [
        f"#{row['CALL_SEQ']}  {row['CALLED_AT']}  {row['METHOD']} {row['ENDPOINT']}  → {status}"
        f"  {float(row['LATENCY_MS'] or 0):.1f} ms  attempt {row['ATTEMPT']}{error}",
        f"run {row['RUN_ID']}, {len(keys)} record(s)"
        + (f": {', '.join(keys[:5])}{' …' if len(keys) > 5 else ''}" if keys else ""),
    ]
    if row["ERROR"]:
        lines.append(f"error: {row['ERROR']}")
    part = " (the entries of this record)" if names is not None else ""
    lines += [f"request{part}:", _pretty(row["REQUEST_BODY"], names)]
    lines += [f"response{part}:", _pretty(row["RESPONSE_BODY"], names)]
    return "\n".join(lines)


def calls_report(
    session: WarehouseSession,
    sync: str,
    run_id: str | None = None,
    primary_key: str | None = None,
    last: int = 20,
) -> str | None:
    """The text ``calls`` prints; None when no call was captured."""
    rows = captured_calls(session, sync, run_id, primary_key, last)
    if not rows:
        return None
    names = record_identifiers(session, sync, primary_key) if primary_key is not None else None
    what = f"record {primary_key}" if primary_key is not None else f"run {rows[0]['RUN_ID']}"
    head = f"{sync} / {what}: {len(rows)} captured call(s), oldest first"
    return "\n\n".join([head, *(describe_call(row, names) for row in rows)])


def print_calls(
    sync: str, run_id: str | None = None, primary_key: str | None = None, last: int = 20
) -> int:
    with build_warehouse().session() as session:
        report = calls_report(session, sync, run_id, primary_key, last)
    if report is None:
        print(
            f"No captured calls for sync {sync!r}"
            + (f" in run {run_id!r}" if run_id else "")
            + (f" carrying {primary_key!r}" if primary_key else "")
            + ": turn on `debugger: {capture: true}` in its syncs.yaml entry and run it."
        )
        return 1
    print(report)
    return 0
