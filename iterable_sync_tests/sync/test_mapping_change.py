"""A mapping change without a resync storm: state keeps the payload last sent, so after a
mapping change only the records whose payload for Iterable changes are sent, each with why."""


import pytest

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync_tests.sync.typed_harness import TypedHarness, synced_users, upsert_users

N = 10_000
#: Rows of the model that have a value in the column the added field maps.
WITH_SCORE = 300
COLUMNS = {
    "ID": "VARCHAR",
    "EMAIL": "VARCHAR",
    "FIRST_NAME": "VARCHAR",
    "PLAN": "VARCHAR",
    "SCORE": "INTEGER",
}
MAPPING = [{"column": "FIRST_NAME", "field": "firstName"}, {"column": "PLAN", "field": "plan"}]
STATE = f"{SYNC_SCHEMA}.TEST_USERS__STATE"


def row(n: int) -> dict[str, object]:
    return {
        "ID": f"K{n:05d}",
        "EMAIL": f"user.{n}@example.com",
        "FIRST_NAME": f"First{n}",
        "PLAN": "free",
        "SCORE": n if n % (N // WITH_SCORE) == 0 and n < WITH_SCORE * (N // WITH_SCORE) else None,
    }


users = upsert_users


@pytest.fixture
def synced(warehouse, shared_emulator) -> TypedHarness:
    """10,000 rows synced once with the first mapping."""
    return synced_users(warehouse, shared_emulator, MAPPING, [row(n) for n in range(N)], COLUMNS)


def test_adding_a_field_sends_only_the_rows_that_have_a_value(synced):
    synced.sync = users([*MAPPING, {"column": "SCORE", "field": "score"}])

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"], meta["accepted"]) == (WITH_SCORE, WITH_SCORE, WITH_SCORE)
    reasons = synced.query(f"SELECT DISTINCT REASON FROM {SYNC_SCHEMA}.TEST_USERS__DIFF")
    assert reasons == [{"REASON": "field added"}]
    assert synced.user("user.33@example.com")["dataFields"]["score"] == 33
    assert "score" not in synced.user("user.34@example.com")["dataFields"]


def test_renaming_a_model_column_mapped_to_the_same_field_sends_nothing(synced):
    renamed = {("GIVEN_NAME" if k == "FIRST_NAME" else k): v for k, v in COLUMNS.items()}
    rows = [{("GIVEN_NAME" if k == "FIRST_NAME" else k): v for k, v in row(n).items()}
            for n in range(N)]  # fmt: skip
    synced.load(rows, renamed)
    synced.sync = users([{"column": "GIVEN_NAME", "field": "firstName"}, MAPPING[1]])
    seq = synced.last_seq()

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"], meta["write_calls"]) == (0, 0, 0)
    assert synced.calls_since(seq) == []


def test_removing_a_mapped_field_sends_nothing_and_leaves_its_values(synced):
    synced.sync = users(MAPPING[:1])

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"]) == (0, 0)
    assert synced.user("user.5@example.com")["dataFields"]["plan"] == "free"
    # The records' new fast hashes are in state: the next run hashes and compares nothing.
    records = f"{SYNC_SCHEMA}.TEST_USERS__RECORDS"
    tagged = synced.query(
        f"SELECT count(*) AS N FROM {STATE} s JOIN {records} r ON r.PK = s.PK AND r.FAST = s.FAST"
    )
    assert tagged[0]["N"] == N


def test_a_real_value_change_resends_that_row(synced):
    synced.load([{**row(n), "PLAN": "premium" if n == 7 else "free"} for n in range(N)])

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"]) == (1, 1)
    reasons = synced.query(f"SELECT PK, REASON FROM {SYNC_SCHEMA}.TEST_USERS__DIFF")
    assert reasons == [{"PK": "K00007", "REASON": "value changed"}]
    assert synced.user("user.7@example.com")["dataFields"]["plan"] == "premium"


def test_state_written_by_an_older_version_is_compared_field_by_field_once(synced):
    # An older version's state: a bare MD5 per record (no target tag), the payload with
    # nulls spelled out. Nothing Iterable holds differs, so nothing is sent.
    with synced.warehouse.session() as session:
        old_payload = """'{"firstName":"First' || CAST(SUBSTR(PK, 2) AS INTEGER)
            || '","plan":"free","score":null}'"""
        session.execute(f"UPDATE {STATE} SET HASH = MD5(HASH), PAYLOAD = {old_payload}")
        session.execute(f"ALTER TABLE {STATE} DROP COLUMN FAST")

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"]) == (0, 0)
    stale = synced.query(f"SELECT count(*) AS N FROM {STATE} WHERE SUBSTR(HASH, 9, 1) <> ':'")
    assert stale[0]["N"] == 0
