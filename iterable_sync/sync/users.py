"""The users sync type: diff rows → `users/bulkUpdate`, touching existing users only in
update mode, and isolating the rows Iterable rejects so their batch-mates still go through.
"""

from dataclasses import dataclass
from typing import Any

from iterable_sync.iterable import (
    BadRequestError,
    BulkUpdateResult,
    FieldTypeMismatchError,
    IterableClient,
    PayloadError,
    RawJSON,
    UserUpdate,
)
from iterable_sync.sync import delivery, dropped_fields
from iterable_sync.sync.config import Match, Mode, OnLeave, SyncConfig
from iterable_sync.sync.outcomes import SYNCED, BatchOutcome, DiffRow

BULK_LIMIT = 1_000
OPERATION = "users/bulkUpdate"


def _fields(row: DiffRow) -> dict[str, Any]:
    return row.payload


@dataclass
class UsersDestination:
    client: IterableClient
    sync: SyncConfig
    project_type: str
    batch_size: int = BULK_LIMIT

    # ------------------------------------------------------------------ identity

    @property
    def user_id_only(self) -> bool:
        """Update mode, matched by userId, in an email-based project: the userId alone, so
        Iterable itself refuses users it does not have -- no lookups. Support article
        29156459027348: "If only userId passed and no matching user, Iterable returns an
        error" (in a bulk answer, failedUpdates.notFoundUserIds: the row is not found)."""
        return (
            self.sync.mode is Mode.UPDATE
            and self.sync.match is Match.USER_ID
            and self.project_type == "email"
        )

    @property
    def prefer_user_id(self) -> bool:
        """Upsert mode, matched by userId, in an email-based project. OptionalApiUser.
        preferUserId: "Whether or not a new user should be created if the request includes
        a userId that doesn't yet exist in the Iterable project. Defaults to false. Only
        respected in API calls for email-based projects." A row without an email creates a
        user with an auto-generated ``@placeholder.email`` address."""
        return (
            self.sync.mode is Mode.UPSERT
            and self.sync.match is Match.USER_ID
            and self.project_type == "email"
        )

    def _identity(self, row: DiffRow) -> dict[str, Any]:
        if self.user_id_only:
            return {"user_id": row.user_id}
        if self.sync.match is Match.EMAIL:
            ident: dict[str, Any] = {"email": row.email}
            # In an email-based project email wins; a userId rides along as a field.
            if row.user_id is not None and self.project_type != "userId":
                ident["user_id"] = row.user_id
            return ident
        ident = {"user_id": row.user_id}
        if row.email is not None and (
            self.sync.mode is Mode.UPSERT or self.project_type != "email"
        ):
            ident["email"] = row.email
        if self.prefer_user_id:
            ident["prefer_user_id"] = True
        return ident

    def _key(self, row: DiffRow) -> str | None:
        """The identifier Iterable's per-user failure lists will name this row by."""
        if self.user_id_only or self.sync.match is Match.USER_ID:
            if self.project_type == "email" and not self.user_id_only and row.email:
                return row.email
            return row.user_id
        return row.email

    def _needs_lookup(self, row: DiffRow) -> bool:
        """Update mode must not create users; a row known to exist needs no lookup."""
        return (
            self.sync.mode is Mode.UPDATE
            and not self.user_id_only
            and row.previous_outcome != SYNCED
        )

    def _exists(self, row: DiffRow) -> bool:
        if self.sync.match is Match.EMAIL:
            return self.client.users.get_by_email(row.email or "") is not None
        return self.client.users.get_by_user_id(row.user_id or "") is not None

    # ------------------------------------------------------------------ sending

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        outcome = BatchOutcome()
        to_send: list[DiffRow] = []
        for row in rows:
            if self._needs_lookup(row):
                outcome.lookups += 1
                if not self._exists(row):
                    outcome.not_found.append(row)
                    continue
            to_send.append(row)
        if to_send:
            outcome.extend(self._bulk_update(to_send))
        return outcome

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        """A row leaving the model, per ``on_leave``: ``keep`` calls nothing; ``clear``
        sends the payload the diff built — this sync's mapped fields as null, which
        Iterable deletes (no other field is named, so none is touched); ``delete`` deletes
        the user. A user Iterable no longer has is where either wanted them: done."""
        on_leave = getattr(self.sync, "on_leave", OnLeave.KEEP)
        if on_leave is OnLeave.KEEP:
            return BatchOutcome(released=list(rows))
        if on_leave is OnLeave.DELETE:
            outcome = delivery.each_row(rows, self._delete)
        else:
            outcome = self._bulk_update(rows)
        outcome.accepted += outcome.not_found
        outcome.not_found = []
        return outcome

    def _delete(self, row: DiffRow) -> BatchOutcome:
        """Spec: DELETE /api/users/{email} "Deletes a specific user by email"; by userId,
        "If multiple users share the same userId, they'll all be deleted"."""

        def call(row: DiffRow) -> None:
            if self.sync.match is Match.EMAIL:
                self.client.users.delete_by_email(row.email or "")
            else:
                self.client.users.delete_by_user_id(row.user_id or "")

        return delivery.one_row(row, call, "users/delete")

    def _bulk_update(self, rows: list[DiffRow]) -> BatchOutcome:
        # The payload goes as the JSON text the warehouse built, never parsed here.
        outcome = BatchOutcome()
        updates: list[RawJSON] = []
        sendable: list[DiffRow] = []
        for row in rows:
            try:
                updates.append(
                    UserUpdate.encode(
                        row.payload_text,
                        merge_nested_objects=getattr(self.sync, "merge_nested_objects", None),
                        **self._identity(row),
                    )
                )
            except PayloadError as exc:
                # A NaN or an infinity has no JSON: the row is refused, its batch goes on.
                outcome.quarantined.append((row, delivery.refusal(row, exc, OPERATION)))
                continue
            sendable.append(row)
        if not updates:
            return outcome
        try:
            result = self.client.users.bulk_update(
                updates, create_new_fields=getattr(self.sync, "create_new_fields", None)
            )
        except FieldTypeMismatchError as exc:
            # Users send their fields bare, not under dataFields.
            outcome.extend(
                delivery.isolate_type_mismatch(
                    sendable, exc, self._bulk_update, OPERATION, fields_of=_fields
                )
            )
        except (BadRequestError, PayloadError) as exc:
            # Iterable rejected the batch, or the client could not encode it: pin it to its
            # rows instead of failing the run.
            outcome.extend(delivery.bisect(sendable, exc, self._bulk_update, OPERATION))
        else:
            outcome.extend(self._per_user(sendable, result))
        return outcome

    def _per_user(self, rows: list[DiffRow], result: BulkUpdateResult) -> BatchOutcome:
        failed = result.failed_updates
        reasons = delivery.failure_reasons(result)
        not_found = set(failed.not_found_emails) | set(failed.not_found_user_ids)
        outcome = BatchOutcome()
        for row in rows:
            key = self._key(row)
            if key in not_found:
                outcome.not_found.append(row)
            elif key in reasons:
                error = delivery.identifier_error(row, OPERATION, key, reasons[key])
                outcome.failed.append((row, error))
            else:
                outcome.accepted.append(row)
        # Users send their fields bare: the payload is the dataFields object.
        return dropped_fields.settle(outcome, result, OPERATION, fields_of=_fields, under=None)
