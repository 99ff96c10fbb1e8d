"""`client.subscriptions`: consent as Iterable keeps it — email lists, unsubscribed channels
and message types — and the channel and message-type reads that resolve names to ids.

Sources: Iterable's OpenAPI spec (`UpdateSubscriptionsRequest`,
`BulkUpdateSubscriptionsRequest`/`Response`, `BulkSubscriptionActionRequest`,
`ChannelsResponse`, `MessageTypesResponse`). The spec publishes no rate limit and no batch
size for the subscription writes; see `_limits.py` and `MAX_BATCH` for what is assumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from ._base import Area, check_batch, coerce_all, envelope, parse_model
from .models import IterableEnvelope, _Payload, _Response

__all__ = [
    "BulkSubscriptionsResult",
    "Channel",
    "MessageType",
    "SubscriptionGroup",
    "SubscriptionUpdate",
    "SubscriptionsAPI",
]

#: Spec, path parameter `subscriptionGroup`: "Subscription group (i.e.: emailList,
#: messageType, messageChannel) [Alphanumeric, case insensitive]".
SubscriptionGroup = Literal["emailList", "messageType", "messageChannel"]


class SubscriptionUpdate(_Payload):
    """One user's subscriptions (API: UpdateSubscriptionsRequest).

    Spec: "This endpoint overwrites (does not merge) existing data for any non-null fields
    specified in the request." A list left as None is not sent and stays as it is; an empty
    list clears it. Spec on identity: "provide an email or a userId (but not both)".
    """

    email: str | None = None
    user_id: str | None = None
    #: Spec: "Lists that a user is subscribed to".
    email_list_ids: list[int] | None = None
    #: Spec: "Email channel ids to unsubscribe from".
    unsubscribed_channel_ids: list[int] | None = None
    #: Spec: "Individual message type IDs to unsubscribe (does not impact channel
    #: subscriptions)."
    unsubscribed_message_type_ids: list[int] | None = None
    #: Spec: "Individual message type IDs to subscribe ... first have your CSM enable the
    #: opt-in message types feature. Otherwise, attempting to set this field causes an error."
    subscribed_message_type_ids: list[int] | None = None
    #: Spec: "Campaign to attribute unsubscribes".
    campaign_id: int | None = None
    #: Spec: "Template to attribute unsubscribes".
    template_id: int | None = None
    #: Spec: "Defaults to true (validation enabled). When false, allows subscribing users to
    #: message types that belong to unsubscribed channels."
    validate_channel_alignment: bool | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> SubscriptionUpdate:
        if (self.email is None) == (self.user_id is None):
            raise ValueError("pass exactly one of email or userId")
        return self


class BulkSubscriptionsResult(_Response):
    """`users/bulkUpdateSubscriptions` (API: BulkUpdateSubscriptionsResponse; every field
    is required there). Not the shape of `users/bulkUpdate`: no `failedUpdates`."""

    success_count: int
    fail_count: int
    #: Spec: "A list of emails that weren't updated because they are invalid".
    invalid_emails: list[str] = Field(default_factory=list)
    invalid_user_ids: list[str] = Field(default_factory=list)
    #: Spec: "A list of emails that weren't updated due to internal error".
    valid_email_failures: list[str] = Field(default_factory=list)
    valid_user_id_failures: list[str] = Field(default_factory=list)


class Channel(_Response):
    """One channel (API: ChannelDetails)."""

    id: int
    name: str
    #: Spec enum: Marketing, Transactional.
    channel_type: str
    #: Spec enum: Email, Push, SMS.
    message_medium: str


class MessageType(_Response):
    """One message type (API: MessageTypeDetails); timestamps are epoch milliseconds."""

    id: int
    name: str
    channel_id: int
    #: Spec enum: OptIn, OptOut.
    subscription_policy: str
    created_at: int | None = None
    updated_at: int | None = None
    rate_limit_per_minute: int | None = None


#: Users per bulkUpdateSubscriptions request or per group action. The spec states no
#: maximum; 1,000 is assumed, as for every other bulk endpoint of this client.
MAX_SUBSCRIPTION_BATCH = 1000


class SubscriptionsAPI(Area):
    """Subscription endpoints (`/api/users/*Subscriptions`, `/api/subscriptions/...`,
    `/api/channels`, `/api/messageTypes`)."""

    def update(self, update: SubscriptionUpdate | Mapping[str, Any]) -> IterableEnvelope:
        """Overwrite one user's subscription lists. `POST /api/users/updateSubscriptions`."""
        (payload,) = coerce_all(SubscriptionUpdate, [update])
        reply = self._t.call(
            "POST", "/api/users/updateSubscriptions", body=payload.to_body(), batch_size=1
        )
        return envelope(reply)

    def bulk_update(
        self, updates: Iterable[SubscriptionUpdate | Mapping[str, Any]]
    ) -> BulkSubscriptionsResult:
        """Overwrite the subscriptions of many users. `POST /api/users/bulkUpdateSubscriptions`
        with `{"updateSubscriptionsRequests": [...]}`. An empty batch sends nothing."""
        route = "/api/users/bulkUpdateSubscriptions"
        payloads = coerce_all(SubscriptionUpdate, updates)
        check_batch(len(payloads), f"POST {route}", limit=MAX_SUBSCRIPTION_BATCH)
        if not payloads:
            return BulkSubscriptionsResult(success_count=0, fail_count=0)
        body = {"updateSubscriptionsRequests": [p.to_body() for p in payloads]}
        reply = self._t.call("POST", route, body=body, batch_size=len(payloads))
        return parse_model(BulkSubscriptionsResult, reply.json_object(), reply)

    def bulk_action(
        self,
        group: SubscriptionGroup,
        group_id: int,
        action: Literal["subscribe", "unsubscribe"],
        *,
        emails: Iterable[str] = (),
        user_ids: Iterable[str] = (),
    ) -> IterableEnvelope:
        """Subscribe or unsubscribe many users to one list, message type or channel.
        `PUT /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}?action=...`.

        Spec: "In users, list email addresses. In usersByUserId, list userId values. A
        single request can include both ... To enable this API, contact your customer
        success manager." An empty batch sends nothing."""
        route = "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}"
        by_email, by_user_id = list(emails), list(user_ids)
        count = len(by_email) + len(by_user_id)
        check_batch(count, f"PUT {route}", limit=MAX_SUBSCRIPTION_BATCH)
        if not count:
            return IterableEnvelope()
        body: dict[str, list[str]] = {}
        if by_email:
            body["users"] = by_email
        if by_user_id:
            body["usersByUserId"] = by_user_id
        reply = self._t.call(
            "PUT",
            route,
            path={"subscriptionGroup": group, "subscriptionGroupId": group_id},
            query={"action": action},
            body=body,
            batch_size=count,
        )
        return envelope(reply)

    def subscribe_user(
        self,
        group: SubscriptionGroup,
        group_id: int,
        *,
        email: str | None = None,
        user_id: str | None = None,
    ) -> IterableEnvelope:
        """Subscribe one user. `PATCH /api/subscriptions/{group}/{id}/user/{userEmail}` or
        `.../byUserId/{userId}`."""
        return self._single("PATCH", group, group_id, email, user_id)

    def unsubscribe_user(
        self,
        group: SubscriptionGroup,
        group_id: int,
        *,
        email: str | None = None,
        user_id: str | None = None,
    ) -> IterableEnvelope:
        """Unsubscribe one user. `DELETE /api/subscriptions/{group}/{id}/user/{userEmail}` or
        `.../byUserId/{userId}`."""
        return self._single("DELETE", group, group_id, email, user_id)

    def _single(
        self,
        method: str,
        group: SubscriptionGroup,
        group_id: int,
        email: str | None,
        user_id: str | None,
    ) -> IterableEnvelope:
        if (email is None) == (user_id is None):
            raise ValueError("pass exactly one of email or user_id")
        base = "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}"
        path: dict[str, str | int] = {"subscriptionGroup": group, "subscriptionGroupId": group_id}
        if email is not None:
            route, path["userEmail"] = base + "/user/{userEmail}", email
        else:
            route, path["userId"] = base + "/byUserId/{userId}", user_id or ""
        return envelope(self._t.call(method, route, path=path, batch_size=1))

    def channels(self) -> list[Channel]:
        """Every channel of the project. `GET /api/channels` (100 req/s)."""
        reply = self._t.call("GET", "/api/channels")
        return [parse_model(Channel, c, reply) for c in reply.json_object().get("channels", [])]

    def message_types(self) -> list[MessageType]:
        """Every message type of the project. `GET /api/messageTypes` (100 req/s)."""
        reply = self._t.call("GET", "/api/messageTypes")
        items = reply.json_object().get("messageTypes", [])
        return [parse_model(MessageType, m, reply) for m in items]
