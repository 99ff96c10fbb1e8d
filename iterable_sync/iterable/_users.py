"""`client.users`: profiles — update, bulk update, email changes, deletion, GDPR, reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._base import (
    MAX_BULK_BODY_BYTES,
    Area,
    check_batch,
    coerce_all,
    envelope,
    parse_model,
)
from ._encoding import RawJSON
from ._transport import Reply
from .models import BulkUpdateResult, IterableEnvelope, User, UserFields, UserUpdate

__all__ = ["UsersAPI"]


def _exactly_one(what: str, **candidates: str | None) -> dict[str, str]:
    given = {k: v for k, v in candidates.items() if v is not None}
    if len(given) != 1:
        raise ValueError(f"{what}: pass exactly one of {', '.join(candidates)}")
    return given


class UsersAPI(Area):
    """User profile endpoints (`/api/users/...`)."""

    def update(
        self, user: UserUpdate | Mapping[str, Any], *, create_new_fields: bool | None = None
    ) -> IterableEnvelope:
        """Upsert one user: given fields are overwritten, omitted ones kept, null ones
        removed. `POST /api/users/update` (500 req/s)."""
        (payload,) = coerce_all(UserUpdate, [user])
        body = payload.to_body()
        if create_new_fields is not None:
            body["createNewFields"] = create_new_fields
        return envelope(self._t.call("POST", "/api/users/update", body=body, batch_size=1))

    def bulk_update(
        self,
        users: Iterable[UserUpdate | Mapping[str, Any] | RawJSON],
        create_new_fields: bool | None = None,
    ) -> BulkUpdateResult:
        """Upsert up to 1,000 users (body ≤ 4 MB). `POST /api/users/bulkUpdate` (5 req/s).

        Bad users do not fail the request: they are counted in `fail_count` and listed
        in `failed_updates`. A type mismatch in any user rejects the whole batch with
        `FieldTypeMismatchError`. An empty batch sends nothing (Iterable answers 400).
        """
        route = "/api/users/bulkUpdate"
        # A user already encoded (`UserUpdate.encode`, RawJSON) goes as is, as a model does.
        payloads = [
            u if isinstance(u, UserUpdate | RawJSON) else UserUpdate.model_validate(u)
            for u in users
        ]
        check_batch(len(payloads), f"POST {route}")
        if not payloads:
            return BulkUpdateResult(success_count=0, fail_count=0)
        body: dict[str, Any] = {
            "users": [u if isinstance(u, RawJSON) else u.to_body() for u in payloads]
        }
        if create_new_fields is not None:
            body["createNewFields"] = create_new_fields
        reply = self._t.call(
            "POST",
            route,
            body=body,
            batch_size=len(payloads),
            max_body_bytes=MAX_BULK_BODY_BYTES,
        )
        return parse_model(BulkUpdateResult, reply.json_object(), reply)

    def update_email(
        self,
        new_email: str,
        *,
        current_email: str | None = None,
        current_user_id: str | None = None,
    ) -> IterableEnvelope:
        """Change a user's email (email-based projects; elsewhere use `update`).
        `POST /api/users/updateEmail`."""
        current = _exactly_one(
            "update_email", currentEmail=current_email, currentUserId=current_user_id
        )
        body = {**current, "newEmail": new_email}
        return envelope(self._t.call("POST", "/api/users/updateEmail", body=body, batch_size=1))

    def delete_by_email(self, email: str) -> IterableEnvelope:
        """Delete a user (asynchronous on Iterable's side). `DELETE /api/users/{email}`."""
        reply = self._t.call("DELETE", "/api/users/{email}", path={"email": email}, batch_size=1)
        return envelope(reply)

    def delete_by_user_id(self, user_id: str) -> IterableEnvelope:
        """Delete every user with this userId. `DELETE /api/users/byUserId/{userId}`."""
        reply = self._t.call(
            "DELETE", "/api/users/byUserId/{userId}", path={"userId": user_id}, batch_size=1
        )
        return envelope(reply)

    def forget(self, *, email: str | None = None, user_id: str | None = None) -> IterableEnvelope:
        """GDPR-forget a user; later writes to them fail until `unforget`.
        `POST /api/users/forget` (3 req/s, 1,000 a day per project)."""
        body = _exactly_one("forget", email=email, userId=user_id)
        return envelope(self._t.call("POST", "/api/users/forget", body=body, batch_size=1))

    def unforget(self, *, email: str | None = None, user_id: str | None = None) -> IterableEnvelope:
        """Undo `forget`. `POST /api/users/unforget` (3 req/s, 1,000 a day per project)."""
        body = _exactly_one("unforget", email=email, userId=user_id)
        return envelope(self._t.call("POST", "/api/users/unforget", body=body, batch_size=1))

    def get_by_email(self, email: str) -> User | None:
        """The profile, or None (Iterable answers an unknown user with `{}`).
        `GET /api/users/{email}` (100 req/s)."""
        reply = self._t.call("GET", "/api/users/{email}", path={"email": email})
        return self._user(reply.json_object(), reply)

    def get_by_user_id(self, user_id: str) -> User | None:
        """The profile, or None for an unknown userId.
        `GET /api/users/byUserId/{userId}` (100 req/s)."""
        reply = self._t.call("GET", "/api/users/byUserId/{userId}", path={"userId": user_id})
        return self._user(reply.json_object(), reply)

    def get_fields(self) -> dict[str, str]:
        """Every user field and its type, dotted paths for nested ones (`{"a.b": "long"}`).
        `GET /api/users/getFields` (3 req/s)."""
        reply = self._t.call("GET", "/api/users/getFields")
        return parse_model(UserFields, reply.json_object(), reply).fields

    @staticmethod
    def _user(body: dict[str, Any], reply: Reply) -> User | None:
        user = body.get("user")
        return parse_model(User, user, reply) if isinstance(user, dict) and user else None
