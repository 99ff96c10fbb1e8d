"""Project types and how a request's email/userId pick (or create) a user.

- ``email``: email is the unique key; userId is an optional, non-unique attribute. When both
  are sent, email identifies the user and the userId is written onto it. A userId-only write
  updates the first user with that userId. For an unknown userId it fails
  (``notFoundUserIds``; ``UnknownUserIdError`` from single-user endpoints) unless the record
  says ``preferUserId: true``, which creates the user with an auto-generated
  ``@placeholder.email`` address (spec ``OptionalApiUser.preferUserId``; support article
  29156459027348 "Creating and Identifying Users with Iterable APIs").
- ``userId``: userId is the unique key (<= 52 chars); email is a plain attribute.
- ``hybrid``: both are unique; either identifies; both naming different users is a conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ProjectType = Literal["email", "userId", "hybrid"]
PROJECT_TYPES: tuple[str, ...] = ("email", "userId", "hybrid")
MAX_USER_ID = 52

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def normalise_email(email: str) -> str:
    # Iterable treats addresses case-insensitively and shows them lower-cased.
    return email.strip().lower()


def valid_email(email: str) -> bool:
    return len(email) <= 254 and _EMAIL.fullmatch(email) is not None


def valid_user_id(user_id: str, project_type: str) -> bool:
    """Iterable's invalidUserIds rule: empty, too long, non-ASCII/non-printable, trailing space."""
    if not user_id or user_id != user_id.rstrip(" "):
        return False
    if not all(32 <= ord(ch) < 127 for ch in user_id):
        return False
    return project_type == "email" or len(user_id) <= MAX_USER_ID


def list_field(project_type: str) -> str:
    return "emailListIds" if project_type == "email" else "userListIds"


def email_unique(project_type: str) -> bool:
    return project_type in ("email", "hybrid")


def user_id_unique(project_type: str) -> bool:
    return project_type in ("userId", "hybrid")


@dataclass(frozen=True)
class Failure:
    """Why one record failed, named by the ``failedUpdates`` list it lands in."""

    bucket: str  # e.g. "invalidEmails", "notFoundUserIds", "conflictEmails"
    value: str

    @property
    def by_email(self) -> bool:
        return self.bucket.endswith("Emails")


# Single-record endpoints turn a per-record failure into an HTTP error: (status, code, msg).
def failure_error(failure: Failure, conflict_status: int = 409) -> tuple[int, str, str]:
    kind = failure.bucket.removesuffix("Emails").removesuffix("UserIds")
    value = failure.value
    if kind == "invalid":
        if failure.by_email:
            return 400, "InvalidEmailAddressError", f"Invalid email: {value}"
        return 400, "InvalidUserIdError", f"Invalid userId: {value}"
    if kind == "forgotten":
        return conflict_status, "ForgottenUserError", f"User {value} has been forgotten (GDPR)"
    if kind == "conflict":
        code = "EmailAlreadyExists" if failure.by_email else "UserIdAlreadyExists"
        what = "email" if failure.by_email else "userId"
        return conflict_status, code, f"Another user already has {what} {value}"
    if kind == "notFound":
        if failure.by_email:
            return 400, "UnknownEmailError", f"No user exists with email {value}"
        return 400, "UnknownUserIdError", f"No user exists with userId {value}"
    return 400, "BadParams", f"Invalid data for user {value}"
