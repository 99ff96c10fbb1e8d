"""The fast hash in front of the MD5: unchanged rows are found without hashing their values
as text, and no fast hash that matches can hide a change Iterable has not seen."""

import pytest

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.plan.record import record_sql
from iterable_sync_tests.sync.typed_harness import TypedHarness, synced_users, upsert_users

N = 500
COLUMNS = {"ID": "VARCHAR", "EMAIL": "VARCHAR", "FIRST_NAME": "VARCHAR", "PLAN": "VARCHAR"}
MAPPING = [{"column": "FIRST_NAME", "field": "firstName"}, {"column": "PLAN", "field": "plan"}]
STATE = f"{SYNC_SCHEMA}.TEST_USERS__STATE"
RECORDS = f"{SYNC_SCHEMA}.TEST_USERS__RECORDS"


def row(n: int, plan: str = "free") -> dict[str, object]:
    return {"ID": f"K{n:05d}", "EMAIL": f"user.{n}@example.com", "FIRST_NAME": f"First{n}",
            "PLAN": plan}  # fmt: skip


users = upsert_users


@pytest.fixture
def synced(warehouse, shared_emulator) -> TypedHarness:
    return synced_users(warehouse, shared_emulator, MAPPING, [row(n) for n in range(N)], COLUMNS)


def _fast_hashes_in_step(harness: TypedHarness) -> int:
    joined = harness.query(
        f"SELECT count(*) AS N FROM {STATE} s JOIN {RECORDS} r ON r.PK = s.PK AND r.FAST = s.FAST"
    )
    return int(joined[0]["N"])


def test_a_value_changed_back_after_a_send_is_sent_again(synced):
    synced.load([row(n, "premium" if n == 7 else "free") for n in range(N)])
    assert synced.sync_run()["sent"] == 1

    # Back to the values whose fast hash state held before the send.
    synced.load([row(n) for n in range(N)])
    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"], meta["accepted"]) == (1, 1, 1)
    assert synced.user("user.7@example.com")["dataFields"]["plan"] == "free"


def test_swapping_the_columns_two_fields_map_sends_every_row(synced):
    # The same columns with the same values: only the salt tells the fast hashes apart.
    synced.sync = users(
        [{"column": "PLAN", "field": "firstName"}, {"column": "FIRST_NAME", "field": "plan"}]
    )

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"]) == (N, N)
    assert synced.user("user.5@example.com")["dataFields"]["plan"] == "First5"


def test_a_stale_fast_hash_costs_one_md5_and_sends_nothing(synced):
    with synced.warehouse.session() as session:
        session.execute(f"UPDATE {STATE} SET FAST = FAST + 1 WHERE PK < 'K00100'")
    assert _fast_hashes_in_step(synced) == N - 100
    seq = synced.last_seq()

    meta = synced.sync_run()

    assert (meta["changed"], meta["sent"], meta["write_calls"]) == (0, 0, 0)
    assert synced.calls_since(seq) == []
    assert _fast_hashes_in_step(synced) == N


def test_a_sent_row_keeps_the_fast_hash_of_what_was_sent(synced):
    synced.load([row(n, "premium" if n == 7 else "free") for n in range(N)])

    assert synced.sync_run()["accepted"] == 1

    assert _fast_hashes_in_step(synced) == N


def test_records_and_the_diff_salt_the_fast_hash_alike() -> None:
    types = dict(COLUMNS)
    sync = users(MAPPING)
    plain, qualified = record_sql(sync, types), record_sql(sync, types, table="m")
    assert plain.fast.replace('"', "") == qualified.fast.replace('m."', "").replace('"', "")
    recast = users([MAPPING[0], {**MAPPING[1], "cast": "string"}])
    assert record_sql(recast, types).fast != plain.fast
