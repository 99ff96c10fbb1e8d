"""Field types: inference from the first value, dates, and the mismatch rule.

Iterable fixes a field's type from the first value it ever receives, per category (user
profile fields; each event name's fields), and rejects later values of another type with
400 ``RequestFieldsTypesMismatched`` for the WHOLE request. Objects are typed ``object`` and
their members get dotted paths (``address.zip``); arrays are typed by their elements, so an
array of objects is ``object`` too (the recorded getFields shows ``devices`` that way — the
``nested`` type needs Iterable to switch it on for a project).

Type compatibility choices (not all confirmed against the live API):
- a ``long`` value into a ``double`` field is accepted: Elasticsearch, which backs Iterable's
  profiles, coerces it, and JavaScript clients serialise 3.0 as ``3``, so rejecting it would
  break every such integration;
- a ``double`` into a ``long`` field is accepted only when it is integral (``3.0``); ``3.5``
  is a mismatch (stricter than Elasticsearch's silent truncation, on purpose: silently
  losing the fraction is worse for a sync than a visible error);
- a date-shaped string into a ``string`` field is fine (it is a string); a string that is not
  in one of Iterable's date formats into a ``date`` field is a mismatch (the seed's
  ``"0000-00-00 00:00:00"``);
- numbers, booleans, strings and objects never cross-convert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

USER = "user"
STRING_INCOMING = ["string", "keyword"]

# Iterable's documented date formats: yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss
# +hh:mm, yyyy-MM-ddTHH:mm:ss.SSSZ and yyyy-MM-ddTHH:mm:ss.SSS+hh:mm. Anything else (ISO
# without millis, slashes, space + millis, no zone after 'T') is a plain string.
_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:([ T])(\d{2}):(\d{2}):(\d{2})(\.\d{3})?( ?)(Z|[+-]\d{2}:\d{2})?)?"
)


@lru_cache(maxsize=16_384)  # the same date strings recur across a sync's records
def parse_date(text: str) -> datetime | None:
    """The instant ``text`` denotes if it is in one of Iterable's date formats."""
    if not 10 <= len(text) <= 29 or text[4:5] != "-":
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, sep, hh, mm, ss, millis, space, zone = match.groups()
    if sep == " " and (millis or (zone and (space != " " or zone == "Z")) or (space and not zone)):
        return None
    if sep == "T" and not (millis and zone and not space):
        return None
    tz = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:  # 0000-00-00, 2024-02-30 ...: shaped like a date, but not one
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hh or 0),
            int(mm or 0),
            int(ss or 0),
            int(millis[1:]) * 1000 if millis else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None


def format_date(moment: datetime) -> str:
    """Iterable's read-back format for dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")


@lru_cache(maxsize=16_384)
def normalise_date(text: str) -> str:
    parsed = parse_date(text)
    return format_date(parsed) if parsed else text


def now_date() -> str:
    return format_date(datetime.now(UTC))


def _is_geo(value: dict[str, Any]) -> bool:
    return set(value) == {"lat", "lon"} and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    )


def scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "date" if parse_date(value) else "string"
    return "string"


def incoming_types(kind: str) -> list[str]:
    return list(STRING_INCOMING) if kind == "string" else [kind]


def _compatible(expected: str, incoming: str, value: Any) -> bool:
    if expected == incoming:
        return True
    if expected == "string" and incoming == "date":
        return True
    if expected == "double" and incoming == "long":
        return True
    if expected == "long" and incoming == "double":
        return float(value).is_integer()
    return expected == "object" and incoming == "geo_location"


@dataclass
class Mismatch:
    category: str
    path: str
    expected: str
    incoming: str
    value: Any
    record: int


_EXACT_KIND = {str: "string", bool: "boolean", int: "long", float: "double"}


@dataclass
class StagedFields:
    """The committed field types plus the ones one request would create.

    Nothing reaches the committed map until the request's transaction commits, so a
    rejected request creates no field. ``views`` merge both per category, so the hot path
    (a scalar into a field of its exact type) is one dict lookup.
    """

    committed: dict[str, dict[str, str]]
    new: dict[tuple[str, str], str] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    created: dict[str, None] = field(default_factory=dict)
    filtered: dict[str, None] = field(default_factory=dict)
    views: dict[str, dict[str, str]] = field(default_factory=dict)
    plans: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def _view(self, category: str) -> dict[str, str]:
        view = self.views.get(category)
        if view is None:
            view = self.views[category] = dict(self.committed.get(category, {}))
        return view

    def type_of(self, category: str, path: str) -> str | None:
        return self._view(category).get(path)

    def check(
        self, category: str, data: dict[str, Any], record: int, create: bool = True
    ) -> dict[str, Any]:
        """Type-check one record's fields; returns them with dates normalised.

        Mismatches accumulate on ``self.mismatches``; new fields are staged (or, with
        ``create=False``, dropped and listed in ``filtered``).
        """
        return self._members(category, "", data, record, create)

    def _members(
        self, category: str, prefix: str, data: dict[str, Any], record: int, create: bool
    ) -> dict[str, Any]:
        # The records of a bulk request mostly share one shape (keys and value types). Once
        # a shape has checked cleanly against known fields, later records of that shape
        # only revisit their dates and objects. Known fields never change type, so a plan
        # stays valid for the whole request.
        shape = (category, prefix, tuple(data), tuple(map(type, data.values())))
        plan = self.plans.get(shape)
        if plan is None:
            return self._members_checked(category, prefix, data, record, create, shape)
        out = dict(data)
        for key, action in plan:
            value = data[key]
            if action == "object":
                out[key] = self._members(category, f"{prefix}{key}.", value, record, create)
            elif parse_date(value) is not None:
                out[key] = normalise_date(value)
            else:  # not a date after all: the full check records the mismatch
                return self._members_checked(category, prefix, data, record, create, None)
        return out

    def _members_checked(
        self,
        category: str,
        prefix: str,
        data: dict[str, Any],
        record: int,
        create: bool,
        shape: tuple[Any, ...] | None,
    ) -> dict[str, Any]:
        view = self._view(category)
        exact = _EXACT_KIND
        out: dict[str, Any] = {}
        plan: list[tuple[str, str]] | None = []
        for key, value in data.items():
            path = prefix + key if prefix else key
            expected = view.get(path)
            cls = type(value)
            if expected is not None:
                if exact.get(cls) == expected or value is None:
                    out[key] = value  # a string field takes any string, dates included
                    continue
                if cls is str and expected == "date" and parse_date(value) is not None:
                    out[key] = normalise_date(value)
                    if plan is not None:
                        plan.append((key, "date"))
                    continue
                if cls is dict and expected == "object" and not path.endswith("_geo_location"):
                    out[key] = self._members(category, path + ".", value, record, create)
                    if plan is not None:
                        plan.append((key, "object"))
                    continue
            plan = None  # a new field, a mismatch, a list...: no shortcut for this shape
            keep, normalised = self._value(category, path, value, record, create)
            if keep:
                out[key] = normalised
        if plan is not None and shape is not None:
            self.plans[shape] = tuple(plan)
        return out

    def _value(
        self, category: str, path: str, value: Any, record: int, create: bool
    ) -> tuple[bool, Any]:
        if value is None:
            return True, None
        if isinstance(value, list):
            items = []
            for element in value:
                keep, normalised = self._value(category, path, element, record, create)
                if not keep:
                    return False, None
                items.append(normalised)
            return True, items
        if isinstance(value, dict):
            kind = "geo_location" if path.endswith("_geo_location") and _is_geo(value) else "object"
            if not self._accept(category, path, kind, value, record, create):
                return False, None
            if kind == "geo_location":
                return True, value
            return True, self._members(category, path + ".", value, record, create)
        if type(value) is str and self.type_of(category, path) == "string":
            return True, value  # any string fits a string field: skip date detection
        kind = scalar_type(value)
        if not self._accept(category, path, kind, value, record, create):
            return False, None
        if kind == "date" and self.type_of(category, path) == "date":
            return True, normalise_date(value)
        return True, value

    def _accept(
        self, category: str, path: str, kind: str, value: Any, record: int, create: bool
    ) -> bool:
        expected = self.type_of(category, path)
        if expected is None:
            if not create:
                self.filtered[path] = None
                return False
            self.new[(category, path)] = kind
            self._view(category)[path] = kind
            self.created[path] = None
            return True
        if _compatible(expected, kind, value):
            return True
        self.mismatches.append(Mismatch(category, path, expected, kind, value, record))
        return False

    def merged(self) -> dict[str, dict[str, str]]:
        """A new schema: the committed one plus this request's fields (copy-on-write, so
        readers holding the old snapshot are never disturbed)."""
        out = {category: dict(paths) for category, paths in self.committed.items()}
        for (category, path), kind in self.new.items():
            out.setdefault(category, {})[path] = kind
        return out


def _value_at(data: dict[str, Any] | None, path: str) -> Any:
    current: Any = data
    for part in path.split("."):
        if isinstance(current, list):
            current = next((item for item in current if isinstance(item, dict)), None)
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def mismatch_error_body(
    project_id: int, mismatches: list[Mismatch], first_record: dict[str, Any] | None, bulk: bool
) -> tuple[str, dict[str, Any]]:
    """``msg`` and ``params`` of a RequestFieldsTypesMismatched answer, as Iterable words them.

    In bulk requests ``offendingValue`` pairs the first record's value with the offending one
    (the seed's capture); single-record endpoints report the offending value alone (the
    recorded users/update capture).
    """
    errors: dict[str, Any] = {}
    sentences: list[str] = []
    for m in mismatches:
        if m.path in errors:
            continue
        shown = "user" if m.category == USER else "event"
        types = incoming_types(m.incoming)
        offending: Any = [_value_at(first_record, m.path), m.value] if bulk else m.value
        errors[m.path] = {
            "incomingTypes": types,
            "expectedType": m.expected,
            "category": shown,
            "offendingValue": offending,
            "_type": "UnexpectedType",
        }
        sentences.append(
            f"Field '{m.path}' already exists for type '{shown}' and has a data type of "
            f"'{m.expected}' but possible types '{', '.join(types)}' in the request."
        )
    msg = (
        f"Project {project_id}: The request does not have the same data types as the data "
        "previously submitted, or the input value is not within the correct range. "
        + " ".join(sentences)
    )
    return msg, {"validationErrors": errors}


def event_category(event_name: str) -> str:
    return f"event:{event_name}"


_CART_ITEM_TYPES = {
    "id": "string",
    "sku": "string",
    "name": "string",
    "description": "string",
    "categories": "string",
    "price": "double",
    "quantity": "long",
    "imageUrl": "string",
    "url": "string",
    "dataFields": "object",
}


def system_fields(list_field: str) -> dict[str, dict[str, str]]:
    """Fields Iterable defines in every project, with their fixed types."""
    user = {
        "email": "string",
        "userId": "string",
        "signupDate": "date",
        "signupSource": "string",
        "profileUpdatedAt": "date",
        list_field: "long",
        # Recorded getFields (research §17): subscription ids are typed by element, "long".
        "subscribedMessageTypeIds": "long",
        "unsubscribedChannelIds": "long",
        "unsubscribedMessageTypeIds": "long",
        "shoppingCartItems": "object",
    }
    user.update({f"shoppingCartItems.{k}": v for k, v in _CART_ITEM_TYPES.items()})
    purchase = {"total": "double", "shoppingCartItems": "object"}
    purchase.update({f"shoppingCartItems.{k}": v for k, v in _CART_ITEM_TYPES.items()})
    cart = {"shoppingCartItems": "object"}
    cart.update({f"shoppingCartItems.{k}": v for k, v in _CART_ITEM_TYPES.items()})
    return {USER: user, event_category("purchase"): purchase, event_category("updateCart"): cart}
