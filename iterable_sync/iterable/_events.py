"""`client.events`: custom events, one at a time or in bulk, and reading them back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._base import MAX_BULK_BODY_BYTES, Area, check_batch, coerce_all, envelope, parse_model
from ._exceptions import UnexpectedResponseError
from ._transport import Reply
from .models import BulkTrackResult, Event

__all__ = ["EventsAPI"]


class EventsAPI(Area):
    """Event endpoints (`/api/events/...`)."""

    def track(self, event: Event | Mapping[str, Any]) -> str | None:
        """Track one event; returns its id (Iterable's, or the one sent).
        `POST /api/events/track` (2,000 req/s). An event sent again with the same `id`
        updates the first one instead of adding another."""
        (payload,) = coerce_all(Event, [event])
        reply = self._t.call("POST", "/api/events/track", body=payload.to_body(), batch_size=1)
        params = envelope(reply).params or {}
        event_id = params.get("id", payload.id)
        return None if event_id is None else str(event_id)

    def track_bulk(self, events: Iterable[Event | Mapping[str, Any]]) -> BulkTrackResult:
        """Track up to 1,000 events (body ≤ 4 MB). `POST /api/events/trackBulk` (10 req/s).

        Per-event failures come back in the result, not as an exception; a type mismatch
        or malformed value rejects the whole batch. An empty batch sends nothing.
        """
        route = "/api/events/trackBulk"
        payloads = coerce_all(Event, events)
        check_batch(len(payloads), f"POST {route}")
        if not payloads:
            return BulkTrackResult(success_count=0, fail_count=0)
        reply = self._t.call(
            "POST",
            route,
            body={"events": [e.to_body() for e in payloads]},
            batch_size=len(payloads),
            max_body_bytes=MAX_BULK_BODY_BYTES,
        )
        return parse_model(BulkTrackResult, reply.json_object(), reply)

    def get_events_by_email(self, email: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """A user's most recent events (Iterable caps `limit` at 200, default 30).
        `GET /api/events/{email}` (100 req/s)."""
        query = {} if limit is None else {"limit": limit}
        reply = self._t.call("GET", "/api/events/{email}", path={"email": email}, query=query)
        return self._events(reply)

    def get_events_by_user_id(
        self, user_id: str, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Like `get_events_by_email`, by userId. `GET /api/events/byUserId/{userId}`."""
        query = {} if limit is None else {"limit": limit}
        reply = self._t.call(
            "GET", "/api/events/byUserId/{userId}", path={"userId": user_id}, query=query
        )
        return self._events(reply)

    @staticmethod
    def _events(reply: Reply) -> list[dict[str, Any]]:
        events = reply.json_object().get("events", [])
        if not isinstance(events, list):
            raise UnexpectedResponseError(
                "'events' is not a list", endpoint=reply.endpoint, status=reply.status
            )
        return [e for e in events if isinstance(e, dict)]
