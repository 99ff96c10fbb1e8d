"""Subscriptions: email lists, unsubscribed channels and message types, per user.

Sources (Iterable's OpenAPI spec unless said otherwise):

- ``POST /api/users/updateSubscriptions`` / ``bulkUpdateSubscriptions``: "This endpoint
  overwrites (does not merge) existing data for any non-null fields specified in the
  request." So each list sent replaces the user's; a list not sent is left alone.
- ``PUT /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}?action=``: "Subscribes
  or unsubscribes multiple users to the specified subscription group. In users, list email
  addresses. In usersByUserId, list userId values." Groups: "emailList, messageType,
  messageChannel [Alphanumeric, case insensitive]". PATCH/DELETE ``.../user/{userEmail}``
  and ``.../byUserId/{userId}`` do the same for one user.
- Unknown users are created, as by the other user-creating endpoints: support article
  29156459027348 lists ``/api/users/updateSubscriptions``, ``bulkUpdateSubscriptions`` and
  the "subscriptions PATCH/DELETE/PUT endpoints" among them (research §14). The project
  type's identity rules hold (a userId-only record in an email-based project fails).
- The profile shows the state inside ``dataFields`` (recorded, research §18).

Assumed (no source found): the seeded channels and message types and their ids; the
refusal of an unknown list, channel or message type id (400 ``BadParams``, the whole
request); 1,000 records per bulk request; the buckets of ``bulkUpdateSubscriptions``
failures (bad identifiers in ``invalid*``, identity failures in ``valid*Failures``); the
group actions answering 202 with failures in ``params.failedUpdates``; subscribing to an
``OptIn`` message type adding it to ``subscribedMessageTypeIds``; ``validateChannelAlignment``
and ``campaignId``/``templateId`` are accepted and not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from iterable_sync.emulator.project import Project
from iterable_sync.emulator.responses import ApiError, bad_params
from iterable_sync.emulator.userbatch import BatchResult, UserInput, write_users
from iterable_sync.emulator.users import MAX_BATCH, raise_failure

# Seeded per project (assumed: Iterable creates a project's channels itself; these mirror a
# typical project). Ids are fixed so tests and syncs can name them.
CHANNELS: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "Marketing Email", "channelType": "Marketing", "messageMedium": "Email"},
    {
        "id": 2,
        "name": "Transactional Email",
        "channelType": "Transactional",
        "messageMedium": "Email",
    },
    {"id": 3, "name": "Marketing Push", "channelType": "Marketing", "messageMedium": "Push"},
    {"id": 4, "name": "Marketing SMS", "channelType": "Marketing", "messageMedium": "SMS"},
)
_SEEDED_MS = 1_700_000_000_000
MESSAGE_TYPES: tuple[dict[str, Any], ...] = tuple(
    {
        "id": mt_id,
        "name": name,
        "channelId": channel,
        "subscriptionPolicy": policy,
        "createdAt": _SEEDED_MS,
        "updatedAt": _SEEDED_MS,
    }
    for mt_id, name, channel, policy in (
        (10, "Newsletter", 1, "OptOut"),
        (11, "Promotions", 1, "OptOut"),
        (12, "Receipts", 2, "OptOut"),
        (13, "Push Offers", 3, "OptOut"),
        (14, "SMS Alerts", 4, "OptIn"),
    )
)
_CHANNEL_IDS = frozenset(c["id"] for c in CHANNELS)
_OPT_IN = frozenset(m["id"] for m in MESSAGE_TYPES if m["subscriptionPolicy"] == "OptIn")
_MESSAGE_TYPE_IDS = frozenset(m["id"] for m in MESSAGE_TYPES)

_LISTS = "emailListIds"
_KINDS = {  # request field -> the id set it must belong to
    "unsubscribedChannelIds": _CHANNEL_IDS,
    "unsubscribedMessageTypeIds": _MESSAGE_TYPE_IDS,
    "subscribedMessageTypeIds": _MESSAGE_TYPE_IDS,
}
GROUPS = {
    "emaillist": "emailList",
    "messagetype": "messageType",
    "messagechannel": "messageChannel",
}


def get_channels() -> dict[str, Any]:
    return {"channels": [dict(c) for c in CHANNELS]}


def get_message_types() -> dict[str, Any]:
    return {"messageTypes": [dict(m) for m in MESSAGE_TYPES]}


def _check_lists(project: Project, ids: set[int]) -> None:
    conn = project.store.conn
    for list_id in sorted(ids):
        known = (
            0 < list_id < 2**63
            and conn.execute("SELECT 1 FROM lists WHERE id=?", (list_id,)).fetchone()
        )
        if not known:
            # As lists/subscribe answers (clients look for this token, research §6).
            raise bad_params(f"error.lists.invalidListId: list {list_id} does not exist")


def _check_ids(project: Project, requests: Sequence[dict[str, Any]]) -> None:
    """Every id a request names must exist; else the whole request is refused (assumed)."""
    lists: set[int] = set()
    for body in requests:
        lists.update(body.get(_LISTS) or [])
        for kind, known in _KINDS.items():
            unknown = sorted(set(body.get(kind) or []) - known)
            if unknown:
                raise bad_params(f"{kind}: unknown id {unknown[0]}")
    with project.store.read():
        _check_lists(project, lists)


def _overwrite(
    project: Project, requests: Sequence[dict[str, Any]]
) -> Callable[[BatchResult], None]:
    def apply(result: BatchResult) -> None:
        conn = project.store.conn
        for body, row in zip(requests, result.rows, strict=True):
            if row is None:
                continue
            if body.get(_LISTS) is not None:
                conn.execute("DELETE FROM list_members WHERE user_row=?", (row.id,))
                conn.executemany(
                    "INSERT OR IGNORE INTO list_members VALUES(?, ?)",
                    [(list_id, row.id) for list_id in body[_LISTS]],
                )
            for kind in _KINDS:
                if body.get(kind) is not None:
                    conn.execute(
                        "DELETE FROM subscriptions WHERE user_row=? AND kind=?", (row.id, kind)
                    )
                    conn.executemany(
                        "INSERT OR IGNORE INTO subscriptions VALUES(?, ?, ?)",
                        [(row.id, kind, group_id) for group_id in body[kind]],
                    )

    return apply


def _inputs(requests: Sequence[dict[str, Any]]) -> list[UserInput]:
    return [UserInput.from_body({k: r.get(k) for k in ("email", "userId")}) for r in requests]


def update_subscriptions(project: Project, body: dict[str, Any]) -> None:
    with project.store.lock:
        _check_ids(project, [body])
        result = write_users(
            project, _inputs([body]), bulk=False, after=_overwrite(project, [body])
        )
    if result.failures:
        raise_failure(result.failures[0])


def _bulk_body(result: BatchResult) -> dict[str, Any]:
    out: dict[str, list[str]] = {
        "invalidEmails": [],
        "invalidUserIds": [],
        "validEmailFailures": [],
        "validUserIdFailures": [],
    }
    for failure in result.failures:
        if failure.bucket in ("invalidEmails", "invalidUserIds"):
            out[failure.bucket].append(failure.value)
        elif failure.by_email:
            out["validEmailFailures"].append(failure.value)
        else:
            out["validUserIdFailures"].append(failure.value)
    return {"successCount": result.success_count, "failCount": result.fail_count, **out}


def bulk_update_subscriptions(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    requests = body["updateSubscriptionsRequests"]
    if len(requests) > MAX_BATCH:
        raise ApiError(
            400,
            "BatchTooLarge",
            f"Batch of {len(requests)} requests exceeds the maximum of {MAX_BATCH}",
        )
    with project.store.lock:
        _check_ids(project, requests)
        result = write_users(project, _inputs(requests), after=_overwrite(project, requests))
    return _bulk_body(result)


def _group(project: Project, raw_group: str, group_id: int) -> str:
    group = GROUPS.get(raw_group.lower())
    if group is None:
        raise bad_params(
            f"Invalid subscription group: {raw_group}. Use emailList, messageType or "
            "messageChannel."
        )
    if group == "emailList":
        with project.store.read():
            _check_lists(project, {group_id})
    elif group_id not in (_MESSAGE_TYPE_IDS if group == "messageType" else _CHANNEL_IDS):
        raise bad_params(f"{group} {group_id} does not exist")
    return group


def _act(group: str, group_id: int, subscribe: bool) -> Callable[[Any, int], None]:
    def one(conn: Any, user_row: int) -> None:
        def add(sql: str, *args: Any) -> None:
            conn.execute(sql, args)

        if group == "emailList":
            if subscribe:
                add("INSERT OR IGNORE INTO list_members VALUES(?, ?)", group_id, user_row)
            else:
                add("DELETE FROM list_members WHERE list_id=? AND user_row=?", group_id, user_row)
            return
        unsub = (
            "unsubscribedChannelIds" if group == "messageChannel" else "unsubscribedMessageTypeIds"
        )
        delete = "DELETE FROM subscriptions WHERE user_row=? AND kind=? AND group_id=?"
        insert = "INSERT OR IGNORE INTO subscriptions VALUES(?, ?, ?)"
        if subscribe:
            add(delete, user_row, unsub, group_id)
            if group == "messageType" and group_id in _OPT_IN:
                add(insert, user_row, "subscribedMessageTypeIds", group_id)
        else:
            add(insert, user_row, unsub, group_id)
            if group == "messageType":
                add(delete, user_row, "subscribedMessageTypeIds", group_id)

    return one


def group_action(
    project: Project,
    raw_group: str,
    group_id: int,
    action: str,
    emails: Sequence[str],
    user_ids: Sequence[str],
    single: bool = False,
) -> dict[str, Any] | None:
    """Subscribe or unsubscribe users to one group; the failures (bulk only), or None."""
    if action not in ("subscribe", "unsubscribe"):
        raise bad_params(f"action must be subscribe or unsubscribe: {action}")
    group = _group(project, raw_group, group_id)
    inputs = [UserInput(e, None, {}) for e in emails] + [UserInput(None, u, {}) for u in user_ids]
    if len(inputs) > MAX_BATCH:
        raise ApiError(
            400, "BatchTooLarge", f"Batch of {len(inputs)} users exceeds the maximum of {MAX_BATCH}"
        )
    act = _act(group, group_id, action == "subscribe")

    def apply(result: BatchResult) -> None:
        for row in result.rows:
            if row is not None:
                act(project.store.conn, row.id)

    with project.store.lock:
        result = write_users(project, inputs, bulk=not single, after=apply)
    if single and result.failures:
        raise_failure(result.failures[0])
    if not result.failures:
        return None
    failed: dict[str, list[str]] = {}
    for failure in result.failures:
        failed.setdefault(failure.bucket, []).append(failure.value)
    return {"failedUpdates": failed}
