"""Call records with their bodies (``keep_bodies=True``), for a request debugger: what went,
what came back, never the key. By default a record holds no body (``test_retry.py``)."""

from collections.abc import Callable

import httpx
import pytest

from iterable_sync.iterable import CallRecord, IterableClient, RetryPolicy, UserUpdate
from iterable_sync_tests.iterable.conftest import API_KEY, FakeIterable, reply

USERS = [UserUpdate(email="a@example.com", data_fields={"plan": "pro"})]


def test_records_hold_the_bodies_when_asked(
    make_client: Callable[..., IterableClient], fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(reply(200, {"successCount": 1, "failCount": 0}))
    make_client(keep_bodies=True).users.bulk_update(USERS)
    [record] = records
    assert record.request_body == fake.last.content
    assert b'"plan":"pro"' in (record.request_body or b"")
    assert record.response_body == b'{"successCount":1,"failCount":0}'


def test_records_hold_no_body_by_default(
    client: IterableClient, fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(reply(200, {"successCount": 1, "failCount": 0}))
    client.users.bulk_update(USERS)
    assert (records[0].request_body, records[0].response_body) == (None, None)


def test_a_failed_attempt_keeps_its_error_body(
    make_client: Callable[..., IterableClient], fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(reply(400, {"msg": "bad", "code": "BadParams", "params": None}))
    with pytest.raises(Exception, match="400"):
        make_client(keep_bodies=True).users.bulk_update(USERS)
    assert records[0].status == 400
    assert b"BadParams" in (records[0].response_body or b"")


def test_a_transport_error_keeps_its_message(
    make_client: Callable[..., IterableClient], fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(httpx.ConnectError("connection refused"))
    client = make_client(keep_bodies=True, retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))
    with pytest.raises(Exception, match="refused"):
        client.users.bulk_update(USERS)
    [record] = records
    assert (record.status, record.response_body) == (None, None)
    assert record.request_body is not None
    assert "ConnectError: connection refused" in (record.error_message or "")


def test_a_response_that_echoes_the_key_is_scrubbed(
    make_client: Callable[..., IterableClient], fake: FakeIterable, records: list[CallRecord]
) -> None:
    # A proxy in the way could quote the request's headers back.
    fake.then(reply(502, f"bad gateway; request had Api-Key: {API_KEY}"))
    client = make_client(keep_bodies=True, retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))
    with pytest.raises(Exception, match="502"):
        client.users.bulk_update(USERS)
    body = records[0].response_body or b""
    assert b"bad gateway" in body
    assert API_KEY.encode() not in body
