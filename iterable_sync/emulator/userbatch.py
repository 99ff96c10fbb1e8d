"""Resolving and writing a batch of user profiles in one transaction.

Every user-keyed endpoint (users, events, purchases, carts, list subscriptions, seeding)
goes through :class:`UserBatch`: prefetch the rows the batch names, resolve each record to a
row (or a per-record :class:`Failure`), apply its fields, then write every touched row with
one ``executemany``. Type checks run over the whole batch before anything is resolved, so a
mismatch rejects the request with nothing applied.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from iterable_sync.emulator.fields import USER, StagedFields, now_date
from iterable_sync.emulator.identity import (
    Failure,
    normalise_email,
    valid_email,
    valid_user_id,
)
from iterable_sync.emulator.project import Project
from iterable_sync.emulator.records import BatchResult, Row, UserInput, merge_patch
from iterable_sync.emulator.store import dumps, loads

__all__ = ["BatchResult", "Row", "UserBatch", "UserInput", "write_users"]


class UserBatch:
    def __init__(self, project: Project, allow_create: bool = True) -> None:
        self.project = project
        self.pt = project.project_type
        self.store = project.store
        self.allow_create = allow_create
        self.rows: dict[int, Row] = {}
        self.by_email: dict[str, int | None] = {}
        self.by_uid: dict[str, int | None] = {}
        self.next_id = self.store.next_user_id()
        self.now = now_date()

    # --- lookups -----------------------------------------------------------------------

    def prefetch(self, inputs: Sequence[UserInput]) -> None:
        emails: set[str] = set()
        uids: set[str] = set()
        rekeys_email = self.pt != "email"  # dataFields.email re-keys only there
        for u in inputs:
            if u.norm_email is not None:
                emails.add(u.norm_email)
            if u.user_id is not None:
                uids.add(u.user_id)
            data = u.data
            if data:
                new_uid = data.get("userId")
                if type(new_uid) is str:
                    uids.add(new_uid)
                new_email = data.get("email") if rekeys_email else None
                if type(new_email) is str:
                    emails.add(normalise_email(new_email))
        self._fetch("email", list(emails))
        self._fetch("user_id", list(uids))

    def _fetch(self, column: str, keys: Sequence[str]) -> None:
        index = self.by_email if column == "email" else self.by_uid
        missing = [k for k in keys if k not in index]
        for key in missing:
            index[key] = None
        for rid, email, uid in self.store.user_keys(column, missing):
            row = self.rows.get(rid)
            if row is None:
                # The profile JSON is read only if the batch needs it in Python.
                row = self.rows[rid] = Row(rid, email, uid, None)
            key = email if column == "email" else uid
            current = row.email if column == "email" else row.user_id
            if key is not None and current == key and index.get(key) is None:
                index[key] = rid  # the first (lowest id) user holding the key

    def lookup(self, column: str, key: str) -> Row | None:
        index = self.by_email if column == "email" else self.by_uid
        if key not in index:
            self._fetch(column, [key])
        rid = index[key]
        return self.rows[rid] if rid is not None else None

    # --- resolution --------------------------------------------------------------------

    def _find(self, email: str | None, uid: str | None, prefer: bool) -> Row | Failure | None:
        """The existing row, None for "create it", or why the record fails."""
        if self.pt == "email":
            if email:
                row = self.lookup("email", email)
                if row or self.allow_create:
                    return row
                return Failure("notFoundEmails", email)
            row = self.lookup("user_id", uid or "")
            if row:
                return row
            # OptionalApiUser.preferUserId: "Whether or not a new user should be created if
            # the request includes a userId that doesn't yet exist in the Iterable project.
            # Defaults to false. Only respected in API calls for email-based projects."
            # Without it, support article 29156459027348: "Iterable returns an error".
            if prefer and self.allow_create:
                return None  # created below with a @placeholder.email address
            return Failure("notFoundUserIds", uid or "")
        if self.pt == "userId":
            if not uid:
                return Failure("notFoundEmails", email or "")
            row = self.lookup("user_id", uid)
            return row if row or self.allow_create else Failure("notFoundUserIds", uid)
        by_email = self.lookup("email", email) if email else None
        by_uid = self.lookup("user_id", uid) if uid else None
        if by_email and by_uid and by_email is not by_uid:
            return Failure("conflictEmails", email or "")
        row = by_email or by_uid
        if row or self.allow_create:
            return row
        return Failure("notFoundEmails", email) if email else Failure("notFoundUserIds", uid or "")

    def _forgotten(self, kind: str, value: str | None) -> bool:
        return value is not None and (kind, value) in self.project.forgotten

    def resolve(self, u: UserInput) -> Row | Failure:
        email = u.norm_email
        uid = u.user_id
        if email is None and uid is None:
            return Failure("invalidEmails" if self.pt == "email" else "invalidUserIds", "")
        if email is not None and not valid_email(email):
            return Failure("invalidEmails", u.email or "")
        if uid is not None and not valid_user_id(uid, self.pt):
            return Failure("invalidUserIds", uid)
        if self._forgotten("email", email):
            return Failure("forgottenEmails", email or "")
        if self._forgotten("userId", uid):
            return Failure("forgottenUserIds", uid or "")
        found = self._find(email, uid, u.prefer_user_id)
        if isinstance(found, Failure):
            return found
        t_email = email if email else (found.email if found else None)
        t_uid = uid if uid else (found.user_id if found else None)
        if found is None and t_email is None and self.pt == "email":
            t_email = f"{uuid.uuid4().hex}@placeholder.email"
        rekey = self._rekey(found, u.data, t_email, t_uid)
        if isinstance(rekey, Failure):
            return rekey
        t_email, t_uid = rekey
        row = found or self._create()
        self.set_key("email", row, t_email)
        self.set_key("user_id", row, t_uid)
        return row

    def _rekey(
        self, row: Row | None, data: dict[str, Any], t_email: str | None, t_uid: str | None
    ) -> tuple[str | None, str | None] | Failure:
        """Identifier changes asked through ``dataFields.userId`` / ``dataFields.email``."""
        new_uid = data.get("userId")
        if isinstance(new_uid, str) and new_uid != t_uid:
            if not valid_user_id(new_uid, self.pt):
                return Failure("invalidUserIds", new_uid)
            if self._forgotten("userId", new_uid):
                return Failure("forgottenUserIds", new_uid)
            other = self.lookup("user_id", new_uid)
            if self.pt != "email" and other is not None and other is not row:
                return Failure("conflictUserIds", new_uid)
            t_uid = new_uid
        new_email = data.get("email")
        # In email-based projects only updateEmail re-keys a user; the field is ignored.
        if isinstance(new_email, str) and self.pt != "email":
            new_email = normalise_email(new_email)
            if new_email != t_email:
                if not valid_email(new_email):
                    return Failure("invalidEmails", new_email)
                if self._forgotten("email", new_email):
                    return Failure("forgottenEmails", new_email)
                other = self.lookup("email", new_email)
                if self.pt == "hybrid" and other is not None and other is not row:
                    return Failure("conflictEmails", new_email)
                t_email = new_email
        return t_email, t_uid

    def _create(self) -> Row:
        row = Row(self.next_id, None, None, {}, new=True)
        self.next_id += 1
        self.rows[row.id] = row
        return row

    def set_key(self, column: str, row: Row, value: str | None) -> None:
        index = self.by_email if column == "email" else self.by_uid
        old = row.email if column == "email" else row.user_id
        if old == value:
            return
        if old is not None and index.get(old) == row.id:
            index[old] = None
        if column == "email":
            row.email = value
        else:
            row.user_id = value
        if value is not None and index.get(value) is None:
            index[value] = row.id
        row.dirty = True

    # --- writing -----------------------------------------------------------------------

    def apply(self, row: Row, fields: dict[str, Any], merge_nested: bool) -> None:
        """Iterable's update semantics: given top-level fields overwrite, omitted ones stay,
        null removes; objects are replaced, or merged one level with mergeNestedObjects."""
        if row.data is None and row.patch is None:
            self._patch(row, fields, merge_nested)
        elif row.new and not row.data:  # a brand-new profile: nothing to merge into
            row.data = {
                k: ({m: x for m, x in v.items() if x is not None} if type(v) is dict else v)
                for k, v in fields.items()
                if v is not None and k != "email" and k != "userId"
            }
        else:
            self._merge(self._materialise(row), fields, merge_nested)
        self.touch(row)

    @staticmethod
    def _patch(row: Row, fields: dict[str, Any], merge_nested: bool) -> None:
        pre: dict[str, Any] = {}
        for key, value in fields.items():
            if type(value) is dict:
                # json_patch merges objects recursively; Iterable replaces them (or merges
                # one level), so delete what must be replaced before patching.
                if not merge_nested:
                    pre[key] = None
                else:
                    inner = {k: None for k, v in value.items() if type(v) is dict}
                    if inner:
                        pre[key] = inner
        # The checked fields are this request's own copy: they become the patch, without
        # the identifiers, which resolve() owns.
        fields.pop("email", None)
        fields.pop("userId", None)
        row.pre, row.patch = pre, fields

    @staticmethod
    def _merge(data: dict[str, Any], fields: dict[str, Any], merge_nested: bool) -> None:
        for key, value in fields.items():
            if key in ("email", "userId"):
                continue
            if value is None:
                data.pop(key, None)
            elif isinstance(value, dict):
                current = data.get(key)
                merge = merge_nested and isinstance(current, dict)
                merged = {**current, **value} if merge else value
                data[key] = {k: v for k, v in merged.items() if v is not None}
            else:
                data[key] = value

    def _materialise(self, row: Row) -> dict[str, Any]:
        if row.data is None:
            row.data = loads(self.store.user_data(row.id) or "{}")
            if row.patch is not None:
                merge_patch(row.data, row.pre or {})
                merge_patch(row.data, row.patch)
                row.pre = row.patch = None
        return row.data

    def touch(self, row: Row) -> None:
        """Stamp Iterable's system fields on a written profile."""
        if row.data is None:  # an existing profile, written as a merge patch
            if row.patch is None:
                row.pre, row.patch = {}, {}
            patch = row.patch
            patch["profileUpdatedAt"] = self.now
            patch["email"] = row.email  # None removes the key, as merge patches do
            patch["userId"] = row.user_id
        else:
            data = row.data
            if row.new and "signupDate" not in data:
                data["signupDate"] = self.now
                data["signupSource"] = "API"
            data["profileUpdatedAt"] = self.now
            for key, value in (("email", row.email), ("userId", row.user_id)):
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value
        row.dirty = True

    def flush(self) -> None:
        ts = time.time()
        full, patched = [], []
        for r in self.rows.values():
            if not r.dirty:
                continue
            if r.data is not None:
                full.append((r.id, r.email, r.user_id, dumps(r.data), ts))
            else:
                pre = dumps(r.pre) if r.pre else "{}"
                patched.append((r.email, r.user_id, pre, dumps(r.patch), ts, r.id))
        self.store.upsert_users(full)
        self.store.patch_users(patched)


def write_users(
    project: Project,
    inputs: Sequence[UserInput],
    *,
    allow_create: bool = True,
    create_fields: bool | None = None,
    bulk: bool = True,
    after: Callable[[BatchResult], None] | None = None,
) -> BatchResult:
    """Upsert a batch of users: all-or-nothing on type mismatches, per-record failures.

    The type check runs before taking the store lock, against the field-schema snapshot of
    the moment (so it overlaps another request's SQLite work, which runs without the GIL);
    under the lock it is redone only if another request created fields meanwhile. A
    mismatch found either way is final: a field's type never changes once set.

    ``create_fields``: the request's ``createNewFields``; None (not sent) follows the
    project's setting (``Project.creates_fields``). Fields not created are dropped from the
    users and reported in ``filtered_fields``.
    """
    create = project.creates_fields(create_fields)

    def check() -> tuple[StagedFields, list[dict[str, Any]]]:
        staged = project.stage()
        checked = [staged.check(USER, u.data, i, create) for i, u in enumerate(inputs)]
        project.raise_mismatch(staged, inputs[0].data if inputs else None, bulk)
        return staged, checked

    staged, checked = check()
    with project.store.lock:
        if staged.committed is not project.fields:
            staged, checked = check()
        with project.store.tx():
            batch = UserBatch(project, allow_create)
            batch.prefetch(inputs)
            result = BatchResult(
                created_fields=list(staged.created), filtered_fields=list(staged.filtered)
            )
            for u, fields in zip(inputs, checked, strict=True):
                outcome = batch.resolve(u)
                if isinstance(outcome, Failure):
                    result.failures.append(outcome)
                    result.rows.append(None)
                    continue
                batch.apply(outcome, fields, u.merge_nested)
                result.rows.append(outcome)
                result.success_count += 1
            batch.flush()
            project.save_fields(staged)
            if after is not None:
                after(result)
        project.commit_fields(staged)
    return result
