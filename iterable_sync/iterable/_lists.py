"""`client.lists`: static lists and their members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._base import Area, check_batch, coerce_all, envelope, parse_model
from ._exceptions import UnexpectedResponseError
from .models import IterableEnvelope, ListInfo, ListSubscriber, SubscribeResult

__all__ = ["ListsAPI"]


class ListsAPI(Area):
    """List endpoints (`/api/lists/...`)."""

    def create(self, name: str, *, description: str | None = None) -> int:
        """Create a static list; returns its id. `POST /api/lists`."""
        body = {"name": name} if description is None else {"name": name, "description": description}
        reply = self._t.call("POST", "/api/lists", body=body)
        list_id = reply.json_object().get("listId")
        if not isinstance(list_id, int):
            raise UnexpectedResponseError(
                "no integer listId in the response", endpoint=reply.endpoint, status=reply.status
            )
        return list_id

    def get_all(self) -> list[ListInfo]:
        """Every list of the project. `GET /api/lists` (100 req/s)."""
        reply = self._t.call("GET", "/api/lists")
        lists = reply.json_object().get("lists", [])
        return [parse_model(ListInfo, item, reply) for item in lists]

    def delete(self, list_id: int) -> IterableEnvelope:
        """Delete a list. `DELETE /api/lists/{listId}`; a list in use → `ConflictError`."""
        return envelope(self._t.call("DELETE", "/api/lists/{listId}", path={"listId": list_id}))

    def subscribe(
        self,
        list_id: int,
        subscribers: Iterable[ListSubscriber | Mapping[str, Any]],
        update_existing_users_only: bool | None = None,
    ) -> SubscribeResult:
        """Add up to 1,000 users to a list (creating unknown users unless
        `update_existing_users_only`, which Iterable honours in userID-based and hybrid
        projects). `POST /api/lists/subscribe`. An empty batch sends nothing."""
        route = "/api/lists/subscribe"
        payloads = coerce_all(ListSubscriber, subscribers)
        check_batch(len(payloads), f"POST {route}")
        if not payloads:
            return SubscribeResult(success_count=0, fail_count=0)
        body: dict[str, Any] = {
            "listId": list_id,
            "subscribers": [s.to_body() for s in payloads],
        }
        if update_existing_users_only is not None:
            body["updateExistingUsersOnly"] = update_existing_users_only
        reply = self._t.call("POST", route, body=body, batch_size=len(payloads))
        return parse_model(SubscribeResult, reply.json_object(), reply)

    def unsubscribe(
        self,
        list_id: int,
        subscribers: Iterable[ListSubscriber | Mapping[str, Any]],
        *,
        campaign_id: int | None = None,
        channel_unsubscribe: bool | None = None,
    ) -> SubscribeResult:
        """Remove up to 1,000 users from a list; only their email/userId is sent.
        `POST /api/lists/unsubscribe`. `channel_unsubscribe=True` also unsubscribes them
        from the list's channel — a global unsubscribe, rarely what a sync means."""
        route = "/api/lists/unsubscribe"
        payloads = coerce_all(ListSubscriber, subscribers)
        check_batch(len(payloads), f"POST {route}")
        if not payloads:
            return SubscribeResult(success_count=0, fail_count=0)
        body: dict[str, Any] = {
            "listId": list_id,
            "subscribers": [
                s.model_dump(include={"email", "user_id"}, exclude_none=True) for s in payloads
            ],
        }
        if campaign_id is not None:
            body["campaignId"] = campaign_id
        if channel_unsubscribe is not None:
            body["channelUnsubscribe"] = channel_unsubscribe
        reply = self._t.call("POST", route, body=body, batch_size=len(payloads))
        return parse_model(SubscribeResult, reply.json_object(), reply)

    def get_users(self, list_id: int, *, prefer_user_id: bool | None = None) -> list[str]:
        """The list's members, one email (or userId) each. `GET /api/lists/getUsers` —
        5 req/minute, so a call may wait up to ~13 s for its slot."""
        query: dict[str, int | bool] = {"listId": list_id}
        if prefer_user_id is not None:
            query["preferUserId"] = prefer_user_id
        reply = self._t.call("GET", "/api/lists/getUsers", query=query)
        # Plain text, one user per line (not JSON).
        return [line.strip() for line in reply.text.splitlines() if line.strip()]
