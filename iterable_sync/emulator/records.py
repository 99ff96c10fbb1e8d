"""The records a user batch works on: inputs, rows in flight, and the batch's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from iterable_sync.emulator.identity import Failure, normalise_email

FAILED_USER_KEYS = (
    "conflictEmails",
    "conflictUserIds",
    "forgottenEmails",
    "forgottenUserIds",
    "invalidDataEmails",
    "invalidDataUserIds",
    "invalidEmails",
    "invalidUserIds",
    "notFoundEmails",
    "notFoundUserIds",
)


@dataclass(slots=True)
class UserInput:
    email: str | None
    user_id: str | None
    data: dict[str, Any]
    prefer_user_id: bool = False
    merge_nested: bool = False
    norm_email: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.norm_email = normalise_email(self.email) if self.email is not None else None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> UserInput:
        email, user_id = body.get("email"), body.get("userId")
        # An empty identifier next to a usable one is treated as not sent.
        if email == "" and user_id:
            email = None
        if user_id == "" and email:
            user_id = None
        return cls(
            email,
            user_id,
            body.get("dataFields") or {},
            bool(body.get("preferUserId")),
            bool(body.get("mergeNestedObjects")),
        )


@dataclass(slots=True)
class Row:
    """A user in the batch: either its full profile (``data``: new, or written twice in
    the batch) or, for the common first write to an existing user, the two merge patches
    SQLite applies to the stored JSON (``pre`` deletes what is replaced, ``patch`` sets)."""

    id: int
    email: str | None
    user_id: str | None
    data: dict[str, Any] | None
    pre: dict[str, Any] | None = None
    patch: dict[str, Any] | None = None
    new: bool = False
    dirty: bool = False


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7396 in place, the semantics of SQLite's json_patch()."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            merge_patch(current, value)
        else:
            target[key] = value


@dataclass
class BatchResult:
    rows: list[Row | None] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    created_fields: list[str] = field(default_factory=list)
    filtered_fields: list[str] = field(default_factory=list)
    success_count: int = 0

    @property
    def fail_count(self) -> int:
        return len(self.failures)

    def failed(self, keys: Sequence[str] = FAILED_USER_KEYS) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {key: [] for key in keys}
        for failure in self.failures:
            out.setdefault(failure.bucket, []).append(failure.value)
        return out
