"""What happened to the rows of one batch, and the run's tally."""

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: The primary keys of the rows the calls being made now carry: set by the engine around a
#: batch's send (and per row for types that call once per row, ``delivery.each_row``), read
#: by the call log to tell the request debugger which records a call concerned.
BATCH_KEYS: ContextVar[tuple[str, ...]] = ContextVar("BATCH_KEYS", default=())

#: State outcomes. Only these advance a record's state; a failed row keeps its old state and
#: is sent again next run.
SYNCED = "synced"
NOT_FOUND = "not_found"  # update mode: Iterable has no such user, so nothing was written


@dataclass(frozen=True)
class DiffRow:
    """One row of ``<sync>__DIFF`` as the sender sees it.

    The payload travels as the JSON text the warehouse built (``payload_text``) and is sent
    as is; it is parsed (``payload``) only where a row's values are looked at — isolating a
    rejected value, building a purchase — not for every row sent.
    """

    seq: int
    pk: str
    email: str | None
    user_id: str | None
    payload_text: str
    hash: str
    change: str
    previous_outcome: str | None
    previous_email: str | None
    #: What state keeps for the row once Iterable accepts it, when that is not the payload
    #: (``nulls: keep``: a field left out because it went null keeps its old value there).
    state_payload: str | None = None
    #: The record's fast hash (``plan/record.py: fast_hash_sql``), kept in state beside its MD5.
    fast: int | None = None

    @cached_property
    def payload(self) -> dict[str, Any]:
        value = json.loads(self.payload_text)
        return value if isinstance(value, dict) else {}

    @property
    def state_payload_text(self) -> str:
        """The payload text state records: what Iterable holds for the row once accepted."""
        return self.state_payload or self.payload_text

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> "DiffRow":
        """A row of ``SELECT {DIFF_COLUMNS}``, by position (no dict per row)."""
        seq, pk, email, user_id, payload, hash_, change, previous_outcome, previous_email = values[
            :9
        ]
        kept, fast = values[9:]
        return cls(
            int(seq),
            str(pk),
            email,
            user_id,
            payload or "{}",
            hash_,
            change,
            previous_outcome,
            previous_email,
            kept,
            fast,
        )


#: The diff's columns the sender reads, in DiffRow's order.
DIFF_COLUMNS = (
    "SEQ, PK, EMAIL, USER_ID, PAYLOAD, HASH, CHANGE, PREVIOUS_OUTCOME, PREVIOUS_EMAIL,"
    " STATE_PAYLOAD, FAST"
)


@dataclass(frozen=True)
class RowError:
    pk: str
    operation: str
    code: str
    message: str
    field: str | None = None
    value: str | None = None


@dataclass
class BatchOutcome:
    """Rows of a batch by fate. Every row of the batch lands in exactly one list."""

    accepted: list[DiffRow] = field(default_factory=list)
    not_found: list[DiffRow] = field(default_factory=list)
    failed: list[tuple[DiffRow, RowError]] = field(default_factory=list)
    quarantined: list[tuple[DiffRow, RowError]] = field(default_factory=list)
    #: Not sent and not an error: past a daily cap (forget/unforget), they wait for a later
    #: run; their state does not advance, so they are never dropped.
    deferred: list[DiffRow] = field(default_factory=list)
    #: Rows that left the model where leaving calls for no call to Iterable (a user keeps
    #: its profile, an event stays tracked): state forgets them, nothing was sent.
    released: list[DiffRow] = field(default_factory=list)
    #: Rows Iterable took without some of their fields (``filteredOutFields``: the project
    #: drops fields it does not know), one error per field dropped. Each row is as state
    #: records it: without those fields, its hash not the record's
    #: (``dropped_fields.held``), so the next diff finds them "added" and sends it again.
    partial: list[tuple[DiffRow, list[RowError]]] = field(default_factory=list)
    lookups: int = 0
    #: Fields Iterable created for these rows (``createdFields``), and those it dropped.
    created_fields: set[str] = field(default_factory=set)
    filtered_fields: set[str] = field(default_factory=set)

    def extend(self, other: "BatchOutcome") -> None:
        self.accepted += other.accepted
        self.not_found += other.not_found
        self.failed += other.failed
        self.quarantined += other.quarantined
        self.deferred += other.deferred
        self.released += other.released
        self.partial += other.partial
        self.lookups += other.lookups
        self.created_fields |= other.created_fields
        self.filtered_fields |= other.filtered_fields

    @property
    def errors(self) -> list[tuple[DiffRow, RowError]]:
        """Every row error of the batch: refused rows, and each field Iterable dropped."""
        dropped = [(row, error) for row, errors in self.partial for error in errors]
        return self.failed + self.quarantined + dropped

    @property
    def size(self) -> int:
        sent = len(self.accepted) + len(self.not_found) + len(self.failed) + len(self.partial)
        return sent + len(self.quarantined) + len(self.deferred) + len(self.released)


@dataclass
class RunTally:
    queried: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    sent: int = 0
    accepted: int = 0
    not_found: int = 0
    failed: int = 0
    #: Rows Iterable took with some fields dropped: not accepted (not all was delivered),
    #: not failed either (state records what Iterable holds of them); SYNC_RUNS counts
    #: them in FAILED.
    partial: int = 0
    quarantined: int = 0
    deferred: int = 0
    invalid_in_model: int = 0
    lookups: int = 0
    batches: int = 0
    #: Calls whose bodies the request debugger stored (``debugger.capture``).
    captured_calls: int = 0
    seconds: float = 0.0
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    errors_by_reason: Counter[str] = field(default_factory=Counter)
    created_fields: set[str] = field(default_factory=set)
    filtered_fields: set[str] = field(default_factory=set)
    #: Dynamic lists: list name → its id, rows sent to it, rows leaving it.
    per_list: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, outcome: BatchOutcome) -> None:
        self.batches += 1
        unsent = len(outcome.quarantined) + len(outcome.deferred) + len(outcome.released)
        self.sent += outcome.size - unsent
        self.accepted += len(outcome.accepted)
        self.not_found += len(outcome.not_found)
        self.failed += len(outcome.failed)
        self.quarantined += len(outcome.quarantined)
        self.deferred += len(outcome.deferred)
        self.partial += len(outcome.partial)
        self.lookups += outcome.lookups
        for _, error in outcome.errors:
            self.errors_by_reason[error.code] += 1
        self.created_fields |= outcome.created_fields
        self.filtered_fields |= outcome.filtered_fields

    @property
    def api_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def write_calls(self) -> int:
        return sum(n for (endpoint, _), n in self.calls.items() if not endpoint.startswith("GET "))

    def latency_percentile(self, pct: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[pct - 1]
