"""User endpoints: update, bulkUpdate, updateEmail, delete, forget/unforget, reads, getFields."""

from __future__ import annotations

import json
from typing import Any

from iterable_sync.emulator.identity import (
    Failure,
    failure_error,
    normalise_email,
    valid_email,
)
from iterable_sync.emulator.project import Project
from iterable_sync.emulator.responses import ApiError, bad_params
from iterable_sync.emulator.userbatch import (
    BatchResult,
    UserBatch,
    UserInput,
    write_users,
)

MAX_BATCH = 1000


def raise_failure(failure: Failure, conflict_status: int = 409) -> None:
    status, code, msg = failure_error(failure, conflict_status)
    raise ApiError(status, code, msg)


def bulk_body(result: BatchResult) -> dict[str, Any]:
    failed = result.failed()
    return {
        "successCount": result.success_count,
        "failCount": result.fail_count,
        # Deprecated top-level copies, still sent by Iterable.
        "invalidEmails": failed["invalidEmails"],
        "invalidUserIds": failed["invalidUserIds"],
        "filteredOutFields": result.filtered_fields,
        "createdFields": result.created_fields,
        # Seen in recorded answers; the emulator never skips a no-op update, so always empty.
        "noOpEmails": [],
        "noOpUserIds": [],
        "failedUpdates": failed,
    }


def _invalid_email(raw: str, label: str = "Invalid email: ") -> ApiError:
    return ApiError(400, "InvalidEmailAddressError", f"{label}{raw}")


def update_user(project: Project, body: dict[str, Any]) -> None:
    user = UserInput.from_body(body)
    if user.email is None and user.user_id is None:
        raise bad_params("Either email or userId must be set")
    result = write_users(project, [user], create_fields=body.get("createNewFields"), bulk=False)
    if result.failures:
        raise_failure(result.failures[0])


def bulk_update(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    users = body["users"]
    if not users:
        # Iterable's recorded answer to an empty batch.
        raise ApiError(400, "InvalidEmailAddressError", "Emails invalid: ")
    if len(users) > MAX_BATCH:
        raise ApiError(
            400, "BatchTooLarge", f"Batch of {len(users)} users exceeds the maximum of {MAX_BATCH}"
        )
    result = write_users(
        project,
        [UserInput.from_body(u) for u in users],
        allow_create=not body.get("updateOnly"),
        # Top-level in BulkUpdateUsersRequest (not per user, unlike preferUserId).
        create_fields=body.get("createNewFields"),
    )
    return bulk_body(result)


def update_email(project: Project, body: dict[str, Any]) -> None:
    new_raw: str = body["newEmail"]
    new_email = normalise_email(new_raw)
    if not valid_email(new_email):
        raise _invalid_email(new_raw)
    current_email, current_uid = body.get("currentEmail"), body.get("currentUserId")
    if current_email is None and current_uid is None:
        raise bad_params("Either currentEmail or currentUserId must be set")
    store = project.store
    with store.lock, store.tx():
        batch = UserBatch(project, allow_create=False)
        if current_email is not None:  # currentEmail takes precedence when both are sent
            email = normalise_email(current_email)
            if not valid_email(email):
                raise _invalid_email(current_email, "Invalid currentEmail ")
            row = batch.lookup("email", email)
            if row is None:
                raise ApiError(400, "UnknownEmailError", f"No user exists with email {email}")
        else:
            row = batch.lookup("user_id", current_uid)
            if row is None:
                raise ApiError(
                    400, "UnknownUserIdError", f"No user exists with userId {current_uid}"
                )
        if ("email", new_email) in project.forgotten:
            raise ApiError(409, "ForgottenUserError", f"Email {new_email} has been forgotten")
        other = batch.lookup("email", new_email)
        if other is not None and other is not row and project.project_type != "userId":
            raise ApiError(409, "EmailAlreadyExists", f"Email {new_email} already exists")
        batch.set_key("email", row, new_email)
        batch.touch(row)
        batch.flush()


def delete_by_email(project: Project, raw: str) -> None:
    if project.project_type == "userId":
        raise bad_params(
            "Deleting by email is not available in userID-based projects; "
            "use DELETE /api/users/byUserId/{userId}"
        )
    email = normalise_email(raw)
    if not valid_email(email):
        raise _invalid_email(raw)
    with project.store.tx():
        rows = project.store.users_by("email", [email])
        if not rows:
            raise bad_params(
                f"User does not exist. Email: {email} UserId: ",
                {"failedUpdates": {"notFoundEmails": [email]}},
            )
        project.store.delete_users([r[0] for r in rows])


def delete_by_user_id(project: Project, user_id: str) -> str:
    with project.store.tx():
        rows = project.store.users_by("user_id", [user_id])
        if not rows:
            raise bad_params(
                f"User does not exist. Email:  UserId: {user_id}",
                {"invalidUserIds": [user_id], "failedUpdates": {"notFoundUserIds": [user_id]}},
            )
        # userIds are not unique in email-based projects: all holders go.
        project.store.delete_users([r[0] for r in rows])
    return f"All users associated with {user_id} were successfully deleted"


def render_user(project: Project, row: tuple[int, str | None, str | None, str]) -> dict[str, Any]:
    rid, email, user_id, data_json = row
    data = json.loads(data_json)
    data[project.list_field] = project.store.user_lists(rid)
    # Recorded profile (research §18): "emailListIds":[...], "subscribedMessageTypeIds":[],
    # "unsubscribedChannelIds":[], "unsubscribedMessageTypeIds":[] inside dataFields.
    data.update(project.store.user_subscriptions(rid))
    user: dict[str, Any] = {}
    if email is not None:
        user["email"] = email
    if user_id is not None:
        user["userId"] = user_id
    user["dataFields"] = data
    return {"user": user}


def get_user(project: Project, email: str | None = None, user_id: str | None = None) -> dict:
    """One user's profile, or ``{}`` (HTTP 200) when there is none, as Iterable answers."""
    with project.store.read():
        if email is not None:
            key = normalise_email(email)
            if not valid_email(key):
                raise _invalid_email(email)
            rows = project.store.users_by("email", [key])
        else:
            rows = project.store.users_by("user_id", [user_id or ""])
        return render_user(project, rows[0]) if rows else {}


def forget(project: Project, body: dict[str, Any], forgotten: bool) -> None:
    """GDPR forget (delete the user and refuse its identifier) or unforget."""
    email, user_id = body.get("email"), body.get("userId")
    verb = "forget" if forgotten else "unforget"
    pt = project.project_type
    if pt == "email" and not email:
        raise bad_params(f"In email-based projects you must {verb} users by email")
    if pt == "userId" and not user_id:
        raise bad_params(f"In userID-based projects you must {verb} users by userId")
    if pt == "hybrid" and not email and not user_id:
        raise bad_params("Either email or userId must be set")
    if email and pt != "userId":
        key, kind, column = normalise_email(email), "email", "email"
        if not valid_email(key):
            raise _invalid_email(email)
    else:
        key, kind, column = str(user_id), "userId", "user_id"
    store = project.store
    with store.lock:
        with store.tx():
            store.set_forgotten(kind, key, forgotten)
            if forgotten:
                store.delete_users([r[0] for r in store.users_by(column, [key])])
        if forgotten:
            project.forgotten.add((kind, key))
        else:
            project.forgotten.discard((kind, key))


def get_fields(project: Project) -> dict[str, Any]:
    return {"fields": project.user_fields()}
