"""Typed request payloads and responses, field names as Iterable's API spells them.

Attributes are snake_case; the wire names (camelCase) are aliases, and both are accepted
when building a model. Payloads forbid unknown fields (a typo such as `dataField` would
otherwise vanish silently); responses ignore them, so a field Iterable adds tomorrow
breaks nothing.

Serialisation: `model_dump(exclude_none=True, by_alias=True)` (what `to_body()` does)
omits top-level optionals left unset, but never touches the *contents* of `dataFields`:
`exclude_none` applies to model fields, not to the values of a dict field. That is what
the sync needs, because a field sent as `null` deletes it in Iterable; the sync decides
when to send null, the client keeps it. `test_models.py` pins this behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ._encoding import RawJSON, encode_value, trusted_json

__all__ = [
    "BulkTrackResult",
    "BulkUpdateResult",
    "CartUpdate",
    "CatalogFieldMappings",
    "CatalogInfo",
    "CatalogItem",
    "Event",
    "FailedUpdates",
    "IterableEnvelope",
    "ListInfo",
    "ListSubscriber",
    "Purchase",
    "PurchaseItem",
    "SubscribeResult",
    "User",
    "UserFields",
    "UserUpdate",
]

JsonObject = dict[str, Any]

# Seconds since the epoch reach 1e11 only in the year 5138, milliseconds passed it in
# 1973: anything larger is a millisecond timestamp sent by mistake.
_MAX_UNIX_SECONDS = 100_000_000_000
_MAX_EVENT_ID_BYTES = 512


def _to_unix_seconds(value: Any) -> Any:
    """Accept an aware datetime as well as an int, and refuse milliseconds.

    Iterable documents `createdAt` only as "a unix timestamp"; integrations disagree on
    the unit, so the client fixes it to seconds and refuses the ambiguous case.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("createdAt datetime must be timezone-aware")
        return int(value.timestamp())
    if isinstance(value, int) and not isinstance(value, bool) and value > _MAX_UNIX_SECONDS:
        raise ValueError(f"createdAt {value} looks like milliseconds; send Unix seconds")
    return value


UnixSeconds = Annotated[int, BeforeValidator(_to_unix_seconds)]
#: A spec field of ``format: int32``.
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class _Payload(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )

    def to_body(self) -> JsonObject:
        """The JSON object sent to Iterable: unset optionals omitted, dataFields intact."""
        return self.model_dump(exclude_none=True, by_alias=True)


class _Identified(_Payload):
    """A payload that names a user by email, userId or both (the project type decides)."""

    email: str | None = None
    user_id: str | None = None

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> Self:
        if self.email is None and self.user_id is None:
            raise ValueError("either email or userId is required")
        return self


class UserUpdate(_Identified):
    """One user for `users/update` and `users/bulkUpdate` (API: ApiUserUpdateRequest)."""

    #: The fields, or their JSON text already encoded (`RawJSON`, sent as is).
    data_fields: JsonObject | RawJSON = Field(default_factory=dict)
    #: Spec: "Whether or not a new user should be created if the request includes a
    #: userId that doesn't yet exist in the Iterable project. Defaults to false. Only
    #: respected in API calls for email-based projects." True creates a user with an
    #: auto-generated ``@placeholder.email`` address (support article 29156459027348).
    prefer_user_id: bool | None = None
    #: Spec: "Merge top-level objects instead of overwriting them. Defaults to false."
    merge_nested_objects: bool | None = None

    @staticmethod
    def encode(
        data_fields_json: str,
        *,
        email: str | None = None,
        user_id: str | None = None,
        prefer_user_id: bool | None = None,
        merge_nested_objects: bool | None = None,
    ) -> RawJSON:
        """The JSON of one user whose dataFields are JSON text encoded elsewhere (a
        warehouse's payload), for `bulk_update`. The text is spliced in, not parsed; the
        user is not built as a model: at Iterable's 5,000 users a second, building and
        dumping models cost the sender more CPU than everything else it does."""
        if email is None and user_id is None:
            raise ValueError("either email or userId is required")
        # Spelled out, not built as a dict and encoded: this runs 5,000 times a second.
        text = '{"dataFields":' + RawJSON(data_fields_json)
        if email is not None:
            text += ',"email":' + encode_value(email)
        if user_id is not None:
            text += ',"userId":' + encode_value(user_id)
        if prefer_user_id is not None:
            text += ',"preferUserId":' + ("true" if prefer_user_id else "false")
        if merge_nested_objects is not None:
            text += ',"mergeNestedObjects":' + ("true" if merge_nested_objects else "false")
        return trusted_json(text + "}")

    def to_body(self) -> JsonObject:
        """As `model_dump(exclude_none=True, by_alias=True)`, without its walk and copy of
        every dataFields value: a bulk update builds 1,000 of these per request at the rate
        limit. The fields are plain values (no nested model), so the dict is the same."""
        values = self.__dict__
        return {
            alias: values[name] for name, alias in _USER_ALIASES if values.get(name) is not None
        }


_USER_ALIASES = tuple(
    (name, field.alias or name) for name, field in UserUpdate.model_fields.items()
)


class ListSubscriber(_Identified):
    """One subscriber for `lists/subscribe` (only the identifier is sent to unsubscribe)."""

    data_fields: JsonObject | None = None
    #: As `UserUpdate.prefer_user_id` (OptionalApiUser): True creates placeholder users.
    prefer_user_id: bool | None = None
    merge_nested_objects: bool | None = None


class Event(_Identified):
    """A custom event for `events/track` and `events/trackBulk` (API: TrackRequest)."""

    event_name: str
    #: A deterministic id makes a re-send update the event instead of adding one.
    id: str | None = None
    created_at: UnixSeconds | None = None
    data_fields: JsonObject | None = None
    campaign_id: int | None = None
    template_id: int | None = None
    create_new_fields: bool | None = None

    @field_validator("id")
    @classmethod
    def _id_fits(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > _MAX_EVENT_ID_BYTES:
            raise ValueError(f"event id is longer than {_MAX_EVENT_ID_BYTES} bytes")
        return value


class PurchaseItem(_Payload):
    """A line of a purchase or a cart (API: CommerceItem)."""

    id: str
    name: str
    price: float
    quantity: int
    sku: str | None = None
    description: str | None = None
    categories: list[str] | None = None
    image_url: str | None = None
    url: str | None = None
    data_fields: JsonObject | None = None


class Purchase(_Payload):
    """`commerce/trackPurchase`: also empties the user's shoppingCartItems."""

    user: UserUpdate
    items: list[PurchaseItem]
    total: float
    #: Spec: "Optional purchase id. If a purchase exists with that id, the purchase will be
    #: updated. ... Note that this ID cannot be longer than 512 bytes."
    id: str | None = None
    created_at: UnixSeconds | None = None
    data_fields: JsonObject | None = None
    #: TrackPurchaseRequest types both as int32 (events' are int64).
    campaign_id: Int32 | None = None
    template_id: Int32 | None = None

    @field_validator("id")
    @classmethod
    def _id_fits(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > _MAX_EVENT_ID_BYTES:
            raise ValueError(f"purchase id is longer than {_MAX_EVENT_ID_BYTES} bytes")
        return value


class CartUpdate(_Payload):
    """`commerce/updateCart`: replaces the user's shoppingCartItems."""

    user: UserUpdate
    items: list[PurchaseItem]


# --- responses -------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )


class IterableEnvelope(_Response):
    """The response of every non-list endpoint: `{"msg", "code", "params"}`."""

    msg: str = ""
    code: str = ""
    params: JsonObject | None = None


class FailedUpdates(_Response):
    """Per-record failures of a bulk request, by reason (users, events and lists share it;
    each endpoint fills the lists that apply to it)."""

    conflict_emails: list[str] = []
    conflict_user_ids: list[str] = []
    forgotten_emails: list[str] = []
    forgotten_user_ids: list[str] = []
    invalid_data_emails: list[str] = []
    invalid_data_user_ids: list[str] = []
    invalid_emails: list[str] = []
    invalid_user_ids: list[str] = []
    not_found_emails: list[str] = []
    not_found_user_ids: list[str] = []


class _BulkResult(_Response):
    """HTTP 200 even when records fail: the per-record outcome lives in the body."""

    success_count: int
    fail_count: int
    created_fields: list[str] = []
    filtered_out_fields: list[str] = []
    # Deprecated top-level lists; older responses carry failures only here.
    invalid_emails: list[str] = []
    invalid_user_ids: list[str] = []
    failed_updates: FailedUpdates = FailedUpdates()

    @property
    def failed_emails(self) -> set[str]:
        """Every email reported as failed, whichever list Iterable put it in."""
        f = self.failed_updates
        return set().union(
            self.invalid_emails,
            f.conflict_emails,
            f.forgotten_emails,
            f.invalid_data_emails,
            f.invalid_emails,
            f.not_found_emails,
        )

    @property
    def failed_user_ids(self) -> set[str]:
        """Every userId reported as failed, whichever list Iterable put it in."""
        f = self.failed_updates
        return set().union(
            self.invalid_user_ids,
            f.conflict_user_ids,
            f.forgotten_user_ids,
            f.invalid_data_user_ids,
            f.invalid_user_ids,
            f.not_found_user_ids,
        )


class BulkUpdateResult(_BulkResult):
    """`users/bulkUpdate` (API: UserBulkUpdateListResponse)."""

    #: Undocumented but seen in real responses: users the update did not change.
    no_op_emails: list[str] = []
    no_op_user_ids: list[str] = []


class BulkTrackResult(_BulkResult):
    """`events/trackBulk` (API: BulkTrackResponse)."""

    disallowed_event_names: list[str] = []


class SubscribeResult(_BulkResult):
    """`lists/subscribe` and `lists/unsubscribe` (API: UserBulkUpdateListResponse)."""


class UserFields(_Response):
    """`users/getFields`: dotted field path → Iterable type (string, long, date, …)."""

    fields: dict[str, str]


class User(_Response):
    """A user profile as `GET /api/users/...` returns it."""

    email: str | None = None
    user_id: str | None = None
    data_fields: JsonObject = {}


class ListInfo(_Response):
    """One list from `GET /api/lists`; `created_at` is epoch milliseconds."""

    id: int
    name: str
    created_at: int | None = None
    list_type: str | None = None
    description: str | None = None


class CatalogInfo(_Response):
    """A catalog as `POST /api/catalogs/{name}` reports it."""

    name: str
    id: int | None = None
    url: str | None = None


class CatalogItem(_Response):
    """One catalog item; `last_modified` is epoch milliseconds in real responses."""

    catalog_name: str
    item_id: str
    value: JsonObject = {}
    size: int | None = None
    last_modified: int | str | None = None


class CatalogFieldMappings(_Response):
    """`GET /api/catalogs/{name}/fieldMappings` (API: CatalogFieldMappingsResponse)."""

    #: Field → declared type; nested fields as dotted paths (assumed from getFields' style).
    defined_mappings: dict[str, str] = {}
    #: Fields present in items without a declared type.
    undefined_fields: list[str] = []
