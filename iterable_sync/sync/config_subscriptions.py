"""The ``subscriptions`` sync type: which email lists, channels and message types each user
is subscribed to, from boolean model columns.

``channels: [{column: IS_EMAIL_OPTED_IN, channel: Marketing Email}]`` — true subscribes the
user, false unsubscribes them, null leaves Iterable's state alone. Lists, channels and
message types are named by id or by name; names are resolved once through Iterable
(``GET /api/channels``, ``GET /api/messageTypes``, ``GET /api/lists``) and kept in
``ITERABLE_SYNC.SYNC_OBJECTS`` (``sync/subscriptions.py``).
"""

from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from iterable_sync.sync.config_base import (
    FieldMapping,
    Identifier,
    SyncConfig,
    SyncType,
    no_mapping,
)

#: A list, channel or message type: its id (a positive integer) or its name in Iterable.
Target = Annotated[int, Field(gt=0)] | Annotated[str, Field(min_length=1, max_length=255)]
#: The spec's subscription groups (path parameter ``subscriptionGroup``: "emailList,
#: messageType, messageChannel").
Group = Literal["emailList", "messageChannel", "messageType"]


class _Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    GROUP: ClassVar[Group]
    KEY: ClassVar[str]

    #: A boolean column: true subscribes, false unsubscribes, null leaves it alone.
    column: Identifier

    @property
    def target(self) -> int | str:
        return getattr(self, self.KEY)  # type: ignore[no-any-return]

    @property
    def payload_key(self) -> str:
        """The key of the record's payload that carries this column's value, e.g.
        ``messageChannel:Marketing Email``; ids are resolved at send time."""
        return f"{self.GROUP}:{self.target}"


class ChannelSubscription(_Subscription):
    GROUP: ClassVar[Group] = "messageChannel"
    KEY: ClassVar[str] = "channel"
    channel: Target


class ListSubscription(_Subscription):
    GROUP: ClassVar[Group] = "emailList"
    KEY: ClassVar[str] = "list"
    list: Target


class MessageTypeSubscription(_Subscription):
    GROUP: ClassVar[Group] = "messageType"
    KEY: ClassVar[str] = "message_type"
    message_type: Target


class SubscriptionsSync(SyncConfig):
    """Per row, the subscription state of its user: email lists, channels and message
    types, each from a boolean column. Changed rows only; a row leaving the model leaves
    the user's subscriptions as they are (consent is not withdrawn by a model filter)."""

    KIND: ClassVar[SyncType] = SyncType.SUBSCRIPTIONS
    FIELDS_OF: ClassVar[str | None] = None

    type: SyncType = SyncType.SUBSCRIPTIONS
    lists: list[ListSubscription] = Field(default_factory=list)
    channels: list[ChannelSubscription] = Field(default_factory=list)
    message_types: list[MessageTypeSubscription] = Field(default_factory=list)

    @field_validator("mapping")
    @classmethod
    def _no_mapping(cls, value: list[FieldMapping]) -> list[FieldMapping]:
        return no_mapping("subscriptions", value)

    @model_validator(mode="after")
    def _something_to_send(self) -> Self:
        if not self.subscriptions:
            raise ValueError("map at least one column under lists, channels or message_types")
        for key, entries in (
            ("lists", self.lists),
            ("channels", self.channels),
            ("message_types", self.message_types),
        ):
            targets = [str(e.target) for e in entries]
            repeated = sorted({t for t in targets if targets.count(t) > 1})
            if repeated:
                raise ValueError(f"{key}: names these twice: {repeated}")
        return self

    @property
    def subscriptions(self) -> list[_Subscription]:
        return [*self.lists, *self.channels, *self.message_types]

    @property
    def operation(self) -> str:
        return "subscriptions"

    @property
    def summary(self) -> str:
        return "subscriptions (email lists, channels, message types)"
