"""The request debugger's ledger: each captured call's request and response bodies.

``ITERABLE_SYNC.API_CALL_BODIES`` sits beside ``API_CALLS``: one row per captured attempt,
with the columns of its API_CALLS row (RUN_ID, SYNC, DESTINATION, CALLED_AT, METHOD,
ENDPOINT, STATUS, LATENCY_MS, ATTEMPT, ERROR_CODE: the same values, written from the same
call, so the two join on RUN_ID, CALLED_AT, METHOD, ENDPOINT, ATTEMPT), its place in the run
(CALL_SEQ), the primary keys of the rows the batch carried (KEYS, a JSON array), and the
bodies as JSON text, with the fields the sync's ``debugger.redact`` names replaced by
``REDACTED``. The API key travels in a header, never in a body — Iterable's spec
(``../shared/iterable-openapi.json``, ``securityDefinitions``): ``"api_key": {"in":
"header", "name": "Api-Key", "type": "apiKey"}`` — and the client scrubs it from what comes
back; it is never stored here.

Size: a body is at most the client's bulk cap (``iterable/_base.py: MAX_BULK_BODY_BYTES``,
4 MB, Iterable's documented limit for bulk bodies), within a Snowflake VARCHAR's 16 MB; the
sync's ``debugger.max_calls`` bounds how many successful calls a run stores.

Only write calls are captured (every method but GET): the batches of every sync type.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.tables import CALL_BODIES_TABLE
from iterable_sync.sync.plan.text import literal

#: What a redacted value is stored as.
REDACTED = "[redacted]"

CALL_BODIES_DDL = f"""CREATE TABLE IF NOT EXISTS {CALL_BODIES_TABLE} (
  RUN_ID VARCHAR, SYNC VARCHAR, DESTINATION VARCHAR, CALL_SEQ INTEGER,
  CALLED_AT TIMESTAMP_NTZ, METHOD VARCHAR, ENDPOINT VARCHAR, STATUS INTEGER,
  LATENCY_MS DOUBLE, ATTEMPT INTEGER, ERROR_CODE VARCHAR, ERROR VARCHAR, KEYS VARCHAR,
  REQUEST_BODY VARCHAR, RESPONSE_BODY VARCHAR
)"""


class CapturedCall(Protocol):
    """A call with its bodies, as the engine's call log holds it (``engine.CallLogEntry``)."""

    @property
    def seq(self) -> int: ...
    @property
    def called_at(self) -> datetime: ...
    @property
    def method(self) -> str: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def attempt(self) -> int: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def keys(self) -> tuple[str, ...]: ...
    @property
    def request_body(self) -> bytes | None: ...
    @property
    def response_body(self) -> bytes | None: ...


def captures(method: str) -> bool:
    """Whether a call of this method is one the debugger keeps: writes, not reads."""
    return method != "GET"


def _redact(value: Any, fields: frozenset[str], hidden: set[str]) -> Any:
    """``value`` with the values under ``fields`` (at any depth: dataFields, items, nested
    objects) replaced; each string so hidden joins ``hidden``, and any string equal to one
    of ``hidden`` is replaced wherever it stands (a response quoting a redacted email in
    its ``invalidEmails``)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in fields:
                _collect(item, hidden)
                out[key] = REDACTED
            else:
                out[key] = _redact(item, fields, hidden)
        return out
    if isinstance(value, list):
        return [_redact(item, fields, hidden) for item in value]
    if isinstance(value, str) and value in hidden:
        return REDACTED
    return value


def _collect(value: Any, hidden: set[str]) -> None:
    if isinstance(value, str):
        if value:
            hidden.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, hidden)
    elif isinstance(value, list):
        for item in value:
            _collect(item, hidden)


def redacted_bodies(
    request: bytes | None, response: bytes | None, fields: frozenset[str]
) -> tuple[str | None, str | None]:
    """The request and response bodies as text, the ``fields``' values hidden in both (the
    request's first, so that the response's quotes of them are hidden too). A body that is
    not JSON is kept as it came when nothing is to be hidden; otherwise the strings hidden
    in the request are replaced in it."""
    hidden: set[str] = set()
    texts: list[str | None] = []
    for body in (request, response):
        if body is None:
            texts.append(None)
            continue
        text = body.decode("utf-8", errors="replace")
        if not fields:
            texts.append(text)
            continue
        try:
            parsed = json.loads(text)
        except ValueError:
            for value in sorted(hidden, key=len, reverse=True):
                text = text.replace(value, REDACTED)
            texts.append(text)
            continue
        texts.append(json.dumps(_redact(parsed, fields, hidden), ensure_ascii=False))
    return texts[0], texts[1]


def bodies_table(
    calls: Iterable[CapturedCall], run_id: str, sync: SyncConfig, destination: str | None
) -> pa.Table:
    """The rows of ``API_CALL_BODIES`` for these captured calls."""
    fields = sync.redacted_fields()
    rows = list(calls)
    requests: list[str | None] = []
    responses: list[str | None] = []
    for call in rows:
        request, response = redacted_bodies(call.request_body, call.response_body, fields)
        requests.append(request)
        responses.append(response)
    return pa.table(
        {
            "RUN_ID": [run_id] * len(rows),
            "SYNC": [sync.name] * len(rows),
            "DESTINATION": pa.array([destination] * len(rows), pa.string()),
            "CALL_SEQ": pa.array([c.seq for c in rows], pa.int32()),
            "CALLED_AT": [c.called_at for c in rows],
            "METHOD": [c.method for c in rows],
            "ENDPOINT": [c.endpoint for c in rows],
            "STATUS": pa.array([c.status for c in rows], pa.int32()),
            "LATENCY_MS": [c.latency_ms for c in rows],
            "ATTEMPT": pa.array([c.attempt for c in rows], pa.int32()),
            "ERROR_CODE": pa.array([c.error_code for c in rows], pa.string()),
            "ERROR": pa.array([c.error_message for c in rows], pa.string()),
            "KEYS": [json.dumps(list(c.keys), ensure_ascii=False) for c in rows],
            "REQUEST_BODY": pa.array(requests, pa.string()),
            "RESPONSE_BODY": pa.array(responses, pa.string()),
        }
    )


def retention_sql(sync: SyncConfig) -> str:
    """Deletes the sync's captured calls older than ``debugger.keep_days`` (run at each
    send, whether capture is on or not: turning it off lets the kept ones expire).

    CALLED_AT is UTC without a zone, compared as the API_CALLS' daily cap compares it
    (``user_actions.calls_in_last_day``)."""
    days = int(sync.debugger.keep_days)
    return (
        f"DELETE FROM {CALL_BODIES_TABLE} WHERE SYNC = {literal(sync.name)}"
        f" AND CALLED_AT < DATEADD(DAY, -{days}, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ)"
    )
