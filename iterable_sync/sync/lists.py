"""The list sync type: rows entering the model are subscribed to a static list (with their
user data fields), rows leaving it are unsubscribed, 1,000 a request."""

from dataclasses import dataclass, field

from iterable_sync.iterable import (
    BadRequestError,
    FieldTypeMismatchError,
    IterableClient,
    ListSubscriber,
    PayloadError,
)
from iterable_sync.sync import delivery, dropped_fields
from iterable_sync.sync.config import ListSync
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow

BULK_LIMIT = 1_000


@dataclass
class ListDestination:
    client: IterableClient
    sync: ListSync
    project_type: str
    list_id: int
    batch_size: int = BULK_LIMIT
    identity: delivery.Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = delivery.Identity(self.sync, self.project_type)
        if self.sync.update_existing_users_only and self.project_type == "email":
            # Spec: "Only respected in API calls for userID-based and hybrid projects":
            # here Iterable would create the users the sync means to skip.
            raise ValueError(
                f"sync {self.sync.name!r}: update_existing_users_only is only respected in "
                "userID-based and hybrid projects; this project is email-based"
            )

    # Who lists/subscribe creates: a subscriber named by the project's unique key that
    # Iterable does not have is created (SubscribeRequest.updateExistingUsersOnly: "When
    # false, Iterable creates new users. Defaults to false."; support article 29156459027348
    # lists /api/lists/subscribe among the endpoints that create a user by email). A userId
    # unknown to an email-based project is not: no preferUserId is sent (delivery.Identity),
    # so it comes back in failedUpdates.notFoundUserIds and the row is not found.
    def _subscriber(self, row: DiffRow, with_fields: bool) -> ListSubscriber:
        fields = delivery.data_fields(row) if with_fields else {}
        return ListSubscriber(
            **self.identity.of(row),
            data_fields=fields or None,
        )

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        operation = "lists/subscribe"
        ok, subscribers, outcome = delivery.build_each(
            rows, lambda row: self._subscriber(row, with_fields=True)
        )
        if not ok:
            return outcome
        try:
            result = self.client.lists.subscribe(
                self.list_id,
                subscribers,
                update_existing_users_only=self.sync.update_existing_users_only or None,
            )
        except FieldTypeMismatchError as exc:
            outcome.extend(delivery.isolate_type_mismatch(ok, exc, self.send, operation))
            return outcome
        except (BadRequestError, PayloadError) as exc:
            outcome.extend(delivery.bisect(ok, exc, self.send, operation))
            return outcome
        sent = delivery.bulk_failures(ok, result, self.identity.key, operation)
        # Subscribers' data fields are user fields: a project that drops unknown ones
        # reports them in filteredOutFields (UserBulkUpdateListResponse).
        outcome.extend(dropped_fields.settle(sent, result, operation))
        return outcome

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        operation = "lists/unsubscribe"
        ok, subscribers, outcome = delivery.build_each(
            rows, lambda row: self._subscriber(row, with_fields=False)
        )
        if not ok:
            return outcome
        try:
            result = self.client.lists.unsubscribe(self.list_id, subscribers)
        except (BadRequestError, PayloadError) as exc:
            outcome.extend(delivery.bisect(ok, exc, self.remove, operation))
            return outcome
        # A user no longer in the list (or in Iterable) is where the sync wanted them.
        outcome.extend(
            delivery.bulk_failures(ok, result, self.identity.key, operation, not_found_is_done=True)
        )
        return outcome
