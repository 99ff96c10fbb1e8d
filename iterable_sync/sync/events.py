"""The events sync type: diff rows → `events/trackBulk`, 1,000 events a request.

Each event carries its id (the ``event_id_column``, or the MD5 of the sync's name and the
primary key, built in the warehouse), so an event sent twice — a changed row, or a batch
retried after a crash — updates the one Iterable has instead of adding another.
"""

from dataclasses import dataclass, field
from typing import Any

from iterable_sync.iterable import (
    BadRequestError,
    Event,
    FieldTypeMismatchError,
    IterableClient,
    PayloadError,
)
from iterable_sync.sync import delivery, dropped_fields
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow, RowError

BULK_LIMIT = 1_000
OPERATION = "events/trackBulk"


@dataclass
class EventsDestination:
    client: IterableClient
    sync: SyncConfig
    project_type: str
    batch_size: int = BULK_LIMIT
    identity: delivery.Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = delivery.Identity(self.sync, self.project_type)

    def event(self, row: DiffRow) -> Event:
        payload = row.payload
        fields: dict[str, Any] = delivery.data_fields(row)
        return Event(
            **self.identity.of(row),
            event_name=payload["eventName"],
            id=payload["id"],
            created_at=payload.get("createdAt"),
            campaign_id=payload.get("campaignId"),
            template_id=payload.get("templateId"),
            data_fields=fields or None,
        )

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        ok, events, outcome = delivery.build_each(rows, self.event)
        if ok:
            outcome.extend(self._track(ok, events))
        return outcome

    def _track(self, rows: list[DiffRow], events: list[Event]) -> BatchOutcome:
        try:
            result = self.client.events.track_bulk(events)
        except FieldTypeMismatchError as exc:
            return delivery.isolate_type_mismatch(rows, exc, self.send, OPERATION)
        except (BadRequestError, PayloadError) as exc:
            return delivery.bisect(rows, exc, self.send, OPERATION)
        outcome = delivery.bulk_failures(rows, result, self.identity.key, OPERATION)
        outcome = _disallowed(outcome, result.disallowed_event_names)
        return dropped_fields.settle(outcome, result, OPERATION)

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        # An event happened: a row leaving the model does not undo it.
        return BatchOutcome(released=list(rows))


def _disallowed(outcome: BatchOutcome, names: list[str]) -> BatchOutcome:
    """Rows whose event name Iterable's answer lists in ``disallowedEventNames`` failed.

    Iterable's spec gives the list (BulkTrackResponse) without describing it; integrations
    read it as events not tracked (block/iterable-go marks them failed; rudder-transformer
    checks it as a failure path; shared/iterable-api-research.md). So such a row is a row
    error naming the event name, and its state does not advance: it goes again next run,
    when the project may allow the name.
    """
    if not names:
        return outcome
    refused = set(names)
    kept: list[DiffRow] = []
    for row in outcome.accepted:
        name = row.payload.get("eventName")
        if isinstance(name, str) and name in refused:
            error = RowError(
                row.pk,
                OPERATION,
                "disallowedEventNames",
                f"Iterable did not track events named {name!r} (disallowedEventNames)",
                field="eventName",
                value=name,
            )
            outcome.failed.append((row, error))
        else:
            kept.append(row)
    outcome.accepted = kept
    return outcome
