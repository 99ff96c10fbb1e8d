"""The subscriptions sync type: each changed row subscribes its user to, or unsubscribes
them from, the email lists, channels and message types its columns say.

Why ``PUT /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}?action=`` and not
``users/bulkUpdateSubscriptions``: the spec says of the latter "This endpoint overwrites
(does not merge) existing data for any non-null fields specified in the request", so sending
``unsubscribedChannelIds: [1]`` would re-subscribe the user to every other channel they had
left. The group action touches one list, channel or message type only: "Subscribes or
unsubscribes multiple users to the specified subscription group. In users, list email
addresses. In usersByUserId, list userId values." (spec). Per the spec, "To enable this API,
contact your customer success manager". The spec publishes no rate limit and no batch size
for it: the client paces it at its assumed limit (``iterable/_limits.py: UNSTATED_LIMIT``)
and sends at most ``MAX_SUBSCRIPTION_BATCH`` (1,000, assumed) users a request.

Names are resolved to ids once (``GET /api/channels``, ``GET /api/messageTypes``,
``GET /api/lists``) and kept in ``ITERABLE_SYNC.SYNC_OBJECTS``, as created lists are.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from iterable_sync.iterable import BadRequestError, FailedUpdates, IterableClient, PayloadError
from iterable_sync.sync import delivery, objects
from iterable_sync.sync.config import Match, SubscriptionsSync
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow, RowError
from iterable_sync.warehouse import WarehouseSession

OPERATION = "subscriptions"
#: Users per group action (assumed: the spec states no maximum; the client enforces it).
BULK_LIMIT = 1_000

#: Group → the kind SYNC_OBJECTS records a resolved name under.
_KINDS = {"emailList": "email_list", "messageChannel": "channel", "messageType": "message_type"}


def resolve_ids(
    session: WarehouseSession, client: IterableClient, sync: SubscriptionsSync
) -> dict[str, int]:
    """Payload key (``messageChannel:Marketing Email``) → the id Iterable knows it by.

    Ids pass as they are; a name is looked up once and recorded. A name Iterable does not
    have is the sync's configuration: it fails the run, naming the sync and the key."""
    ids: dict[str, int] = {}
    catalogues: dict[str, dict[str, int]] = {}

    def catalogue(group: str) -> dict[str, int]:
        if group not in catalogues:
            if group == "messageChannel":
                catalogues[group] = {c.name: c.id for c in client.subscriptions.channels()}
            elif group == "messageType":
                catalogues[group] = {m.name: m.id for m in client.subscriptions.message_types()}
            else:
                catalogues[group] = {x.name: x.id for x in client.lists.get_all()}
        return catalogues[group]

    for sub in sync.subscriptions:
        target = sub.target
        if isinstance(target, int):
            ids[sub.payload_key] = target
            continue
        kind = _KINDS[sub.GROUP]
        known = objects.recorded(session, sync.name, kind, target)
        if known is None:
            found = catalogue(sub.GROUP).get(target)
            if found is None:
                key = {"emailList": "lists", "messageChannel": "channels"}.get(
                    sub.GROUP, "message_types"
                )
                raise ValueError(
                    f"sync {sync.name!r}: {key}: Iterable has no {kind.replace('_', ' ')} "
                    f"named {target!r}"
                )
            objects.record(session, sync.name, kind, target, str(found))
            known = str(found)
        ids[sub.payload_key] = int(known)
    return ids


@dataclass
class SubscriptionsDestination:
    client: IterableClient
    sync: SubscriptionsSync
    project_type: str
    ids: dict[str, int]
    batch_size: int = BULK_LIMIT
    identity: delivery.Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = delivery.Identity(self.sync, self.project_type)

    def _actions(self, row: DiffRow) -> list[tuple[str, int, str]]:
        """(group, id, subscribe|unsubscribe) for each column of the row with a value."""
        actions = []
        for sub in self.sync.subscriptions:
            value = row.payload.get(sub.payload_key)
            if isinstance(value, bool):
                action = "subscribe" if value else "unsubscribe"
                actions.append((sub.GROUP, self.ids[sub.payload_key], action))
        return actions

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        """One request per (group, id, action) of the batch; a row is accepted once every
        request that named its user did."""
        calls: dict[tuple[str, int, str], list[DiffRow]] = {}
        for row in rows:
            for action in self._actions(row):
                calls.setdefault(action, []).append(row)
        failed: dict[str, tuple[DiffRow, RowError]] = {}
        not_found: set[str] = set()
        try:
            for (group, group_id, action), members in sorted(calls.items()):
                answer = self._call(group, group_id, action, members)
                self._settle(members, answer, failed, not_found, f"{group} {group_id} {action}")
        except (BadRequestError, PayloadError) as exc:
            # Iterable refused a whole request (an id it does not know, a malformed
            # identifier): pin the refusal to its rows; subscribing twice changes nothing.
            return delivery.bisect(rows, exc, self.send, OPERATION)
        outcome = BatchOutcome()
        for row in rows:
            if row.pk in failed:
                outcome.failed.append(failed[row.pk])
            elif row.pk in not_found:
                outcome.not_found.append(row)
            else:
                outcome.accepted.append(row)
        return outcome

    def _call(self, group: Any, group_id: int, action: Any, rows: list[DiffRow]) -> FailedUpdates:
        names = [self._name(row) for row in rows]
        by = "user_ids" if self.identity.match is Match.USER_ID else "emails"
        answer = self.client.subscriptions.bulk_action(group, group_id, action, **{by: names})
        # Assumed shape (the spec documents none for this answer): per-user failures in
        # params.failedUpdates, as the other bulk user endpoints answer them.
        params = answer.params or {}
        return FailedUpdates.model_validate(params.get("failedUpdates") or {})

    def _name(self, row: DiffRow) -> str:
        return (row.user_id if self.identity.match is Match.USER_ID else row.email) or ""

    def _settle(
        self,
        rows: list[DiffRow],
        failures: FailedUpdates,
        failed: dict[str, tuple[DiffRow, RowError]],
        not_found: set[str],
        what: str,
    ) -> None:
        missing = {n.strip().lower() for n in failures.not_found_emails}
        missing |= set(failures.not_found_user_ids)
        reasons = delivery.failure_reasons(_AsResult(failures))
        key: Callable[[DiffRow], str] = self.identity.key
        for row in rows:
            name = key(row)
            if name in missing:
                not_found.add(row.pk)
            elif name in reasons and row.pk not in failed:
                error = delivery.identifier_error(row, f"{OPERATION} ({what})", name, reasons[name])
                failed[row.pk] = (row, error)

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        # Leaving the model withdraws no consent: nothing to call (shapes.Semantics).
        return BatchOutcome(released=list(rows))


@dataclass(frozen=True)
class _AsResult:
    """A group action's failures in the shape ``delivery.failure_reasons`` reads."""

    failed_updates: FailedUpdates
    invalid_emails: tuple[str, ...] = ()
    invalid_user_ids: tuple[str, ...] = ()
