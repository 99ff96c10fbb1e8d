"""Event endpoints: track, trackBulk, trackPurchase, updateCart and reading a user's events.

Events are keyed by their id (given, or generated): tracking an existing id replaces that
event. Event fields are typed per event name. An event for an unknown user creates the user
when it is identified by the project's unique key (email in email-based projects, userId in
userID-based ones, either in hybrid ones); a userId-only event in an email-based project for
an unknown userId fails (``notFoundUserIds``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iterable_sync.emulator.fields import USER, event_category, format_date
from iterable_sync.emulator.identity import Failure, normalise_email, valid_email
from iterable_sync.emulator.project import Project
from iterable_sync.emulator.responses import ApiError, bad_params
from iterable_sync.emulator.store import dumps
from iterable_sync.emulator.userbatch import BatchResult, UserBatch, UserInput
from iterable_sync.emulator.users import MAX_BATCH, raise_failure

FAILED_EVENT_KEYS = (
    "forgottenEmails",
    "forgottenUserIds",
    "invalidEmails",
    "invalidUserIds",
    "notFoundEmails",
    "notFoundUserIds",
)
MAX_EVENT_ID_BYTES = 512
_MS_THRESHOLD = 100_000_000_000  # 1973 in ms, year 5138 in seconds: bigger means ms


@dataclass
class EventInput:
    user: UserInput
    name: str
    event_id: str
    created_ms: int
    data: dict[str, Any]
    event_type: str = "customEvent"
    extra: dict[str, Any] = field(default_factory=dict)
    update_user: bool = False  # purchases and carts also write the profile
    #: The event's ``createNewFields`` (per event object in TrackRequest, also inside
    #: trackBulk's events); None follows the project's setting. Purchases and carts have
    #: no such parameter and always create their fields (an assumption: their responses,
    #: IterableApiResponse, have no filteredOutFields to report a drop in).
    create_fields: bool | None = None

    @property
    def category(self) -> str:
        return event_category(self.name)


def created_ms(value: Any) -> int:
    """Iterable documents Unix time; clients send seconds or milliseconds: accept both."""
    if value is None:
        return int(time.time() * 1000)
    number = int(value)
    return number if abs(number) >= _MS_THRESHOLD else number * 1000


def _event_id(value: Any) -> str:
    event_id = value if isinstance(value, str) and value else uuid.uuid4().hex
    if len(event_id.encode()) > MAX_EVENT_ID_BYTES:
        raise bad_params(f"Event id is longer than {MAX_EVENT_ID_BYTES} bytes: {event_id[:40]}...")
    return event_id


def _track_input(body: dict[str, Any]) -> EventInput:
    extra = {k: body[k] for k in ("campaignId", "templateId") if body.get(k) is not None}
    return EventInput(
        UserInput.from_body({"email": body.get("email"), "userId": body.get("userId")}),
        body["eventName"],
        _event_id(body.get("id")),
        created_ms(body.get("createdAt")),
        body.get("dataFields") or {},
        extra=extra,
        create_fields=body.get("createNewFields"),
    )


def _creates(project: Project, event: EventInput) -> bool:
    if event.update_user:  # a purchase or a cart: see EventInput.create_fields
        return True
    return project.creates_fields(event.create_fields)


def record_events(project: Project, events: Sequence[EventInput], bulk: bool) -> BatchResult:
    """Type-check everything, then write users and events in one transaction."""
    store = project.store
    with store.lock:
        with store.tx():
            staged = project.stage()
            user_fields = [
                staged.check(USER, e.user.data, i) if e.update_user else {}
                for i, e in enumerate(events)
            ]
            event_fields = [
                staged.check(e.category, e.data, i, _creates(project, e))
                for i, e in enumerate(events)
            ]
            project.raise_mismatch(staged, events[0].data if events else None, bulk)
            batch = UserBatch(project)
            batch.prefetch([e.user for e in events])
            result = BatchResult(
                created_fields=list(staged.created), filtered_fields=list(staged.filtered)
            )
            rows = []
            for event, ufields, efields in zip(events, user_fields, event_fields, strict=True):
                outcome = batch.resolve(event.user)
                if isinstance(outcome, Failure):
                    result.failures.append(outcome)
                    result.rows.append(None)
                    continue
                row = outcome
                if event.update_user:
                    batch.apply(row, ufields, event.user.merge_nested)
                elif row.new or row.dirty:
                    batch.touch(row)
                result.rows.append(row)
                result.success_count += 1
                extra = {**event.extra, "email": row.email, "userId": row.user_id}
                rows.append(
                    (
                        event.event_id,
                        row.id,
                        event.name,
                        event.event_type,
                        event.created_ms,
                        dumps(efields),
                        dumps(extra),
                    )
                )
            batch.flush()
            store.upsert_events(rows)
            project.save_fields(staged)
        project.commit_fields(staged)
    return result


def track(project: Project, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    event = _track_input(body)
    if event.user.email is None and event.user.user_id is None:
        raise bad_params("Either email or userId must be specified in a track call")
    result = record_events(project, [event], bulk=False)
    if result.failures:
        raise_failure(result.failures[0], conflict_status=400)
    return f"Event with id: {event.event_id} tracked.", {"id": event.event_id}


def track_bulk(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    raw_events = body["events"]
    if len(raw_events) > MAX_BATCH:
        raise ApiError(
            400,
            "BatchTooLarge",
            f"Batch of {len(raw_events)} events exceeds the maximum of {MAX_BATCH}",
        )
    result = record_events(project, [_track_input(e) for e in raw_events], bulk=True)
    failed = result.failed(FAILED_EVENT_KEYS)
    return {
        "successCount": result.success_count,
        "failCount": result.fail_count,
        "invalidEmails": failed["invalidEmails"],
        "invalidUserIds": failed["invalidUserIds"],
        "disallowedEventNames": [],
        "filteredOutFields": result.filtered_fields,
        "createdFields": result.created_fields,
        "failedUpdates": failed,
    }


def _commerce_user(body: dict[str, Any], cart: list[dict[str, Any]]) -> UserInput:
    user = UserInput.from_body(body["user"])
    if user.email is None and user.user_id is None:
        raise bad_params("Either email or userId must be set")
    user.data = {**user.data, "shoppingCartItems": cart}
    return user


def track_purchase(project: Project, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    items = body["items"]
    # A purchase empties the cart.
    user = _commerce_user(body, [])
    data = {**(body.get("dataFields") or {}), "shoppingCartItems": items, "total": body["total"]}
    extra = {k: body[k] for k in ("campaignId", "templateId") if body.get(k) is not None}
    event = EventInput(
        user,
        "purchase",
        _event_id(body.get("id")),
        created_ms(body.get("createdAt")),
        data,
        "purchase",
        extra,
        True,
    )
    result = record_events(project, [event], bulk=False)
    if result.failures:
        raise_failure(result.failures[0])
    return f"Purchase with id: {event.event_id} tracked.", {"id": event.event_id}


def update_cart(project: Project, body: dict[str, Any]) -> None:
    items = body["items"]
    user = _commerce_user(body, items)
    event = EventInput(
        user,
        "updateCart",
        uuid.uuid4().hex,
        created_ms(None),
        {"shoppingCartItems": items},
        "updateCart",
        {},
        True,
    )
    result = record_events(project, [event], bulk=False)
    if result.failures:
        raise_failure(result.failures[0])


def get_events(
    project: Project, email: str | None = None, user_id: str | None = None, limit: int = 30
) -> dict[str, Any]:
    limit = max(1, min(limit, 200))
    store = project.store
    with store.read():
        if email is not None:
            key = normalise_email(email)
            if not valid_email(key):
                raise ApiError(400, "InvalidEmailAddressError", f"Invalid email: {email}")
            rows = store.users_by("email", [key])
        else:
            rows = store.users_by("user_id", [user_id or ""])
        if not rows:
            return {"events": []}
        events = store.user_events(rows[0][0], limit)
    out = []
    for event_id, name, kind, ms, data, extra in events:
        event = {
            "_id": event_id,
            "eventName": name,
            "eventType": kind,
            "createdAt": format_date(datetime.fromtimestamp(ms / 1000, UTC)),
            **{k: v for k, v in json.loads(extra).items() if v is not None},
            "dataFields": json.loads(data),
        }
        out.append(event)
    return {"events": out}
