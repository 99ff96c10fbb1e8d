"""What every destination needs besides its endpoint: naming the user of a row, turning
Iterable's per-record failures into row outcomes, isolating the rows that make Iterable
reject a whole batch, and sending one-row endpoints concurrently.

It follows ``users.py``: one bad row never sinks its batch — a rejected batch is split until
the rejection is pinned to single rows, which are quarantined while the rest go through.
"""

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import ValidationError

from iterable_sync.iterable import (
    BadRequestError,
    BulkTrackResult,
    BulkUpdateResult,
    ConflictError,
    FieldTypeMismatchError,
    NotFoundError,
    PayloadError,
    SubscribeResult,
)
from iterable_sync.sync.config import Match, SyncConfig
from iterable_sync.sync.outcomes import BATCH_KEYS, BatchOutcome, DiffRow, RowError

T = TypeVar("T")
Send = Callable[[list[DiffRow]], BatchOutcome]
FieldsOf = Callable[[DiffRow], dict[str, Any]]

#: One-row endpoints (purchases, carts, email changes, deletions) in flight per batch; the
#: client paces each endpoint below its rate limit whatever the concurrency.
ROW_WORKERS = 8
#: Codes Iterable answers when the user to act on does not exist.
UNKNOWN_USER_CODES = frozenset({"UnknownEmailError", "UnknownUserIdError"})


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def data_fields(row: DiffRow) -> dict[str, Any]:
    fields = row.payload.get("dataFields")
    return fields if isinstance(fields, dict) else {}


class Identity:
    """How a sync's rows name their user: the identifier it matches on (``match``, or the
    project type's when both are mapped).

    It never asks for ``preferUserId``: the sync types built on it (lists, purchases,
    carts, events) have no mode, so none of them may create the placeholder users that
    flag creates. OptionalApiUser / ApiUserUpdateRequest.preferUserId: "Whether or not a
    new user should be created if the request includes a userId that doesn't yet exist in
    the Iterable project. Defaults to false. Only respected in API calls for email-based
    projects." Left out, a userId-only write for an unknown user in an email-based project
    fails (support article 29156459027348: "Iterable returns an error"), and the row is
    not found. Events cannot carry the flag at all (TrackRequest has no preferUserId).
    Only the users sync in upsert mode asks for it (``users.UsersDestination``)."""

    def __init__(self, sync: SyncConfig, project_type: str) -> None:
        self.match = sync.resolve_match(project_type) or Match.EMAIL

    def of(self, row: DiffRow) -> dict[str, Any]:
        """Keyword arguments for the client's payload models (``email=`` or ``user_id=``)."""
        if self.match is Match.EMAIL:
            return {"email": row.email}
        return {"user_id": row.user_id}

    def key(self, row: DiffRow) -> str:
        """The name Iterable's failure lists give this row's user."""
        if self.match is Match.EMAIL:
            return (row.email or "").strip().lower()
        return row.user_id or ""


def failure_reasons(
    result: BulkUpdateResult | BulkTrackResult | SubscribeResult,
) -> dict[str, tuple[str, str, str]]:
    """Each identifier a bulk answer's failure lists name → (code, message, field: "email"
    or "userId", the kind of identifier named). Emails are also keyed trimmed and
    lower-cased, as keys built from the model are; userIds are not (they are
    case-sensitive). The deprecated top-level ``invalidEmails``/``invalidUserIds`` count
    too: older answers (and lists/subscribe, recorded) carry failures only there."""
    failed = result.failed_updates
    reasons: dict[str, tuple[str, str, str]] = {}
    for code, message, names, is_email in [
        ("invalidEmail", "Iterable rejected the email", failed.invalid_emails, True),
        ("invalidUserId", "Iterable rejected the userId", failed.invalid_user_ids, False),
        ("invalidData", "Iterable rejected the data", failed.invalid_data_emails, True),
        ("invalidData", "Iterable rejected the data", failed.invalid_data_user_ids, False),
        ("conflict", "email or userId belongs to another user", failed.conflict_emails, True),
        ("conflict", "email or userId belongs to another user", failed.conflict_user_ids, False),
        ("forgotten", "the user is forgotten (GDPR)", failed.forgotten_emails, True),
        ("forgotten", "the user is forgotten (GDPR)", failed.forgotten_user_ids, False),
        ("invalidEmail", "Iterable rejected the email", result.invalid_emails, True),
        ("invalidUserId", "Iterable rejected the userId", result.invalid_user_ids, False),
    ]:
        field = "email" if is_email else "userId"
        for name in names:
            if is_email:
                reasons.setdefault(name.strip().lower(), (code, message, field))
            reasons.setdefault(name, (code, message, field))
    return reasons


def identifier_error(
    row: DiffRow, operation: str, name: str, reason: tuple[str, str, str]
) -> RowError:
    """The row error of a user Iterable named in a failure list, naming the identifier."""
    code, message, field = reason
    return RowError(row.pk, operation, code, f"{message}: {name}", field=field, value=name)


def bulk_failures(
    rows: list[DiffRow],
    result: BulkTrackResult | SubscribeResult,
    key: Callable[[DiffRow], str],
    operation: str,
    not_found_is_done: bool = False,
) -> BatchOutcome:
    """Per-record failures of a bulk answer (events, list subscriptions) → row outcomes.

    ``not_found_is_done``: for an unsubscribe, "not in the list" is what was wanted.
    """
    failed = result.failed_updates
    reasons = failure_reasons(result)
    not_found = {n.strip().lower() for n in failed.not_found_emails}
    not_found |= set(failed.not_found_user_ids)
    outcome = BatchOutcome()
    for row in rows:
        name = key(row)
        if name in not_found:
            (outcome.accepted if not_found_is_done else outcome.not_found).append(row)
        elif name in reasons:
            outcome.failed.append((row, identifier_error(row, operation, name, reasons[name])))
        else:
            outcome.accepted.append(row)
    return outcome


def build_each(
    rows: list[DiffRow], build: Callable[[DiffRow], T]
) -> tuple[list[DiffRow], list[T], BatchOutcome]:
    """Payload models per row; a row its model refuses is quarantined, not sent."""
    ok: list[DiffRow] = []
    payloads: list[T] = []
    refused = BatchOutcome()
    for row in rows:
        try:
            payloads.append(build(row))
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            message = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
            refused.quarantined.append(
                (row, RowError(row.pk, "validate", "invalid payload", message))
            )
            continue
        ok.append(row)
    return ok, payloads, refused


# --------------------------------------------------------------------------- isolation


def refusal(row: DiffRow, exc: BadRequestError | PayloadError, operation: str) -> RowError:
    """The row error of a single row Iterable (or the client) refused, naming the field and
    value where the refusal does."""
    field = value = None
    if isinstance(exc, FieldTypeMismatchError) and exc.validation_errors:
        field = next(iter(exc.validation_errors))
        value = _value_at(data_fields(row) or row.payload, field)
    if isinstance(exc, PayloadError):
        # Name the value the client could not encode (users send their fields bare).
        field, value = _unencodable(data_fields(row) or row.payload)
    if isinstance(exc, BadRequestError):
        code, message = exc.code or str(exc.status), exc.msg[:500]
    else:
        code, message = "refused by the client", str(exc)[:500]
    return RowError(row.pk, operation, code, message, field=field, value=value)


def _value_at(fields: dict[str, Any], field: str) -> str | None:
    """The value Iterable named by ``field``: a key, or a dotted path into nested objects
    (Iterable names a nested field ``doc.a``, also inside an array of objects). Keys may
    hold dots themselves (``doc.a.`` is key ``a.`` inside ``doc``), so each key that
    prefixes the path is followed."""
    found, value = _walk(fields, field)
    return text(value) if found else None


def _walk(value: Any, path: str) -> tuple[bool, Any]:
    if isinstance(value, list):  # a path runs through arrays of objects without an index
        for item in value:
            found, got = _walk(item, path)
            if found:
                return True, got
        return False, None
    if not isinstance(value, dict):
        return False, None
    if path in value:
        return True, value[path]
    for key, inner in value.items():
        if isinstance(key, str) and path.startswith(f"{key}."):
            found, got = _walk(inner, path[len(key) + 1 :])
            if found:
                return True, got
    return False, None


def _unencodable(fields: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first field JSON cannot carry (NaN, an infinity), with its value as text."""
    for name, value in fields.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return name, text(value)
    return None, None


def bisect(
    rows: list[DiffRow], exc: BadRequestError | PayloadError, send: Send, operation: str
) -> BatchOutcome:
    """Split a rejected batch until the rejection is pinned to single rows."""
    if len(rows) == 1:
        return BatchOutcome(quarantined=[(rows[0], refusal(rows[0], exc, operation))])
    middle = len(rows) // 2
    outcome = send(rows[:middle])
    outcome.extend(send(rows[middle:]))
    return outcome


def _same_json(a: Any, b: Any) -> bool:
    """Whether two parsed JSON values are the same JSON: Python's ``==`` takes ``false``
    for ``0`` and ``true`` for ``1``, which would blame a row's 0 for another's false."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def isolate_type_mismatch(
    rows: list[DiffRow],
    exc: FieldTypeMismatchError,
    send: Send,
    operation: str,
    fields_of: FieldsOf = data_fields,
) -> BatchOutcome:
    """Quarantine the rows holding the values Iterable named, resend the rest."""
    offenders: dict[int, RowError] = {}
    for field, detail in exc.validation_errors.items():
        values = detail.offending_values
        if not values:
            continue
        bad = values[-1]
        for index, row in enumerate(rows):
            if index in offenders:
                continue
            # The field may be a path into a document (see _value_at).
            found, value = _walk(fields_of(row), field)
            if not found or not _same_json(value, bad):
                continue
            offenders[index] = RowError(
                row.pk,
                operation,
                "RequestFieldsTypesMismatched",
                f"field {field!r} is of type {detail.expected_type!r} in Iterable; "
                f"value {text(bad)!r} is {'/'.join(detail.incoming_types) or 'not'}",
                field=field,
                value=text(value),
            )
    if not offenders or (len(offenders) == len(rows) and len(rows) > 1):
        return bisect(rows, exc, send, operation)
    outcome = BatchOutcome(quarantined=[(rows[i], e) for i, e in offenders.items()])
    rest = [row for i, row in enumerate(rows) if i not in offenders]
    if rest:
        outcome.extend(send(rest))
    return outcome


# --------------------------------------------------------------------------- one row a call


def is_unknown_user(exc: BadRequestError | NotFoundError) -> bool:
    """Iterable's ways of saying the user to act on does not exist."""
    if isinstance(exc, NotFoundError) or exc.code in UNKNOWN_USER_CODES:
        return True
    failed = (exc.params or {}).get("failedUpdates") or {}
    return bool(failed.get("notFoundEmails") or failed.get("notFoundUserIds"))


def one_row(row: DiffRow, call: Callable[[DiffRow], object], operation: str) -> BatchOutcome:
    """One call for one row. Iterable refusing the row is that row's fate; a 429, 5xx or
    dropped connection that outlived the client's retries stops the run (nothing of the
    row is recorded, so it goes again next run)."""
    try:
        call(row)
    except FieldTypeMismatchError as exc:
        return BatchOutcome(quarantined=[(row, refusal(row, exc, operation))])
    except PayloadError as exc:
        return BatchOutcome(quarantined=[(row, refusal(row, exc, operation))])
    except (BadRequestError, NotFoundError) as exc:
        if is_unknown_user(exc):
            return BatchOutcome(not_found=[row])
        error = RowError(row.pk, operation, exc.code or str(exc.status), exc.msg[:500])
        return BatchOutcome(failed=[(row, error)])
    except ConflictError as exc:
        error = RowError(row.pk, operation, exc.code or "conflict", exc.msg[:500])
        return BatchOutcome(failed=[(row, error)])
    return BatchOutcome(accepted=[row])


def each_row(rows: Iterable[DiffRow], send_one: Callable[[DiffRow], BatchOutcome]) -> BatchOutcome:
    """Send rows one call each, ``ROW_WORKERS`` at a time."""
    batch = list(rows)
    outcome = BatchOutcome()
    if not batch:
        return outcome

    def carrying_its_key(row: DiffRow) -> BatchOutcome:
        # The row's own call carries its key alone (the request debugger's KEYS).
        token = BATCH_KEYS.set((row.pk,))
        try:
            return send_one(row)
        finally:
            BATCH_KEYS.reset(token)

    with ThreadPoolExecutor(max_workers=min(ROW_WORKERS, len(batch))) as pool:
        for result in pool.map(carrying_its_key, batch):
            outcome.extend(result)
    return outcome
