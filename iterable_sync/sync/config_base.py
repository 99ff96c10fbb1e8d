"""What every sync in ``syncs.yaml`` shares: names, identifiers, field mapping, tolerances.

The sync types (``config_types.py``) add their own keys on top of :class:`SyncConfig`;
``config.py`` parses the file and names the sync and the key in every error.
"""

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Identifiers end up in SQL; anything outside this shape is refused rather than quoted,
# so a name from YAML can never carry SQL with it.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SYNC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,254}$")
#: The two owner forms Dagster accepts (``dagster._core.definitions.utils.is_valid_owner``):
#: ``team:<name>`` or an email address.
_OWNER = re.compile(r"^(team:\S(.*\S)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def valid_owner(owner: str) -> bool:
    """``team:<name>`` (a name, not blank) or an email address."""
    return bool(_OWNER.match(owner))


Identifier = Annotated[str, Field(pattern=_IDENTIFIER.pattern)]


class SyncType(StrEnum):
    USERS = "users"  # user profiles (users/bulkUpdate)
    EVENTS = "events"  # custom events (events/trackBulk)
    PURCHASES = "purchases"  # commerce/trackPurchase
    CARTS = "carts"  # commerce/updateCart
    CATALOG = "catalog"  # catalog items
    LIST = "list"  # a static list's members
    EMAIL_UPDATES = "email_updates"  # users/updateEmail
    DELETIONS = "deletions"  # delete, forget or unforget users
    SUBSCRIPTIONS = "subscriptions"  # email lists, channels, message types (consent)


class DeletionAction(StrEnum):
    DELETE = "delete"
    FORGET = "forget"  # GDPR: 3 requests/s and 1,000 a day per project
    UNFORGET = "unforget"


class Mode(StrEnum):
    UPDATE = "update"  # touch existing users only
    UPSERT = "upsert"  # create users that do not exist yet


class OnLeave(StrEnum):
    """What a users sync does to the user of a row that leaves the model."""

    KEEP = "keep"  # nothing: the profile keeps what the sync set (the default)
    #: The fields this sync maps are sent as null: Iterable deletes a field sent as null
    #: (NullPolicy above); no other field is touched.
    CLEAR = "clear"
    #: The user is deleted (DELETE /api/users/{email}, /api/users/byUserId/{userId}).
    DELETE = "delete"


class Match(StrEnum):
    EMAIL = "email"
    USER_ID = "userId"


class Cast(StrEnum):
    """The Iterable type a mapped value is sent as, when the column's own type is not it."""

    STRING = "string"
    LONG = "long"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    JSON = "json"


class NullPolicy(StrEnum):
    """What a null in the model means. Iterable deletes a user field that is sent as null, so
    a null is never sent unless the sync asks for it."""

    KEEP = "keep"  # left out of the payload: Iterable's value stays
    #: Sent as null (Iterable deletes the field), but only when the value changed to null
    #: since the last successful send: a field never sent is not cleared.
    CLEAR = "clear"


class DuplicatePolicy(StrEnum):
    """What to do with rows that share a primary key."""

    KEEP_ONE = "keep_one"  # one row per key, chosen by ``order_by``; the check warns
    DROP_ALL = "drop_all"  # every copy quarantined (what Iterable's own importer does)
    BLOCK = "block"  # the check fails and the sync does not send


_ORDER_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]{0,127})(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


class Duplicates(BaseModel):
    """``duplicates: {policy: keep_one, order_by: UPDATED_AT DESC}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: DuplicatePolicy = DuplicatePolicy.KEEP_ONE
    #: Which copy of a key is kept: ``COLUMN [ASC|DESC]``, comma-separated; nulls sort last.
    #: Unset, the copy is picked deterministically (the same one every run).
    order_by: str | None = None

    @field_validator("order_by")
    @classmethod
    def _order_by(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for term in value.split(","):
            # The column ends up in SQL: only a bare identifier and a direction pass.
            if not _ORDER_TERM.match(term):
                raise ValueError(
                    f"order_by term {term.strip()!r} must be a column name, optionally "
                    "followed by ASC or DESC (e.g. 'UPDATED_AT DESC')"
                )
        return value

    @property
    def order_terms(self) -> list[tuple[str, str]]:
        """(column, ASC|DESC) pairs of ``order_by``."""
        terms = []
        for term in (self.order_by or "").split(","):
            match = _ORDER_TERM.match(term)
            if match:
                terms.append((match.group(1), (match.group(2) or "ASC").upper()))
        return terms


class Retry(StrEnum):
    """When a row Iterable answered "not found" (no such user) is sent again."""

    EVERY_RUN = "every_run"  # on every run while it stays in the model (the default)
    #: After 1, 2, 4... days (``first_after_days`` doubled per answer, capped at
    #: ``max_after_days``), counted in calendar days (UTC) since it was last tried.
    BACKOFF = "backoff"
    NEVER = "never"  # only when its data changes (what earlier versions did)


class NotFound(BaseModel):
    """``not_found: {retry: backoff, first_after_days: 1, max_after_days: 16}``.

    A user missing today may exist tomorrow (created by another sync, a sign-up form,
    another integration), so a row answered "not found" is tried again without waiting for
    its data to change; this says how often, which is what it costs (see README).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry: Retry = Retry.EVERY_RUN
    first_after_days: int = Field(default=1, ge=1, le=365)
    max_after_days: int = Field(default=16, ge=1, le=365)

    @model_validator(mode="after")
    def _backoff_keys(self) -> Self:
        given = sorted({"first_after_days", "max_after_days"} & self.model_fields_set)
        if given and self.retry is not Retry.BACKOFF:
            verb = "apply" if len(given) > 1 else "applies"
            raise ValueError(f"{' and '.join(given)} {verb} to `retry: backoff` only")
        if self.max_after_days < self.first_after_days:
            raise ValueError(
                f"max_after_days ({self.max_after_days}) is less than first_after_days "
                f"({self.first_after_days})"
            )
        return self


class Debugger(BaseModel):
    """``debugger: {capture: true, keep_days: 7, redact: [EMAIL, firstName], max_calls: 1000}``.

    The request debugger keeps each write call's request and response bodies in
    ``ITERABLE_SYNC.API_CALL_BODIES`` (``sync/plan/call_bodies.py``). Off by default: a
    large sync's batches are ~1,000 users each, and storing them is a copy of what it sends.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    capture: bool = False
    #: Captured calls older than this are deleted at each send of the sync.
    keep_days: int = Field(default=7, ge=1, le=365)
    #: Model columns or Iterable field names whose values are replaced by a marker in the
    #: stored bodies (an identifier column redacts ``email`` / ``userId``).
    redact: list[str] = Field(default_factory=list)
    #: Successful calls stored per run at most, and failed ones (counted apart).
    max_calls: int = Field(default=1_000, ge=1, le=1_000_000)

    @field_validator("redact")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not _FIELD_NAME.match(name)]
        if bad:
            raise ValueError(f"redact names {bad} must be column or Iterable field names")
        return value


class FieldMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: Identifier
    field: str
    cast: Cast | None = None

    @field_validator("field")
    @classmethod
    def _field_name(cls, value: str) -> str:
        if not _FIELD_NAME.match(value):
            raise ValueError(
                f"Iterable field name {value!r} must start with a letter or _ and hold only "
                "letters, digits, _ . -"
            )
        if value in {"email", "userId"}:
            raise ValueError(
                f"{value!r} is the identifier; set it under `identifiers`, not mapping"
            )
        return value


class Identifiers(BaseModel):
    """Model columns that hold the Iterable identifiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Identifier | None = None
    userId: Identifier | None = None


class Tolerances(BaseModel):
    """Share of rows a check may quarantine before it blocks the sync."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duplicate_keys: float = Field(default=0.01, ge=0, le=1)
    missing_identifiers: float = Field(default=0.05, ge=0, le=1)
    invalid_values: float = Field(default=0.01, ge=0, le=1)
    #: Keys sharing an email or userId, split profiles, two users in one row
    #: (sync/plan/collisions.py; the check is checks/identity.py).
    identity_collisions: float = Field(default=0.01, ge=0, le=1)
    #: Rows Iterable rejected or that were quarantined, as a share of the rows of a run,
    #: past which the alert sensor flags the run.
    rejected_rows_alert: float = Field(default=0.05, ge=0, le=1)


class SyncConfig(BaseModel):
    """The keys of every sync; each type (``config_types.py``) adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The type this class stands for; the value of ``type:`` in the YAML.
    KIND: ClassVar[SyncType] = SyncType.USERS
    #: Keys that name the object rows are sent to (a catalog, a list): a new one has none of
    #: the rows yet, so a change in one re-sends every row.
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ()
    #: What the mapped fields become in Iterable: user fields, event fields, catalog item
    #: fields, or nothing (the type sends no fields).
    FIELDS_OF: ClassVar[str | None] = "user"
    #: Whether ``live`` defaults to true. Types that rewrite or erase users (email changes,
    #: deletions) must say ``live: true`` in their entry to reach a real Iterable.
    LIVE_BY_DEFAULT: ClassVar[bool] = True

    name: str
    title: str | None = None
    description: str | None = None
    model: Identifier
    type: SyncType = SyncType.USERS
    primary_key: Identifier
    identifiers: Identifiers = Field(default_factory=Identifiers)
    #: The identifier to match users on; unset, the project type decides (when both are
    #: mapped: userId in userID-based projects, email otherwise).
    match: Match | None = None
    mapping: list[FieldMapping] = Field(default_factory=list)
    #: Cron expression (UTC) of the scheduled job this sync runs in; null: manual runs only.
    schedule: str | None = "0 6 * * *"
    #: False marks an example: it runs against the embedded emulator (demo, UI, tests) but
    #: against a real Iterable it is neither scheduled nor sent. Unset: true, except for the
    #: types whose effect cannot be undone (``LIVE_BY_DEFAULT``).
    live: bool | None = None
    #: Syncs whose sends run before this one's in the same run (``order.py``).
    after: list[str] = Field(default_factory=list)
    tolerances: Tolerances = Field(default_factory=Tolerances)
    #: What a null in a mapped column does in Iterable (default: nothing).
    nulls: NullPolicy = NullPolicy.KEEP
    #: What happens to rows sharing a primary key (default: keep one, warn).
    duplicates: Duplicates = Field(default_factory=Duplicates)
    #: How often rows Iterable answered "not found" (no such user) are tried again.
    not_found: NotFound = Field(default_factory=NotFound)
    #: The request debugger: each write call's bodies kept in the warehouse (default off).
    debugger: Debugger = Field(default_factory=Debugger)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SYNC_NAME.match(value):
            raise ValueError(
                "a sync name is lower case letters, digits and _ (it names tables and assets)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type is not self.KIND:
            raise ValueError(f"type {self.type.value!r} given to a {self.KIND.value} sync")
        if self.match is not None and getattr(self.identifiers, self.match.value) is None:
            raise ValueError(
                f"match is {self.match.value!r} but identifiers.{self.match.value} names no column"
            )
        if self.has_users and self.identifiers.email is None and self.identifiers.userId is None:
            raise ValueError("identifiers: name the email and/or userId column")
        fields = [m.field for m in self.mapping]
        repeated = sorted({f for f in fields if fields.count(f) > 1})
        if repeated:
            raise ValueError(f"mapping sends these Iterable fields twice: {repeated}")
        unknown = [n for n in self.debugger.redact if n not in self.names_in_config()]
        if unknown:
            raise ValueError(
                f"debugger.redact: {unknown} name no column or field of this sync (its "
                "primary_key, identifiers, mapping columns or fields, email, userId)"
            )
        return self

    def names_in_config(self) -> set[str]:
        """Every column and field name the entry mentions, and Iterable's identifiers: what
        ``debugger.redact`` may name."""
        names = {"email", "userId"}

        def walk(value: Any) -> None:
            if isinstance(value, str):
                names.add(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(self.model_dump(mode="json", exclude={"debugger", "name", "title", "description"}))
        return names

    def redacted_fields(self) -> frozenset[str]:
        """The JSON keys whose values ``debugger.redact`` hides: each name as given, and the
        Iterable field a named column is sent as (an identifier column: email, userId)."""
        named = set(self.debugger.redact)
        fields = set(named)
        fields |= {m.field for m in self.mapping if m.column in named}
        if self.identifiers.email is not None and self.identifiers.email in named:
            fields.add("email")
        if self.identifiers.userId is not None and self.identifiers.userId in named:
            fields.add("userId")
        return frozenset(fields)

    @property
    def is_live(self) -> bool:
        """Whether this sync may be scheduled and sent against a real Iterable."""
        return self.LIVE_BY_DEFAULT if self.live is None else self.live

    @property
    def label(self) -> str:
        return self.title or self.name

    @property
    def has_users(self) -> bool:
        """Rows name Iterable users (every type but catalogs)."""
        return True

    def resolve_match(self, project_type: str) -> Match | None:
        """The identifier rows are matched on: ``match`` when set, else the only one mapped,
        else the project type's (userId in userID-based projects, email otherwise)."""
        if self.match is not None or not self.has_users:
            return self.match
        if self.identifiers.email is None:
            return Match.USER_ID
        if self.identifiers.userId is None or project_type != "userId":
            return Match.EMAIL
        return Match.USER_ID

    def target_shape(self) -> dict[str, Any]:
        """The type and the object rows go to, for the target tag of the record hash."""
        target = self.model_dump(mode="json", include=set(self.TARGET_KEYS))
        return {"type": self.type.value, **target}

    @property
    def order_columns(self) -> list[str]:
        """Model columns ``duplicates.order_by`` reads."""
        return [column for column, _ in self.duplicates.order_terms]

    @property
    def operation(self) -> str:
        """What a run does, as the record history and the asset description say it."""
        return self.type.value

    @property
    def summary(self) -> str:
        return self.type.value

    #: Who answers for the sync: ``team:<name>`` or an email, shown on its assets.
    owners: list[str] = Field(default_factory=list)

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        bad = [owner for owner in value if not valid_owner(owner)]
        if bad:
            raise ValueError(
                f"owners {bad} must each be 'team:<name>' or an email address (as Dagster takes)"
            )
        return value


def no_mapping(kind: str, value: list[FieldMapping]) -> list[FieldMapping]:
    """For types that send no fields: a mapping would be silently ignored, so refuse it."""
    if value:
        raise ValueError(f"type {kind} sends no fields; remove `mapping`")
    return value
