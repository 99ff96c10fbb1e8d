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
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ._exceptions import PayloadError

__all__ = ["dumps"]


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


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON; raises `PayloadError` for values JSON cannot carry."""
    try:
        text = json.dumps(
            body, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except ValueError as exc:
        if isinstance(exc, PayloadError):
            raise
        # json raises a bare ValueError for NaN/inf; say which rule was broken.
        raise PayloadError(f"not valid JSON for Iterable: {exc}") from exc
    return text.encode()
