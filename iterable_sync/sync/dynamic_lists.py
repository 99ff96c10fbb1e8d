"""Dynamic lists: one static list per distinct value of a column (``list_per_value_of``),
e.g. a list per plan. Each value's list is created once (``POST /api/lists``) and its id
kept in ``SYNC_OBJECTS`` beside the static lists'; a row is subscribed to its value's list
and, when its value changes, unsubscribed from the old one once it is on the new one.

The value travels in the payload beside ``dataFields`` (``shapes.LIST_VALUE_KEY``), so
state keeps the value each row was last sent with: a row leaving the model is unsubscribed
from that list, and a changed row's old list is read from state before the send.

A null (or blank) value is a member of none of the sync's lists: nothing is subscribed, the
row is unsubscribed from the list it was in (if any), and state records it with no list.
Not a row error: a contact without a plan is a fact of the model, not a fault, and a
warning per row on every such row would bury the real ones in ROW_ERRORS.

Iterable's shapes (spec): ``SubscribeRequest`` {listId, subscribers (OptionalApiUser),
updateExistingUsersOnly}, ``UnsubscribeRequest`` {listId, subscribers (Unsubscriber),
campaignId, channelUnsubscribe}; both answer ``UserBulkUpdateListResponse`` and take one
list per request, so a batch is cut per list (``lists.BULK_LIMIT`` subscribers each).
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from iterable_sync.iterable import IterableClient
from iterable_sync.sync import objects
from iterable_sync.sync.config import ListSync
from iterable_sync.sync.lists import BULK_LIMIT, ListDestination
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow
from iterable_sync.sync.plan.record import TAG_LENGTH, target_tag
from iterable_sync.sync.plan.shapes import LIST_VALUE_KEY
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.sync.plan.text import json_path, literal
from iterable_sync.warehouse import WarehouseSession


def value_of(row: DiffRow) -> str | None:
    """The list value a row's payload carries (for a removed row: the one last sent)."""
    value = row.payload.get(LIST_VALUE_KEY)
    return None if value is None else str(value)


def _value_sql(payload: str) -> str:
    return f"NULLIF(TO_JSON(GET_PATH(PARSE_JSON({payload}), {json_path(LIST_VALUE_KEY)})), 'null')"


def _decoded(text: Any) -> str | None:
    return None if text is None else str(json.loads(str(text)))


def diff_values(session: WarehouseSession, sync: ListSync) -> dict[str, dict[str, int]]:
    """Every value the diff's rows go to or leave (removed rows carry the last payload),
    with how many rows are sent to its list and how many leave it on removal."""
    t = SyncTables(sync.name)
    rows = session.query(
        f"SELECT V, CHANGE, count(*) AS N FROM (SELECT {_value_sql('PAYLOAD')} AS V, CHANGE"
        f" FROM {t.diff}) GROUP BY V, CHANGE"
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"sent": 0, "leaving": 0})
    for r in rows:
        value = _decoded(r["V"])
        if value is not None:
            counts[value]["leaving" if r["CHANGE"] == "removed" else "sent"] += int(r["N"])
    return counts


def moved_rows(session: WarehouseSession, sync: ListSync) -> dict[str, str]:
    """Primary key → the value whose list a changed row leaves: rows in the model whose value
    in state (last sent, to the lists of this ``list_name``: same target tag) is not null
    and differs from the one about to be sent. Few rows on an ordinary run."""
    t = SyncTables(sync.name)
    tag = literal(target_tag(sync) + ":")
    rows = session.query(
        f"""SELECT PK, OLD FROM (
  SELECT d.PK, {_value_sql("s.PAYLOAD")} AS OLD, {_value_sql("d.PAYLOAD")} AS NEW
  FROM {t.diff} d JOIN {t.state} s ON s.PK = d.PK
  WHERE d.CHANGE = 'changed' AND s.IN_MODEL AND SUBSTR(s.HASH, 1, {TAG_LENGTH}) = {tag}
) WHERE OLD IS NOT NULL AND OLD IS DISTINCT FROM NEW"""
    )
    return {str(r["PK"]): str(_decoded(r["OLD"])) for r in rows}


def ensure_lists(
    session: WarehouseSession, client: IterableClient, sync: ListSync, values: Iterable[str]
) -> dict[str, int]:
    """Value → list id: the list this sync created for it, or one created now (once)."""
    ids: dict[str, int] = {}
    for value in sorted(values):
        name = sync.list_name_for(value)
        known = objects.recorded(session, sync.name, "list", name)
        if known is None:
            list_id = client.lists.create(
                name,
                description=(
                    f"Kept up to date by iterable_sync from the model {sync.model}:"
                    f" rows whose {sync.list_per_value_of} is {value!r}."
                ),
            )
            objects.record(session, sync.name, "list", name, str(list_id))
            known = str(list_id)
        ids[value] = int(known)
    return ids


def _grouped(rows: Iterable[DiffRow], key: dict[str, str] | None = None) -> dict[Any, list]:
    groups: dict[str | None, list[DiffRow]] = defaultdict(list)
    for row in rows:
        groups[key.get(row.pk) if key is not None else value_of(row)].append(row)
    return groups


@dataclass
class DynamicListDestination:
    """Sends each row to its value's list; ``moved``: rows leaving an old value's list."""

    client: IterableClient
    sync: ListSync
    project_type: str
    list_ids: dict[str, int]
    moved: dict[str, str]
    #: List name → its id, the rows this run sends to it and the rows leaving it (metadata).
    per_list: dict[str, dict[str, int]] = field(default_factory=dict)
    batch_size: int = BULK_LIMIT
    _lists: dict[int, ListDestination] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        # The same checks as a static list (update_existing_users_only in an email project).
        ListDestination(
            client=self.client, sync=self.sync, project_type=self.project_type, list_id=0
        )

    def _list_of(self, list_id: int) -> ListDestination:
        if list_id not in self._lists:
            self._lists[list_id] = ListDestination(
                client=self.client, sync=self.sync, project_type=self.project_type, list_id=list_id
            )
        return self._lists[list_id]

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        outcome = BatchOutcome()
        # On their value's list (or on none): these may still have an old list to leave.
        placed: list[DiffRow] = []
        for value, group in _grouped(rows).items():
            if value is None:
                placed += group
                continue
            subscribed = self._list_of(self.list_ids[value]).send(group)
            outcome.extend(subscribed)
        placed += outcome.accepted + [row for row, _ in outcome.partial]
        leaving = [row for row in placed if row.pk in self.moved]
        left = self._unsubscribe(_grouped(leaving, self.moved))
        # A row still on its old list is not done: it keeps its old state and goes again.
        stuck = {row.pk for row, _ in left.failed + left.quarantined}
        outcome.accepted = [row for row in outcome.accepted if row.pk not in stuck]
        outcome.partial = [(row, e) for row, e in outcome.partial if row.pk not in stuck]
        subscribed_pks = {row.pk for row in rows if value_of(row) is not None}
        outcome.accepted += [
            row for row in placed if row.pk not in subscribed_pks and row.pk not in stuck
        ]
        outcome.failed += left.failed
        outcome.quarantined += left.quarantined
        return outcome

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        groups = _grouped(rows)
        # In no list (a null value when last sent): nothing to leave.
        outcome = BatchOutcome(released=groups.pop(None, []))
        outcome.extend(self._unsubscribe(groups))
        return outcome

    def _unsubscribe(self, groups: dict[Any, list]) -> BatchOutcome:
        outcome = BatchOutcome()
        for value, group in groups.items():
            list_id = self.list_ids.get(value)
            if list_id is None:  # pragma: no cover - every diff value's list is ensured
                outcome.released += group
                continue
            outcome.extend(self._list_of(list_id).remove(group))
        return outcome


def build(
    session: WarehouseSession, client: IterableClient, sync: ListSync, project_type: str
) -> DynamicListDestination:
    """The destination with every list the diff needs: values rows go to, values removed
    rows and changed rows leave (created now if this sync has none for them yet)."""
    moved = moved_rows(session, sync)
    counts = diff_values(session, sync)
    for old in moved.values():
        counts[old]["leaving"] += 1
    ids = ensure_lists(session, client, sync, counts)
    return DynamicListDestination(
        client=client,
        sync=sync,
        project_type=project_type,
        list_ids=ids,
        moved=moved,
        per_list={
            sync.list_name_for(value): {"list_id": ids[value], **counts[value]}
            for value in sorted(counts)
        },
    )
