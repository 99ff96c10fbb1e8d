"""One-call-per-user actions: email changes (`users/updateEmail` in email-based projects,
`users/update` with ``dataFields.email`` in userID-based and hybrid ones) and deletions
(delete, forget, unforget). Each fires when a key first appears (an email change matched
by userId also when its new email changes), never again for a key already done.

Forget and unforget are capped by Iterable at 1,000 a day per project. The day's count is
read from the warehouse's call ledger (``ITERABLE_SYNC.API_CALLS``, written per batch in the
same transaction as state, so it survives runs and crashes): keys past the cap are
*deferred* — not sent, not advanced in state — and go out in a later run.
"""

import threading
from dataclasses import dataclass, field

from iterable_sync.iterable import IterableClient, NotFoundError, RateLimitedError, UserUpdate
from iterable_sync.sync import delivery
from iterable_sync.sync.config import (
    DeletionAction,
    DeletionsSync,
    EmailUpdatesSync,
    Match,
)
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow
from iterable_sync.sync.plan.tables import API_CALLS_TABLE
from iterable_sync.warehouse import WarehouseSession


def calls_in_last_day(session: WarehouseSession, method: str, route: str) -> int:
    """Calls of an endpoint Iterable counted in the last 24 hours (a rolling day is the
    strict reading of "a day"); a 429 was refused, so it is not counted."""
    return int(
        session.scalar(
            f"SELECT count(*) FROM {API_CALLS_TABLE}"
            " WHERE METHOD = ? AND ENDPOINT = ? AND (STATUS IS NULL OR STATUS <> 429)"
            " AND CALLED_AT > DATEADD(HOUR, -24, CURRENT_TIMESTAMP()::TIMESTAMP_NTZ)",
            [method, route],
        )
        or 0
    )


class DailyBudget:
    """Calls left today, shared by the batches in flight."""

    def __init__(self, left: int) -> None:
        self.left = max(left, 0)
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True

    def exhaust(self) -> None:
        with self._lock:
            self.left = 0


@dataclass
class EmailUpdatesDestination:
    client: IterableClient
    sync: EmailUpdatesSync
    project_type: str
    batch_size: int = 100
    operation: str = field(init=False)

    def __post_init__(self) -> None:
        self.operation = "users/update" if self._through_update else "users/updateEmail"

    @property
    def _through_update(self) -> bool:
        """Spec, users/updateEmail: "Use this endpoint with email-based projects. To update
        an email in a userID-based or hybrid project, use POST /api/users/update". Matched
        by email in a userID-based project (where email identifies nobody) it stays
        users/updateEmail with currentEmail."""
        if self.project_type == "email":
            return False
        return self.sync.match is Match.USER_ID or self.project_type == "hybrid"

    def _change(self, row: DiffRow) -> None:
        new_email = str(row.payload["newEmail"])
        users = self.client.users
        if not self._through_update:
            if self.sync.match is Match.EMAIL:
                users.update_email(new_email, current_email=row.email)
            else:
                users.update_email(new_email, current_user_id=row.user_id)
            return
        # Support article 217502386 ("Updating a User's Email Address or User ID") gives
        # the body: {"userId": "oldUserId", "dataFields": {"email": "new@example.com"}}.
        # A hybrid project matched by email names the user by its current email instead
        # (hybrid projects identify users by either; an inference from the article).
        # users/update creates a user it does not have, so a lookup comes first: a change
        # never creates a user.
        if self.sync.match is Match.USER_ID:
            if users.get_by_user_id(row.user_id or "") is None:
                raise NotFoundError(404, "UnknownUserIdError", f"no user {row.user_id!r}")
            users.update(UserUpdate(user_id=row.user_id, data_fields={"email": new_email}))
            return
        if users.get_by_email(row.email or "") is None:
            raise NotFoundError(404, "UnknownEmailError", f"no user {row.email!r}")
        users.update(UserUpdate(email=row.email, data_fields={"email": new_email}))

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        return delivery.each_row(
            rows, lambda row: delivery.one_row(row, self._change, self.operation)
        )

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        # A record leaving the model keeps the email it was given.
        return BatchOutcome(released=list(rows))


@dataclass
class DeletionsDestination:
    client: IterableClient
    sync: DeletionsSync
    project_type: str
    #: Forget/unforget calls left today (None: the action is not capped).
    budget: DailyBudget | None = None
    batch_size: int = 50
    identity: delivery.Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = delivery.Identity(self.sync, self.project_type)

    @property
    def operation(self) -> str:
        return f"users/{self.sync.action.value}"

    def _act(self, row: DiffRow) -> None:
        users = self.client.users
        by_email = self.identity.match is Match.EMAIL
        action = self.sync.action
        if action is DeletionAction.DELETE:
            if by_email:
                users.delete_by_email(row.email or "")
            else:
                users.delete_by_user_id(row.user_id or "")
            return
        call = users.forget if action is DeletionAction.FORGET else users.unforget
        if by_email:
            call(email=row.email)
        else:
            call(user_id=row.user_id)

    def _one(self, row: DiffRow) -> BatchOutcome:
        if self.budget is not None and not self.budget.take():
            return BatchOutcome(deferred=[row])
        try:
            outcome = delivery.one_row(row, self._act, self.operation)
        except RateLimitedError:
            # Past the daily cap after all (another tool used it): this key and the rest
            # wait for a later run rather than wait here for a day.
            if self.budget is None:
                raise
            self.budget.exhaust()
            return BatchOutcome(deferred=[row])
        # Iterable has no such user. The spec's DELETE /api/users/{email} "Deletes a
        # specific user by email" and /api/users/forget "Deletes the specified user's data
        # ... and prevents future data collection": for a user it does not hold, the first
        # is done already and the second has no data to delete (unforget: nothing to
        # resume). Assumed, not documented: Iterable answers an unknown user with 400 and
        # failedUpdates.notFound* (research notes, section 24). So it is done, accepted,
        # and never a row to retry (shapes.retries_not_found).
        outcome.accepted += outcome.not_found
        outcome.not_found = []
        return outcome

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        return delivery.each_row(rows, self._one)

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        # Done once per key: a key leaving the model is not acted on (nor are its returns).
        return BatchOutcome(released=list(rows))
