"""Hostile warehouse values for the property tests, and what each one must become in
Iterable when it is delivered (``None`` when it cannot be delivered exactly and must be
quarantined instead)."""

import json
import math
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

INT64 = (-(2**63), 2**63 - 1)
# Shapes that look like SQL, for values and for primary keys.
SQLISH = [
    "'; DROP TABLE ITERABLE_SYNC.ROW_ERRORS; --",
    "Robert'); DELETE FROM ITERABLE_SYNC.SYNC_RUNS; --",
    "\" OR 1=1 --",
    "\\'; SELECT 1; --",
    "$$ || chr(39) || $$",
    "/* comment */ UNION SELECT * FROM information_schema.tables",
]
# Edge dates, as text in a column cast to date: (value, what Iterable must hold or None).
DATES: list[tuple[str, str | None]] = [
    ("2024-02-29 00:00:00", "2024-02-29 00:00:00"),  # leap day
    ("2023-02-29 00:00:00", None),  # not a leap year
    ("1970-01-01 00:00:00", "1970-01-01 00:00:00"),  # epoch 0
    ("0000-00-00 00:00:00", None),
    ("0000-00-00", None),
    ("2026-13-01 00:00:00", None),
    ("2026-11-02 24:00:01", None),
    ("not a date", None),
    ("1969-12-31 23:59:59", "1969-12-31 23:59:59"),
    ("9999-12-31 23:59:59", "9999-12-31 23:59:59"),
]
# Odd but valid addresses ({n} keeps each row's user its own).
EMAILS = [
    "o'hara.{n}@example.com",
    "first.last+tag{n}@example.com",
    "x{n}@sub.domain.example.co.uk",
    "{n}_-_@example.com",
    "very.long.local.part.that.is.still.within.sixty.four.{n}@example.com",
    "UPPER.Case.{n}@Example.COM",
    "a{n}@example.museum",
]
texts = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),  # any unicode
    st.text(st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Zl", "Zp")), max_size=8),
    st.sampled_from(
        [
            "😀👩‍👩‍👧‍👦🏳️‍🌈",
            "e\u0301",
            "\u202eevil",
            "Zoë ✓",
            "\U0001d518\U0001d52b\U0001d526",
            "\ufeff",
        ]
    ),
    st.sampled_from(SQLISH),
    st.integers(1_000, 20_000).map(lambda n: "ä" * n),  # very long
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]),
)
bigs = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30]),
).map(str)


def _deep(depth: int, duplicate: bool) -> str:
    inner = '{"k": 1, "k": 2}' if duplicate else '{"k": 1}'
    return '{"a": ' * depth + inner + "}" * depth


docs = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=10,
    )
    .filter(lambda v: isinstance(v, dict))
    .map(json.dumps),
    st.builds(_deep, st.integers(1, 200), st.booleans()),
    st.sampled_from(['{"a": 1, "a": 2}', "{not json", "[1, 2,]", '{"x": NaN}', ""]),
)
dates = st.one_of(
    st.sampled_from(DATES),
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 12, 31)).map(
        lambda d: (d.strftime("%Y-%m-%d %H:%M:%S"), d.strftime("%Y-%m-%d %H:%M:%S"))
    ),
)


def row_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "key": st.one_of(st.just(""), st.sampled_from(SQLISH), st.text(max_size=8)),
            "email": st.sampled_from(EMAILS),
            "TEXT": texts,
            "NUM": numbers,
            "BIG": bigs,
            "DOC": docs,
            "DAY": dates,
        }
    )


def expected_num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def expected_big(text: str) -> int | None:
    number = int(text)
    return number if INT64[0] <= number <= INT64[1] else None


def expected_doc(text: str) -> Any:
    """The JSON a document means (for duplicate keys the last wins, as in Python's and
    Snowflake's parsers); ``None`` for text that is not JSON, or means no object."""
    try:
        value = json.loads(text, parse_constant=lambda _c: (_ for _ in ()).throw(ValueError()))
    except ValueError:
        return None
    return _without_nulls(value) if isinstance(value, dict) else None


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """A null among a profile field's keys means "no value": Iterable (as the emulator
    models it) keeps no such key, so the document reads back without it. Nulls deeper
    down are kept."""
    return {k: v for k, v in value.items() if v is not None}
