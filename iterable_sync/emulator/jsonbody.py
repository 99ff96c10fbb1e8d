"""Request-body shapes and the ``BadJsonBody`` rule.

Iterable deserialises bodies strictly (Play JSON): one value of the wrong JSON type anywhere
rejects the whole request with 400 ``BadJsonBody`` and a ``params`` map from the path
(``obj.events[1].createdAt``) to a message. Unknown keys are ignored, as Iterable does.
``null`` for an optional key means "absent".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from iterable_sync.emulator.responses import ApiError

_MAX_REPORTED_ERRORS = 20
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class F:
    """One key of a body: its JSON kind, whether required, and its element/member shapes."""

    kind: str  # string | long | number | boolean | object | array
    required: bool = False
    items: F | None = None
    fields: Mapping[str, F] | None = None


_EXPECTED = {
    "string": "String value expected",
    "long": "Number value expected",
    "number": "Number value expected",
    "boolean": "Boolean value expected",
    "object": "Object value expected",
    "array": "Array value expected",
}


def _obj(required: bool = False, **fields: F) -> F:
    return F("object", required, fields=fields)


S, L, B, OBJ = F("string"), F("long"), F("boolean"), F("object")

USER = _obj(
    email=S, userId=S, dataFields=OBJ, preferUserId=B, mergeNestedObjects=B, createNewFields=B
)
UPDATE_USER = USER
BULK_UPDATE = _obj(users=F("array", True, USER), createNewFields=B, updateOnly=B)
UPDATE_EMAIL = _obj(currentEmail=S, currentUserId=S, newEmail=F("string", True))
USER_REQUEST = _obj(email=S, userId=S)
TRACK = _obj(
    email=S,
    userId=S,
    eventName=F("string", True),
    id=S,
    createdAt=L,
    dataFields=OBJ,
    campaignId=L,
    templateId=L,
    createNewFields=B,
)
TRACK_BULK = _obj(events=F("array", True, TRACK))
COMMERCE_ITEM = _obj(
    id=F("string", True),
    sku=S,
    name=F("string", True),
    description=S,
    categories=F("array", items=S),
    price=F("number", True),
    quantity=F("long", True),
    imageUrl=S,
    url=S,
    dataFields=OBJ,
)
_REQUIRED_USER = F("object", True, fields=USER.fields)
PURCHASE = _obj(
    id=S,
    user=_REQUIRED_USER,
    items=F("array", True, COMMERCE_ITEM),
    total=F("number", True),
    createdAt=L,
    dataFields=OBJ,
    campaignId=L,
    templateId=L,
)
CART = _obj(user=_REQUIRED_USER, items=F("array", True, COMMERCE_ITEM))
CREATE_LIST = _obj(name=F("string", True), description=S)
SUBSCRIBE = _obj(
    listId=F("long", True), subscribers=F("array", True, USER), updateExistingUsersOnly=B
)
UNSUBSCRIBE = _obj(
    listId=F("long", True),
    subscribers=F("array", True, _obj(email=S, userId=S)),
    campaignId=L,
    channelUnsubscribe=B,
)
CATALOG_BULK = _obj(documents=F("object", True), replaceUploadedFieldsOnly=F("boolean", True))
CATALOG_DELETE = _obj(itemIds=F("array", True, S))
CATALOG_PUT = _obj(value=F("object", True))
CATALOG_PATCH = _obj(update=F("object", True))
_IDS = F("array", items=L)
# Spec UpdateSubscriptionsRequest (every field optional; BulkUpdateSubscriptionsRequest
# requires updateSubscriptionsRequests; BulkSubscriptionActionRequest: users, usersByUserId).
UPDATE_SUBSCRIPTIONS = _obj(
    email=S,
    userId=S,
    emailListIds=_IDS,
    unsubscribedChannelIds=_IDS,
    unsubscribedMessageTypeIds=_IDS,
    subscribedMessageTypeIds=_IDS,
    campaignId=L,
    templateId=L,
    validateChannelAlignment=B,
)
BULK_UPDATE_SUBSCRIPTIONS = _obj(updateSubscriptionsRequests=F("array", True, UPDATE_SUBSCRIPTIONS))
SUBSCRIPTION_ACTION = _obj(users=F("array", items=S), usersByUserId=F("array", items=S))
_FIELD_MAPPING = _obj(fieldName=F("string", True), fieldType=F("string", True))
CATALOG_MAPPINGS = _obj(mappingsUpdates=F("array", True, _FIELD_MAPPING))
SEED_USERS = _obj(users=F("array", True, USER))


# Python types that certainly fit a kind (bool is not an int here; longs need their
# range checked, so they take the slow path).
_EXACT: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "number": (int,),
}


def _kind_ok(kind: str, value: Any) -> str | None:
    """None when ``value`` fits ``kind``; otherwise the message to report."""
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "object":
        ok = isinstance(value, dict)
    elif kind == "array":
        ok = isinstance(value, list)
    elif kind == "number":
        # 1e400 parses to infinity, which JSON cannot carry back: out of range.
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    else:  # long: integral numbers only; 3.0 is a valid Long to a JSON reader
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        ok = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and _LONG_MIN <= value <= _LONG_MAX
        )
    return None if ok else _EXPECTED[kind]


def _walk(spec: F, value: Any, path: str, errors: dict[str, str]) -> None:
    if len(errors) >= _MAX_REPORTED_ERRORS:
        return
    problem = _kind_ok(spec.kind, value)
    if problem:
        errors[path] = problem
        return
    if spec.kind == "object" and spec.fields:
        for key, sub in spec.fields.items():
            member = value.get(key)
            if member is None:
                if sub.required:
                    errors[f"{path}.{key}"] = (
                        "Missing required field" if key not in value else _EXPECTED[sub.kind]
                    )
                continue
            if type(member) in _EXACT.get(sub.kind, ()) and not sub.fields and not sub.items:
                continue  # hot path of bulk bodies: a plain member of the right type
            _walk(sub, member, f"{path}.{key}", errors)
    elif spec.kind == "array" and spec.items is not None:
        for index, element in enumerate(value):
            if element is None:
                errors[f"{path}[{index}]"] = _EXPECTED[spec.items.kind]
                continue
            _walk(spec.items, element, f"{path}[{index}]", errors)


def parse_body(raw: bytes, spec: F, endpoint: str) -> dict[str, Any]:
    """Decode and shape-check a request body, or raise 400 ``BadJsonBody``."""
    msg = f"[{endpoint}] Invalid JSON body"
    try:
        # An absent body reads as {} so the missing required keys get named.
        body = from_json(raw, allow_inf_nan=False) if raw.strip() else {}
    except ValueError as exc:
        raise ApiError(400, "BadJsonBody", msg, {"obj": f"Malformed JSON: {exc}"}) from None
    errors: dict[str, str] = {}
    _walk(spec, body, "obj", errors)
    if errors:
        raise ApiError(400, "BadJsonBody", msg, errors)
    return body
