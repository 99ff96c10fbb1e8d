"""Hostile input, property-based: whatever the warehouse holds, each row is delivered
exactly (read back from the emulator) or quarantined in ITERABLE_SYNC.ROW_ERRORS with its
field, value and reason; the run never crashes and the plain rows of the same batch land.

Each example is one sync run over a batch of hostile rows and control rows."""

import itertools
import json
import sqlite3

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from iterable_sync_tests.resilience import hostile
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {
    "ID": "VARCHAR",
    "EMAIL": "VARCHAR",
    "TEXT": "VARCHAR",
    "NUM": "DOUBLE",
    "BIG": "VARCHAR",
    "DOC": "VARCHAR",
    "DAY": "VARCHAR",
}
FIELDS = {"TEXT": "text", "NUM": "num", "BIG": "big", "DOC": "doc", "DAY": "day"}
MAPPING = [
    {"column": "TEXT", "field": "text"},
    {"column": "NUM", "field": "num"},
    {"column": "BIG", "field": "big", "cast": "long"},
    {"column": "DOC", "field": "doc", "cast": "json"},
    {"column": "DAY", "field": "day", "cast": "date"},
]
CONTROLS = 5
#: Codes of quarantines decided before Iterable answers: they always name field and value.
PINNED = {"invalid value", "refused by the client"}
TRIED: dict[str, int] = {"values": 0, "rows": 0, "delivered": 0, "quarantined": 0}
counter = itertools.count()


@pytest.fixture(scope="module")
def hostile_harness(tmp_path_factory, emulator_session):
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    emulator_session.admin.reset()
    path = tmp_path_factory.mktemp("hostile") / "warehouse.duckdb"
    # Tolerances at 100%: a batch that is mostly hostile is the point here, and the checks
    # would otherwise (rightly) block its send.
    sync = make(
        "users",
        mode="upsert",
        identifiers={"email": "EMAIL"},
        mapping=MAPPING,
        tolerances={"duplicate_keys": 1, "missing_identifiers": 1, "invalid_values": 1},
    )
    harness = TypedHarness(
        warehouse=DuckDBWarehouse(path=str(path)), emulator=emulator_session, sync=sync
    )
    yield harness
    print(f"hostile input: {TRIED}")


def _control(n: int, i: int) -> dict:
    return {
        "ID": f"control-{n}-{i}",
        "EMAIL": f"control.{n}.{i}@example.com",
        "TEXT": f"plain {i}",
        "NUM": i + 0.5,
        "BIG": str(i),
        # A key longer than any hostile document's (st.text(max_size=5)): a hostile row that
        # fixes the key's type first (false makes it boolean) would make 0 here a mismatch.
        "DOC": json.dumps({"control_index": i}),
        "DAY": "2026-11-02 09:30:00",
    }


def _expected(row: dict, day: str | None) -> dict | None:
    """What Iterable must hold for the row, or None when it must be quarantined."""
    values = {
        "text": row["TEXT"],
        "num": hostile.expected_num(row["NUM"]),
        "big": hostile.expected_big(row["BIG"]),
        "doc": hostile.expected_doc(row["DOC"]),
        "day": day,
    }
    return None if any(v is None for v in values.values()) else values


def _profiles(harness: TypedHarness, emails: list[str]) -> dict[str, dict]:
    db = sqlite3.connect(f"file:{harness.emulator.state_dir / 'state.sqlite3'}?mode=ro", uri=True)
    try:
        found = {}
        for email in emails:
            for mail, data in db.execute(
                "SELECT email, data FROM users WHERE lower(email) = lower(?)", [email]
            ):
                found[email] = json.loads(data)
                assert mail.lower() == email.lower()
        return found
    finally:
        db.close()


@settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its batch
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(rows=st.lists(hostile.row_strategy(), min_size=10, max_size=30))
def test_each_hostile_value_is_delivered_exactly_or_quarantined(hostile_harness, rows):
    harness = hostile_harness
    n = next(counter)
    batch, expectations = [], {}
    for i, drawn in enumerate(rows):
        day_text, day_expected = drawn["DAY"]
        row = {
            "ID": f"{drawn['key']}#{n}.{i}",  # hostile keys, unique per row
            "EMAIL": drawn["email"].format(n=f"{n}x{i}"),
            **{c: drawn[c] for c in ("TEXT", "NUM", "BIG", "DOC")},
            "DAY": day_text,
        }
        batch.append(row)
        expectations[row["ID"]] = (row, _expected(row, day_expected))
    for i in range(CONTROLS):
        row = _control(n, i)
        batch.append(row)
        expectations[row["ID"]] = (row, _expected(row, row["DAY"]))
    harness.load(batch, COLUMNS)

    result = harness.run(raise_on_error=False)
    assert result.success, "the run crashed on hostile input"

    errors: dict[str, list[dict]] = {}
    for error in harness.query(
        "SELECT PK, FIELD, VALUE, CODE, MESSAGE FROM ITERABLE_SYNC.ROW_ERRORS"
        f" WHERE PK LIKE '%#{n}.%' OR PK LIKE 'control-{n}-%'"
    ):
        errors.setdefault(error["PK"], []).append(error)
    profiles = _profiles(harness, [row["EMAIL"] for row, _ in expectations.values()])
    for pk, (row, expected) in expectations.items():
        TRIED["rows"] += 1
        TRIED["values"] += len(FIELDS) + 2
        if pk in errors:
            TRIED["quarantined"] += 1
            assert not pk.startswith("control-"), f"a good row was quarantined: {errors[pk]}"
            for error in errors[pk]:
                # A clear reason; the field and its value whenever the warehouse or the
                # client pinned it (a document Iterable refuses whole, e.g. BadJsonBody for
                # JSON nested past its limit, is named by Iterable's code and message).
                assert error["MESSAGE"] and error["CODE"], error
                if error["FIELD"] is not None or error["CODE"] in PINNED:
                    named = str(error["FIELD"]).split(".")[0]  # doc.<key>: inside the doc
                    assert named in {*FIELDS.values(), "email"}, error
                    assert error["VALUE"] is not None, error
            assert row["EMAIL"] not in profiles, f"{pk} quarantined yet delivered"
            continue
        assert expected is not None, f"{pk}: {row} must be quarantined, it was not"
        profile = profiles.get(row["EMAIL"])
        assert profile is not None, f"{pk}: neither delivered nor quarantined: {row}"
        got = {field: profile.get(field) for field in expected}
        # Iterable hands a date field back in its own form, with the zone: "... +00:00".
        if isinstance(got["day"], str):
            got["day"] = got["day"].removesuffix(" +00:00")
        assert got == expected, f"{pk}: Iterable holds {got}, the model says {expected}"
        TRIED["delivered"] += 1
