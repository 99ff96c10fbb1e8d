"""Which Iterable project a sync's state describes, and what a run does when it is another.

A sync's state says which rows Iterable holds: it is true of one project only. The table
``ITERABLE_SYNC.SYNC_DESTINATIONS`` binds each sync to the destination (host and key
fingerprint, never the key) its state was written against; the last row of a sync is its
binding, earlier ones are its history. A sync binds on its first send. A run whose
destination is another one does not diff against that state: it stops before anything is
sent (``DestinationMismatch``), and goes on only when told which of two things happened:

- ``rebind``: the same project under a new key or URL (a rotated key): the state stays true,
  the sync is bound to the new destination.
- ``full_resync``: another project (a new, empty one): the state is dropped — rows, and the
  list or catalog the sync made, which exist in the old project only — so every row of the
  model goes to the new project as if for the first time, whatever the sync's type.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync import objects
from iterable_sync.sync.plan.tables import API_CALLS_TABLE, RUNS_TABLE, SyncTables
from iterable_sync.warehouse import WarehouseSession


@dataclass(frozen=True)
class DestinationId:
    """Which Iterable project a run writes to: its host and the fingerprint of its key.

    A key names one project (Iterable: "each key belongs to one project"), so the pair tells
    projects apart; a rotated key of the same project looks like another destination until
    the sync is rebound (``python -m iterable_sync rebind``)."""

    host: str
    fingerprint: str

    @property
    def label(self) -> str:
        return f"{self.host} #{self.fingerprint}"

    def __str__(self) -> str:
        return self.label


DESTINATIONS_TABLE = f"{SYNC_SCHEMA}.SYNC_DESTINATIONS"
DESTINATIONS_DDL = f"""CREATE TABLE IF NOT EXISTS {DESTINATIONS_TABLE} (
  SYNC VARCHAR, DESTINATION VARCHAR, FINGERPRINT VARCHAR, BOUND_AT TIMESTAMP_NTZ,
  RUN_ID VARCHAR, REASON VARCHAR
)"""
#: The run records and the call ledger name the destination of each row (``label``); rows
#: written before this column existed keep NULL there.
LEDGER_UPGRADE_SQL = [
    f"ALTER TABLE {RUNS_TABLE} ADD COLUMN IF NOT EXISTS DESTINATION VARCHAR",
    f"ALTER TABLE {API_CALLS_TABLE} ADD COLUMN IF NOT EXISTS DESTINATION VARCHAR",
]
#: Why a binding was written (its REASON).
FIRST_SEND, REBIND, FULL_RESYNC = "first send", "rebind", "full resync"


def ensure_tables(session: WarehouseSession) -> None:
    """The binding table, and the DESTINATION column of the ledgers (existing warehouses
    gain it; ``WRITE_BACK_DDL`` must have run)."""
    session.execute(DESTINATIONS_DDL)
    for statement in LEDGER_UPGRADE_SQL:
        session.execute(statement)


@dataclass(frozen=True)
class Binding:
    destination: DestinationId
    bound_at: datetime


def bound_to(session: WarehouseSession, sync: str) -> Binding | None:
    session.execute(DESTINATIONS_DDL)
    rows = session.query(
        f"SELECT DESTINATION, FINGERPRINT, BOUND_AT FROM {DESTINATIONS_TABLE}"
        " WHERE SYNC = ? ORDER BY BOUND_AT DESC LIMIT 1",
        [sync],
    )
    if not rows:
        return None
    row = rows[0]
    return Binding(DestinationId(str(row["DESTINATION"]), str(row["FINGERPRINT"])), row["BOUND_AT"])


def has_state(session: WarehouseSession, sync: str) -> bool:
    """Whether anything says what this sync put in some Iterable project: rows in state, or
    a list or catalog it created."""
    schema, state = SyncTables(sync).state.split(".", 1)
    if session.table_exists(schema, state) and session.scalar(
        f"SELECT count(*) FROM {schema}.{state}"
    ):
        return True
    session.execute(objects.OBJECTS_DDL)
    return bool(
        session.scalar(f"SELECT count(*) FROM {objects.OBJECTS_TABLE} WHERE SYNC = ?", [sync])
    )


def bind(
    session: WarehouseSession, sync: str, destination: DestinationId, run_id: str, reason: str
) -> None:
    session.execute(DESTINATIONS_DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    session.append(
        DESTINATIONS_TABLE,
        pa.table(
            {
                "SYNC": [sync],
                "DESTINATION": [destination.host],
                "FINGERPRINT": [destination.fingerprint],
                "BOUND_AT": [now],
                "RUN_ID": [run_id],
                "REASON": [reason],
            }
        ),
    )


def forget_state(session: WarehouseSession, sync: str) -> None:
    """Drop what the sync knows of its old project: its state rows, and the list or catalog
    it made there (the new project gets its own on the first send)."""
    schema, state = SyncTables(sync).state.split(".", 1)
    if session.table_exists(schema, state):
        session.execute(f"DELETE FROM {schema}.{state}")
    session.execute(objects.OBJECTS_DDL)
    session.execute(f"DELETE FROM {objects.OBJECTS_TABLE} WHERE SYNC = ?", [sync])


class DestinationMismatch(RuntimeError):
    """The sync's state belongs to another destination; nothing was sent."""


def mismatch_message(sync: str, bound: Binding | None, current: DestinationId) -> str:
    then = (
        f"{bound.destination} (bound {bound.bound_at:%Y-%m-%d %H:%M} UTC)"
        if bound
        else "an unrecorded destination (state written before destinations were recorded)"
    )
    return (
        f"sync {sync!r}: its state belongs to another Iterable destination, so this run "
        f"stopped before sending anything.\n"
        f"  state written against: {then}\n"
        f"  this run writes to:    {current}\n"
        f"The destination is the host and a fingerprint of the API key (never the key).\n"
        f"- Same Iterable project, new key or URL (a rotated key): keep the state and rebind "
        f"it: `python -m iterable_sync rebind {sync}`, or run with "
        f"`ops: {{{sync}_diff: {{config: {{rebind: true}}}}}}`.\n"
        f"- Another project (a new, empty one): send every row to it with "
        f"`ops: {{{sync}_diff: {{config: {{full_resync: true}}}}}}` (the state of the old "
        f"project is dropped and the sync is bound to this destination)."
    )


def settle(
    session: WarehouseSession,
    sync: str,
    current: DestinationId,
    run_id: str,
    *,
    rebind: bool,
    full_resync: bool,
) -> str | None:
    """Before the diff: make sure the state read is the current destination's.

    Returns what was done (``REBIND``, ``FULL_RESYNC``) or None when nothing had to be;
    raises ``DestinationMismatch`` when the state is another destination's and the run says
    neither. A sync with no state is bound by its first send (``bind_for_send``)."""
    bound = bound_to(session, sync)
    if bound is not None and bound.destination == current:
        return None
    if bound is None and not has_state(session, sync):
        return None
    if rebind:
        # Same project: the state stays true of it. (With full_resync as well, the run
        # then resends what state holds to that same project, as after a data loss.)
        bind(session, sync, current, run_id, REBIND)
        return REBIND
    if full_resync:
        forget_state(session, sync)
        bind(session, sync, current, run_id, FULL_RESYNC)
        return FULL_RESYNC
    raise DestinationMismatch(mismatch_message(sync, bound, current))


def bind_for_send(
    session: WarehouseSession, sync: str, current: DestinationId, run_id: str
) -> None:
    """Before the first call of a send: bind a sync that has no binding yet; refuse to send
    to another destination than the one the state belongs to (a send run on its own, or
    re-executed with other settings than its diff)."""
    bound = bound_to(session, sync)
    if bound is None:
        if has_state(session, sync):
            raise DestinationMismatch(mismatch_message(sync, None, current))
        bind(session, sync, current, run_id, FIRST_SEND)
    elif bound.destination != current:
        raise DestinationMismatch(mismatch_message(sync, bound, current))


def rebind_cli(session: WarehouseSession, sync: str, current: DestinationId) -> str:
    """``python -m iterable_sync rebind``: bind the sync's state to ``current``; what it did."""
    bound = bound_to(session, sync)
    if bound is not None and bound.destination == current:
        return f"{sync}: already bound to {current}"
    if bound is None and not has_state(session, sync):
        return f"{sync}: no state yet (it binds to where its first send writes)"
    bind(session, sync, current, "cli", REBIND)
    before = bound.destination if bound else "an unrecorded destination"
    return f"{sync}: state kept, rebound from {before} to {current}"
