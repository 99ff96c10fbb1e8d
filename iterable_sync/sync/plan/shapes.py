"""What each sync type sends and refuses, as SQL over the model snapshot (Snowflake dialect).

One records/hash/diff/state planner serves every type (``records.py``, ``diff.py``). This
module supplies what differs by type:

- the payload's keys beside ``dataFields`` (event name, id and time, items and total, the
  new email), which the hash covers as well;
- the rows a type refuses before sending (a purchase without a total, a catalog id with a
  space), each counted by the asset check named in ``sync/plan/rules.py``;
- which changes the type acts on (the identifier a row is matched on: ``identity.py``).

Events and purchases always carry an id — the ``event_id_column``, or the MD5 of the sync's
name and the primary key — so re-sending a row (a changed row, or a batch retried after a
crash) updates the event Iterable already has instead of adding a second one. That is why
changed event and purchase rows are sent again; carts, email updates matched by email and
deletions act only when a key first appears. Any type but deletions (and catalogs, which have
no users) also sends a row again while Iterable answers "not found" for it (``retry_due``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from iterable_sync.sync.config import (
    CartsSync,
    EmailUpdatesSync,
    EventsSync,
    ListSync,
    Match,
    PurchasesSync,
    Retry,
    SubscriptionsSync,
    SyncConfig,
    SyncType,
)
from iterable_sync.sync.plan import rules
from iterable_sync.sync.plan.text import as_text, is_json, is_temporal, literal, q
from iterable_sync.sync.plan.values import boolean_sql

Column = Callable[[str], str]


# Unix time past this is milliseconds (the year 5138 in seconds, 1973 in milliseconds).
_MAX_UNIX_SECONDS = 100_000_000_000
_NUMERIC = (
    "NUMBER", "DECIMAL", "NUMERIC", "INT", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT",
    "HUGEINT", "UBIGINT", "UINTEGER", "DOUBLE", "FLOAT", "REAL",
)  # fmt: skip
_TEXT = ("VARCHAR", "TEXT", "STRING", "CHAR")


@dataclass(frozen=True)
class Semantics:
    """Which changes of the diff a type acts on."""

    #: A changed row is sent again (users, catalog items, list members; events and
    #: purchases, which carry an id and so update the event they made).
    resend_changes: bool
    #: Rows leaving the model are acted on (unsubscribed, deleted) or at least recorded.
    act_on_removal: bool
    #: ``full_resync`` re-sends every row; one-shot actions (deletions, email changes)
    #: never fire twice for a key.
    resync: bool


_SEMANTICS = MappingProxyType(
    {
        SyncType.USERS: Semantics(True, True, True),
        SyncType.CATALOG: Semantics(True, True, True),
        SyncType.LIST: Semantics(True, True, True),
        SyncType.EVENTS: Semantics(True, False, True),
        SyncType.PURCHASES: Semantics(True, False, True),
        SyncType.CARTS: Semantics(False, False, True),
        SyncType.DELETIONS: Semantics(False, False, False),
        # A changed column changes the user's subscription; a row leaving the model is
        # not a withdrawal of consent, so the user's state is left as it is.
        SyncType.SUBSCRIPTIONS: Semantics(True, False, True),
    }
)


def semantics(sync: SyncConfig) -> Semantics:
    if isinstance(sync, EmailUpdatesSync):
        # Matched by userId the new email is what changes; matched by email, the record's
        # first appearance is its only change (the old address no longer names the user).
        return Semantics(sync.match is Match.USER_ID, False, False)
    return _SEMANTICS[sync.type]


def resend_predicate(sync: SyncConfig, full_resync: bool) -> str:
    """Which rows already in state may be sent again (over the diff's ``r`` records and
    ``s`` state rows): a moved fast hash makes a row a candidate, and the diff then compares
    its MD5 with state's (``diff.diff_sql``)."""
    sem = semantics(sync)
    if full_resync and sem.resync:
        return "TRUE"
    if not sem.resend_changes:
        return "FALSE"
    return "s.FAST IS DISTINCT FROM r.FAST OR NOT s.IN_MODEL"


def removal_predicate(sync: SyncConfig) -> str:
    return "TRUE" if semantics(sync).act_on_removal else "FALSE"


def retries_not_found(sync: SyncConfig) -> bool:
    """Whether a row Iterable answered "not found" is worth sending again (``not_found``).

    Per type, from what "not found" means to Iterable there:

    - users (update mode: a lookup that found nobody, ``failedUpdates.notFoundEmails`` /
      ``notFoundUserIds`` of ``users/bulkUpdate``), ``lists/subscribe`` and
      ``events/trackBulk`` (``failedUpdates.notFound*``, "email addresses that were not
      found" in the spec's FailedEventUpdates), ``commerce/trackPurchase`` and
      ``commerce/updateCart`` and ``users/updateEmail`` (400 ``UnknownEmailError`` /
      ``UnknownUserIdError``): nothing was written because the user does not exist *yet*;
      the write is still wanted, and lands once someone creates the user. Retried.
    - deletions: a user already gone is what ``users/delete`` wanted, and forget/unforget
      of a user Iterable does not hold has nothing left to do. Done, never retried (the
      destination records it as accepted: ``user_actions.DeletionsDestination``).
    - catalog items are not users and are never "not found".
    """
    if sync.type in (SyncType.DELETIONS, SyncType.CATALOG):
        return False
    return sync.not_found.retry is not Retry.NEVER


#: Back-off exponents past this are capped (2**20 days is past any max_after_days).
_MAX_DOUBLINGS = 20


def retry_due(sync: SyncConfig) -> str:
    """Predicate over a state row (its columns unqualified): the row was answered "not
    found" and is due to be sent again (``not_found``; the diff gives it the reason
    ``retry not found``).

    Back-off waits ``first_after_days`` * 2^(tries - 1) days, at most ``max_after_days``,
    counted in calendar days (UTC) since the row was last tried: a daily run a few seconds
    early is still a day later. State kept before these columns existed counts one try,
    last tried when it was last written (LAST_SYNCED)."""
    if not retries_not_found(sync):
        return "FALSE"
    not_found = "COALESCE(OUTCOME = 'not_found', FALSE)"
    policy = sync.not_found
    if policy.retry is Retry.EVERY_RUN:
        return not_found
    tries = f"LEAST(COALESCE(NOT_FOUND_TRIES, 1) - 1, {_MAX_DOUBLINGS})"
    doubled = f"{policy.first_after_days} * POWER(2, GREATEST({tries}, 0))"
    wait = f"LEAST({doubled}, {policy.max_after_days})"
    days = (
        "DATEDIFF(DAY, CAST(COALESCE(LAST_TRIED, LAST_SYNCED) AS DATE),"
        " CAST(CURRENT_TIMESTAMP()::TIMESTAMP_NTZ AS DATE))"
    )
    return f"({not_found} AND COALESCE({days} >= {wait}, TRUE))"


# --------------------------------------------------------------------------- columns


def required_columns(sync: SyncConfig) -> list[str]:
    """Model columns the type reads besides the key, identifiers and mapping."""
    names = [
        getattr(sync, key, None)
        for key in (
            "event_name_column",
            "created_at_column",
            "event_id_column",
            "items_column",
            "total_column",
            "new_email_column",
            "campaign_id_column",
            "template_id_column",
            "list_per_value_of",
        )
    ]
    if isinstance(sync, SubscriptionsSync):
        names += [s.column for s in sync.subscriptions]
    return [name for name in names if name]


def _is_numeric(column_type: str) -> bool:
    return column_type.upper().startswith(_NUMERIC)


def _shown(col: str, column_type: str) -> str:
    """A value as text for ROW_ERRORS (JSON as its JSON text)."""
    return f"TO_JSON({col})" if is_json(column_type) else as_text(col)


def _json(col: str, column_type: str) -> str:
    """A column as a JSON value: JSON as is, text parsed, anything else (a VARIANT, which
    DuckDB has too, a struct, a list) serialised and parsed back."""
    if column_type.upper().startswith("JSON"):
        return col
    if column_type.upper().startswith(_TEXT):
        return f"TRY_PARSE_JSON({col})"
    return f"PARSE_JSON(TO_JSON({col}))"


def _text(col: str) -> str:
    return f"NULLIF(TRIM({as_text(col)}), '')"


def _unix_seconds(col: str, column_type: str) -> str:
    """Unix seconds, as Iterable's createdAt wants them, from a timestamp, a date, a number
    (seconds, or milliseconds, which are divided) or text Iterable would read as a time."""
    if is_temporal(column_type):
        return f"DATE_PART(EPOCH_SECOND, CAST({col} AS TIMESTAMP_NTZ))"
    if _is_numeric(column_type):
        return (
            f"CAST(CASE WHEN {col} > {_MAX_UNIX_SECONDS} THEN FLOOR({col} / 1000)"
            f" ELSE FLOOR({col}) END AS BIGINT)"
        )
    return f"DATE_PART(EPOCH_SECOND, TRY_CAST({_text(col)} AS TIMESTAMP_TZ))"


def _event_id(sync: SyncConfig, column: Column) -> str:
    derived = f"MD5({literal(sync.name + ':')} || {as_text(column(sync.primary_key))})"
    id_column = getattr(sync, "event_id_column", None)
    if not id_column:
        return derived
    return f"COALESCE({_text(column(id_column))}, {derived})"


def _integer(col: str, column_type: str) -> str:
    """An int64 id (campaignId, templateId): a whole number, or text holding one."""
    if _is_numeric(column_type):
        return f"(CASE WHEN {col} = FLOOR({col}) THEN CAST({col} AS BIGINT) END)"
    return f"TRY_CAST({_text(col)} AS BIGINT)"


def _total(col: str, column_type: str) -> str:
    if _is_numeric(column_type):
        return f"CAST({col} AS DOUBLE)"
    return f"TRY_CAST(TRIM({_shown(col, column_type)}) AS DOUBLE)"


# --------------------------------------------------------------------------- payload


def payload_parts(
    sync: SyncConfig, column_types: dict[str, str], column: Column
) -> dict[str, tuple[str, str]]:
    """Payload key → (value, its text for the hash), besides ``dataFields``."""

    def kind(name: str) -> str:
        return column_types[name.upper()]

    parts: dict[str, tuple[str, str]] = {}
    if isinstance(sync, EventsSync):
        name = (
            literal(sync.event_name)
            if sync.event_name is not None
            else _text(column(sync.event_name_column or ""))
        )
        parts["eventName"] = (name, name)
    if isinstance(sync, EventsSync | PurchasesSync):
        event_id = _event_id(sync, column)
        parts["id"] = (event_id, event_id)
        if sync.created_at_column:
            created = _unix_seconds(column(sync.created_at_column), kind(sync.created_at_column))
            parts["createdAt"] = (created, as_text(created))
    if isinstance(sync, PurchasesSync | CartsSync):
        items = _json(column(sync.items_column), kind(sync.items_column))
        parts["items"] = (items, f"TO_JSON({items})")
    if isinstance(sync, PurchasesSync):
        total = _total(column(sync.total_column), kind(sync.total_column))
        parts["total"] = (total, as_text(total))
    if isinstance(sync, EmailUpdatesSync):
        new_email = _text(column(sync.new_email_column))
        parts["newEmail"] = (new_email, new_email)
    if isinstance(sync, EventsSync):
        for key, name in (
            ("campaignId", sync.campaign_id_column),
            ("templateId", sync.template_id_column),
        ):
            if name:
                value = _integer(column(name), kind(name))
                parts[key] = (value, as_text(value))
    if isinstance(sync, SubscriptionsSync):
        # One key per mapped list, channel or message type: true, false or null (left alone).
        for sub in sync.subscriptions:
            value = boolean_sql(column(sub.column), kind(sub.column))
            parts[sub.payload_key] = (value, as_text(value))
    if isinstance(sync, ListSync) and sync.list_per_value_of:
        # The value that picks the row's list, as text (null: no list); kept in state with
        # the payload, so a value that changes is a change, and the old list is known.
        value = _text(column(sync.list_per_value_of))
        parts[LIST_VALUE_KEY] = (value, value)
    return dict(sorted(parts.items()))


#: The payload key beside ``dataFields`` that carries a dynamic list's value.
LIST_VALUE_KEY = "listValue"


# --------------------------------------------------------------------------- refusals


@dataclass(frozen=True)
class RowRule:
    """A row the type refuses before sending: quarantined, counted by ``check``."""

    check: str
    reason: str
    predicate: str  # over the snapshot's columns
    field: str
    value: str  # SQL of the offending value as text


def row_rules(sync: SyncConfig, column_types: dict[str, str]) -> list[RowRule]:
    def kind(name: str) -> str:
        return column_types[name.upper()]

    found: list[RowRule] = []
    check = {
        SyncType.EVENTS: rules.EVENT_ROWS_COMPLETE,
        SyncType.PURCHASES: rules.PURCHASE_ROWS_COMPLETE,
        SyncType.CARTS: rules.CART_ROWS_COMPLETE,
        SyncType.CATALOG: rules.CATALOG_IDS_VALID,
        SyncType.EMAIL_UPDATES: rules.NEW_EMAIL_VALID,
        SyncType.SUBSCRIPTIONS: rules.SUBSCRIPTION_VALUES_VALID,
    }.get(sync.type, "")

    def rule(reason: str, predicate: str, field: str, value: str) -> None:
        found.append(RowRule(check, reason, predicate, field, value))

    if isinstance(sync, EventsSync) and sync.event_name_column:
        name = q(sync.event_name_column)
        rule("missing event name", f"{_text(name)} IS NULL", "eventName", as_text(name))
    if isinstance(sync, EventsSync):
        for key, name in (
            ("campaignId", sync.campaign_id_column),
            ("templateId", sync.template_id_column),
        ):
            if name:
                col = q(name)
                rule(
                    f"{key} is not an integer",
                    f"{col} IS NOT NULL AND {_integer(col, kind(name))} IS NULL",
                    key,
                    as_text(col),
                )
    if isinstance(sync, EventsSync | PurchasesSync):
        if sync.event_id_column:
            event_id = _text(q(sync.event_id_column))
            rule(
                f"event id longer than {rules.MAX_EVENT_ID_BYTES} bytes",
                f"{rules.byte_length(event_id)} > {rules.MAX_EVENT_ID_BYTES}",
                "id",
                event_id,
            )
        if sync.created_at_column:
            col, col_type = q(sync.created_at_column), kind(sync.created_at_column)
            rule(
                "unreadable createdAt (not a time)",
                f"{_text(col)} IS NOT NULL AND {_unix_seconds(col, col_type)} IS NULL",
                "createdAt",
                as_text(col),
            )
    if isinstance(sync, PurchasesSync | CartsSync):
        col, col_type = q(sync.items_column), kind(sync.items_column)
        items = _json(col, col_type)
        rule("missing items", f"{col} IS NULL", "items", "CAST(NULL AS VARCHAR)")
        rule(
            "items is not a non-empty JSON array",
            f"NOT COALESCE({rules.is_nonempty_json_array(items)}, FALSE)",
            "items",
            _shown(col, col_type),
        )
    if isinstance(sync, PurchasesSync):
        col, col_type = q(sync.total_column), kind(sync.total_column)
        rule("missing total", f"{col} IS NULL", "total", "CAST(NULL AS VARCHAR)")
        shown = _shown(col, col_type)
        rule("total is not a number", f"{_total(col, col_type)} IS NULL", "total", shown)
    if sync.type is SyncType.CATALOG:
        item_id = as_text(q(sync.primary_key))
        rule(
            "invalid catalog item id (letters, digits and dashes, at most 255)",
            f"NOT COALESCE({rules.is_catalog_id(item_id)}, FALSE)",
            "itemId",
            item_id,
        )
    if isinstance(sync, EmailUpdatesSync):
        new_email = _text(q(sync.new_email_column))
        rule("missing new email", f"{new_email} IS NULL", "newEmail", "CAST(NULL AS VARCHAR)")
        rule(
            "malformed new email",
            f"NOT COALESCE({rules.is_email(new_email)}, FALSE)",
            "newEmail",
            as_text(q(sync.new_email_column)),
        )
    if isinstance(sync, SubscriptionsSync):
        for sub in sync.subscriptions:
            col = q(sub.column)
            rule(
                f"{sub.column} is not a boolean (true subscribes, false unsubscribes)",
                f"{col} IS NOT NULL AND {boolean_sql(col, kind(sub.column))} IS NULL",
                sub.payload_key,
                as_text(col),
            )
    return found


@dataclass(frozen=True)
class RuleColumns:
    """The records' columns that say why a row is refused, type rules first."""

    reason: str
    check: str
    field: str
    value: str
    type: str


def rule_columns(
    sync: SyncConfig,
    column_types: dict[str, str],
    invalid_field: str,
    invalid_value: str,
    invalid_type: str,
) -> RuleColumns:
    found = row_rules(sync, column_types)
    if not found:
        null = "CAST(NULL AS VARCHAR)"
        return RuleColumns(null, null, invalid_field, invalid_value, invalid_type)

    def case(value: Callable[[RowRule], str], otherwise: str) -> str:
        whens = " ".join(f"WHEN {r.predicate} THEN {value(r)}" for r in found)
        return f"CASE {whens} ELSE {otherwise} END"

    return RuleColumns(
        reason=case(lambda r: literal(r.reason), "NULL"),
        check=case(lambda r: literal(r.check), "NULL"),
        field=case(lambda r: literal(r.field), invalid_field),
        value=case(lambda r: r.value, invalid_value),
        type=case(lambda r: "''", invalid_type),
    )
