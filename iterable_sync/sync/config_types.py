"""The sync types of ``syncs.yaml``, each with its own keys, as one discriminated union.

``type:`` picks the class (``users`` when it is left out), so a key that belongs to another
type is refused by name, and each type validates its own keys.
"""

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from iterable_sync.sync.config_base import (
    DeletionAction,
    FieldMapping,
    Identifier,
    Identifiers,
    Match,
    Mode,
    NotFound,
    OnLeave,
    SyncConfig,
    SyncType,
    no_mapping,
)
from iterable_sync.sync.config_subscriptions import SubscriptionsSync

# Catalog names: alphanumerics and dashes, at most 255 (Iterable's rule).
_CATALOG_NAME = re.compile(r"^[A-Za-z0-9-]{1,255}$")
#: Where a dynamic list's name takes the value (``ListSync.list_name``).
VALUE_PLACEHOLDER = "{value}"
#: Iterable's daily cap on forget and on unforget, per project.
FORGET_DAILY_CAP = 1_000


class UsersSync(SyncConfig):
    """User profiles: `users/bulkUpdate`, in update mode (existing users) or upsert mode."""

    KIND: ClassVar[SyncType] = SyncType.USERS

    type: SyncType = SyncType.USERS
    mode: Mode = Mode.UPDATE
    match: Match = Match.EMAIL  # type: ignore[assignment]
    #: What happens to the user of a row leaving the model: keep, clear this sync's
    #: fields, or delete the user (``delete`` reaches a real Iterable only with ``live: true``).
    on_leave: OnLeave = OnLeave.KEEP
    #: Iterable's ``mergeNestedObjects`` (ApiUserUpdateRequest: "Merge top-level objects
    #: instead of overwriting them. Defaults to false."). Unset: not sent.
    merge_nested_objects: bool | None = None
    #: Iterable's ``createNewFields`` (BulkUpdateUsersRequest: "Whether new fields should be
    #: ingested and added to the schema. Defaults to project's setting to allow or drop
    #: unrecognized fields."). Unset: not sent, the project's setting holds.
    create_new_fields: bool | None = None

    @model_validator(mode="after")
    def _clear_needs_fields(self) -> Self:
        if self.on_leave is OnLeave.CLEAR and not self.mapping:
            raise ValueError("on_leave: clear removes the mapped fields; map at least one")
        return self

    @property
    def is_live(self) -> bool:
        """``on_leave: delete`` erases users, which cannot be undone: like the deletions
        type, it reaches a real Iterable only when the entry says ``live: true``."""
        if self.on_leave is OnLeave.DELETE and self.live is None:
            return False
        return super().is_live

    @property
    def match_column(self) -> str:
        column = getattr(self.identifiers, self.match.value)
        assert column is not None  # guaranteed by _consistent
        return column

    @property
    def operation(self) -> str:
        return f"{self.type.value}/{self.mode.value}"

    @property
    def summary(self) -> str:
        return f"{self.type.value}, {self.mode.value} mode, matched by {self.match.value}"


class EventsSync(SyncConfig):
    """Custom events (`events/trackBulk`), tracked when a row first appears. Every event
    carries an id (``event_id_column``, or one derived from the sync and the primary key),
    so a changed row re-sent updates its event and a retried batch adds nothing."""

    KIND: ClassVar[SyncType] = SyncType.EVENTS
    FIELDS_OF: ClassVar[str | None] = "event"

    type: SyncType = SyncType.EVENTS
    event_name: str | None = Field(default=None, min_length=1, max_length=255)
    event_name_column: Identifier | None = None
    #: Empty → Iterable's arrival time. Timestamps, dates, Unix seconds (or milliseconds).
    created_at_column: Identifier | None = None
    event_id_column: Identifier | None = None
    #: Integer columns sent as TrackRequest ``campaignId`` ("Campaign tied to conversion",
    #: int64) and ``templateId`` ("Template id", int64); null leaves the key out.
    campaign_id_column: Identifier | None = None
    template_id_column: Identifier | None = None

    @model_validator(mode="after")
    def _one_name(self) -> Self:
        if (self.event_name is None) == (self.event_name_column is None):
            raise ValueError("set exactly one of event_name (static) or event_name_column")
        return self

    @property
    def operation(self) -> str:
        return "events/trackBulk"

    @property
    def summary(self) -> str:
        name = self.event_name or f"named by {self.event_name_column}"
        return f"custom events {name!r} via events/trackBulk"


class PurchasesSync(SyncConfig):
    """Purchases (`commerce/trackPurchase`, one call per row). Items and total are required:
    a row without them is quarantined, never sent."""

    KIND: ClassVar[SyncType] = SyncType.PURCHASES
    FIELDS_OF: ClassVar[str | None] = "event"

    type: SyncType = SyncType.PURCHASES
    #: A JSON array of {id, name, price, quantity, sku?, ...}; other keys → item dataFields.
    items_column: Identifier
    total_column: Identifier
    created_at_column: Identifier | None = None
    #: The purchase id; without one it is derived from the sync and the primary key.
    event_id_column: Identifier | None = None

    @property
    def operation(self) -> str:
        return "commerce/trackPurchase"

    @property
    def summary(self) -> str:
        return "purchases via commerce/trackPurchase"


class CartsSync(SyncConfig):
    """Shopping carts (`commerce/updateCart`), sent when a row first appears."""

    KIND: ClassVar[SyncType] = SyncType.CARTS

    type: SyncType = SyncType.CARTS
    items_column: Identifier

    @property
    def operation(self) -> str:
        return "commerce/updateCart"

    @property
    def summary(self) -> str:
        return "cart updates via commerce/updateCart"


class CatalogFieldType(StrEnum):
    """A catalog field's data type. Spec, ``PUT /api/catalogs/{catalogName}/fieldMappings``:
    "Valid types: boolean, date, geo_location, long, double, object, and string."
    """

    BOOLEAN = "boolean"
    DATE = "date"
    GEO_LOCATION = "geo_location"
    LONG = "long"
    DOUBLE = "double"
    OBJECT = "object"
    STRING = "string"


class CatalogSync(SyncConfig):
    """Catalog items: the primary key is the item id; changed items are upserted in bulk,
    items leaving the model deleted when ``delete_removed``."""

    KIND: ClassVar[SyncType] = SyncType.CATALOG
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ("catalog",)
    FIELDS_OF: ClassVar[str | None] = "catalog"

    type: SyncType = SyncType.CATALOG
    catalog: str
    delete_removed: bool = False
    #: True: only the mapped fields of an item are replaced (Iterable's
    #: replaceUploadedFieldsOnly); False: each item is replaced whole.
    merge_fields: bool = True
    #: Mapped field → its declared type, set through ``PUT /api/catalogs/{catalogName}/
    #: fieldMappings`` before the first upload (and when a field is added here), so the
    #: catalog's schema is not whatever the first item held (``catalog_fields.py``).
    field_types: dict[str, CatalogFieldType] = Field(default_factory=dict)

    @field_validator("field_types")
    @classmethod
    def _typed_fields_are_mapped(
        cls, value: dict[str, CatalogFieldType], info: ValidationInfo
    ) -> dict[str, CatalogFieldType]:
        mapped = {m.field for m in info.data.get("mapping") or []}
        unknown = sorted(set(value) - mapped)
        if unknown:
            raise ValueError(
                f"{unknown} not among the mapped fields {sorted(mapped)}: type a field the"
                " mapping sends"
            )
        return value

    @field_validator("catalog")
    @classmethod
    def _catalog_name(cls, value: str) -> str:
        if not _CATALOG_NAME.match(value):
            raise ValueError("a catalog name is letters, digits and dashes, at most 255")
        return value

    @field_validator("mapping")
    @classmethod
    def _no_dots(cls, value: list[FieldMapping]) -> list[FieldMapping]:
        dotted = [m.field for m in value if "." in m.field]
        if dotted:
            raise ValueError(f"catalog field names may not contain dots: {dotted}")
        return value

    @field_validator("identifiers")
    @classmethod
    def _no_identifiers(cls, value: Identifiers) -> Identifiers:
        if value.email or value.userId:
            raise ValueError("catalog items are not users: remove `identifiers`")
        return value

    @field_validator("match")
    @classmethod
    def _no_match(cls, value: Match | None) -> Match | None:
        if value is not None:
            raise ValueError("catalog items are not users: remove `match`")
        return value

    @field_validator("not_found")
    @classmethod
    def _no_users_to_find(cls, value: NotFound) -> NotFound:
        raise ValueError('catalog items are not users, never "not found": remove `not_found`')

    @property
    def has_users(self) -> bool:
        return False

    @property
    def operation(self) -> str:
        return "catalogs/items"

    @property
    def summary(self) -> str:
        return f"items of the catalog {self.catalog!r}"


class ListSync(SyncConfig):
    """A static list's members: rows entering the model are subscribed (with their user
    data fields), rows leaving it unsubscribed. ``list_id`` names an existing list;
    otherwise a list named ``list_name`` (default: the model's name) is created on the
    first run and its id kept in ``ITERABLE_SYNC.SYNC_OBJECTS``."""

    KIND: ClassVar[SyncType] = SyncType.LIST
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ("list_name", "list_id")

    type: SyncType = SyncType.LIST
    list_name: str | None = Field(default=None, min_length=1, max_length=255)
    list_id: int | None = Field(default=None, gt=0)
    #: SubscribeRequest.updateExistingUsersOnly: "When true, Iterable ignores requests with
    #: unknown userIds and email addresses ... Only respected in API calls for userID-based
    #: and hybrid projects." True: unknown users come back not found (and the sync runs
    #: after the syncs that create users); refused in email-based projects, where Iterable
    #: would ignore it and create them anyway.
    update_existing_users_only: bool = False
    #: Dynamic lists: one static list per distinct value of this column, named by
    #: ``list_name`` with ``{value}`` in it (each created once through ``POST /api/lists``
    #: and kept in ``SYNC_OBJECTS``). A row whose value changes moves to the value's list;
    #: a null value is a member of none of them (``dynamic_lists.py``).
    list_per_value_of: Identifier | None = None

    @model_validator(mode="after")
    def _one_list(self) -> Self:
        if self.list_name is not None and self.list_id is not None:
            raise ValueError("set list_name (a list this sync creates) or list_id, not both")
        templated = self.list_name is not None and VALUE_PLACEHOLDER in self.list_name
        if self.list_per_value_of is None:
            if templated:
                raise ValueError(
                    f"list_name: {VALUE_PLACEHOLDER} names a list per value: set list_per_value_of"
                )
            return self
        if self.list_id is not None:
            raise ValueError("list_per_value_of creates its lists: remove list_id")
        if not templated:
            raise ValueError(
                f"list_per_value_of needs list_name with {VALUE_PLACEHOLDER} in it,"
                ' e.g. list_name: "Plan {value}"'
            )
        return self

    def target_shape(self) -> dict[str, Any]:
        # Only when set: a static list's tag (its rows' hashes) stays what it was.
        shape = super().target_shape()
        if self.list_per_value_of is not None:
            shape["list_per_value_of"] = self.list_per_value_of
        return shape

    def list_name_for(self, value: str) -> str:
        """The name of the list of one value (``list_name`` with ``{value}`` filled in)."""
        return (self.list_name or "").replace(VALUE_PLACEHOLDER, value)

    @property
    def list_label(self) -> str:
        if self.list_per_value_of is not None:
            return f"{self.list_name} per {self.list_per_value_of}"
        return str(self.list_id) if self.list_id is not None else self.list_name or self.model

    @property
    def operation(self) -> str:
        return "lists/subscribe"

    @property
    def summary(self) -> str:
        if self.list_per_value_of is not None:
            return f"members of one static list per value of {self.list_per_value_of}"
        return f"members of the static list {self.list_label!r}"


class EmailUpdatesSync(SyncConfig):
    """Email changes. Matched by email, the call is made when a record first appears;
    matched by userId, also every time its new email changes."""

    KIND: ClassVar[SyncType] = SyncType.EMAIL_UPDATES
    FIELDS_OF: ClassVar[str | None] = None
    LIVE_BY_DEFAULT: ClassVar[bool] = False  # rewrites users' emails: `live: true` opts in

    type: SyncType = SyncType.EMAIL_UPDATES
    match: Match  # type: ignore[assignment]
    new_email_column: Identifier

    @field_validator("mapping")
    @classmethod
    def _no_mapping(cls, value: list[FieldMapping]) -> list[FieldMapping]:
        return no_mapping("email_updates", value)

    @property
    def operation(self) -> str:
        return "users/updateEmail"

    @property
    def summary(self) -> str:
        return f"email changes matched by {self.match.value}"


class DeletionsSync(SyncConfig):
    """Delete, forget or unforget users, once per primary key: when it first appears."""

    KIND: ClassVar[SyncType] = SyncType.DELETIONS
    FIELDS_OF: ClassVar[str | None] = None
    LIVE_BY_DEFAULT: ClassVar[bool] = False  # forget cannot be undone: `live: true` opts in

    type: SyncType = SyncType.DELETIONS
    action: DeletionAction
    #: Forget/unforget calls this sync may make in 24 hours (Iterable's cap is 1,000 per
    #: project; a lower value leaves room for other tools). Keys past it wait a run.
    daily_limit: int = Field(default=FORGET_DAILY_CAP, ge=1, le=FORGET_DAILY_CAP)

    @field_validator("mapping")
    @classmethod
    def _no_mapping(cls, value: list[FieldMapping]) -> list[FieldMapping]:
        return no_mapping("deletions", value)

    @field_validator("not_found")
    @classmethod
    def _nothing_to_retry(cls, value: NotFound) -> NotFound:
        # A user already gone is what a deletion wants: done, never retried (user_actions).
        raise ValueError("a user not found is already deleted: remove `not_found`")

    @model_validator(mode="after")
    def _limit_applies(self) -> Self:
        if self.action is DeletionAction.DELETE and "daily_limit" in self.model_fields_set:
            raise ValueError("daily_limit applies to forget and unforget only")
        return self

    @property
    def capped(self) -> bool:
        """Iterable caps forget and unforget at 1,000 a day per project."""
        return self.action is not DeletionAction.DELETE

    @property
    def operation(self) -> str:
        return f"users/{self.action.value}"

    @property
    def summary(self) -> str:
        return f"{self.action.value} users, once per key"


TYPES: dict[SyncType, type[SyncConfig]] = {
    cls.KIND: cls
    for cls in (
        UsersSync,
        EventsSync,
        PurchasesSync,
        CartsSync,
        CatalogSync,
        ListSync,
        EmailUpdatesSync,
        DeletionsSync,
        SubscriptionsSync,
    )
}


def _type_of(entry: Any) -> str:
    raw = entry.get("type", "users") if isinstance(entry, dict) else getattr(entry, "type", None)
    return str(getattr(raw, "value", raw))


UNKNOWN_TYPE = "unknown_sync_type"

AnySync = Annotated[
    Annotated[UsersSync, Tag("users")]
    | Annotated[EventsSync, Tag("events")]
    | Annotated[PurchasesSync, Tag("purchases")]
    | Annotated[CartsSync, Tag("carts")]
    | Annotated[CatalogSync, Tag("catalog")]
    | Annotated[ListSync, Tag("list")]
    | Annotated[EmailUpdatesSync, Tag("email_updates")]
    | Annotated[DeletionsSync, Tag("deletions")]
    | Annotated[SubscriptionsSync, Tag("subscriptions")],
    Discriminator(
        _type_of,
        custom_error_type=UNKNOWN_TYPE,
        custom_error_message="type must be one of " + ", ".join(t.value for t in SyncType),
    ),
]
