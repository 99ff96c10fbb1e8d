"""JSON bodies as Iterable reads them.

The body is encoded here, once, rather than by httpx: the byte size must be known
before sending (bulk bodies are capped at 4 MB), and values that plain JSON lacks must
map to what Iterable's type inference expects. The first value a field receives fixes
its type for the whole project forever, so a careless default is expensive:

- `datetime` → `"yyyy-MM-dd HH:mm:ss +00:00"` (aware, converted to UTC) or
  `"yyyy-MM-dd HH:mm:ss"` (naive) — formats Iterable reads as dates. Python's
  `isoformat()` is *not* one (ISO without milliseconds is read as a string).
- `date` → `"yyyy-MM-dd"`.
- `Decimal` → a JSON number (int when integral), never a string.
- NaN and infinities are refused: they are not JSON, and Iterable would reject the
  whole request with BadJsonBody.

JSON text encoded elsewhere — a warehouse's payload column — is wrapped in `RawJSON` and
spliced into the body as is: parsing and re-encoding 1,000 stored payloads per bulk
request was most of the sender's CPU at Iterable's rate limit. It may stand as a value of
the body, as an item of one of the body's lists (a user of a bulk update, encoded ahead by
`UserUpdate.encode`), or as a value of an object in such a list.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from ._exceptions import PayloadError

__all__ = ["RawJSON", "dumps", "encode_value", "trusted_json"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +00:00")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise PayloadError(f"{value} is not a JSON number")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID):
        return str(value)
    raise PayloadError(f"cannot send a {type(value).__name__} to Iterable: {value!r:.80}")


class RawJSON(str):
    """JSON text, already encoded, sent as is (a `str` that the encoder does not quote).

    The caller vouches that the text is JSON (a warehouse's TO_JSON made it). The one thing
    checked is what such encoders emit and Iterable refuses: NaN and infinities (DuckDB
    writes them bare) raise `PayloadError` here, as they do for a parsed value, so the
    value is refused before anything is sent. The check is a substring search; only text
    that contains such a word is parsed.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> RawJSON:
        if ("NaN" in text or "Infinity" in text) and _non_finite(text):
            raise PayloadError(f"not valid JSON for Iterable: NaN or an infinity in {text:.80}")
        return super().__new__(cls, text)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Only an explicit RawJSON is raw: a plain string stays a JSON string.
        return core_schema.is_instance_schema(cls)


def _refuse(constant: str) -> Any:
    raise ValueError(constant)


def _non_finite(text: str) -> bool:
    """Whether the JSON text holds NaN or an infinity outside its strings."""
    try:
        json.loads(text, parse_constant=_refuse)
    except ValueError as exc:
        return not isinstance(exc, json.JSONDecodeError)
    return False


#: One encoder for every call: ``json.dumps`` with options builds a new one each time,
#: which costs more than encoding an email.
_ENCODER = json.JSONEncoder(
    default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
)
_KEYS: dict[str, str] = {}


def _plain(value: Any) -> str:
    try:
        return _ENCODER.encode(value)
    except ValueError as exc:
        if isinstance(exc, PayloadError):
            raise
        # json raises a bare ValueError for NaN/inf; say which rule was broken.
        raise PayloadError(f"not valid JSON for Iterable: {exc}") from exc


def _key(key: str) -> str:
    text = _KEYS.get(key)
    if text is None:
        text = _plain(key)
        # The same few keys (email, userId, dataFields) come back on every object.
        if len(_KEYS) < 1_000:
            _KEYS[key] = text
    return text


def _object(obj: dict[str, Any]) -> str:
    """An object whose values may be RawJSON (spliced in) or lists of such objects."""
    if not any(isinstance(v, (RawJSON, list)) for v in obj.values()):
        return _plain(obj)
    parts = []
    for key, value in obj.items():
        if isinstance(value, RawJSON):
            text = str.__str__(value)
        elif isinstance(value, list):
            text = "[" + ",".join(_item(i) for i in value) + "]"
        else:
            text = _plain(value)
        parts.append(f"{_key(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def _item(value: Any) -> str:
    if isinstance(value, RawJSON):
        return str.__str__(value)
    return _object(value) if isinstance(value, dict) else _plain(value)


def encode_value(value: Any) -> str:
    """One value as JSON text, as bodies encode it."""
    return _plain(value)


def trusted_json(text: str) -> RawJSON:
    """RawJSON from text built of checked parts (no NaN scan again)."""
    return str.__new__(RawJSON, text)


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON; raises `PayloadError` for values JSON cannot carry."""
    if isinstance(body, dict):
        return _object(body).encode()
    return _plain(body).encode()
