"""Retries: what is retried, how long it waits, when it gives up, and what is recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from iterable_sync.iterable import (
    CallRecord,
    IterableClient,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
    UserUpdate,
)
from iterable_sync.iterable._retry import parse_retry_after

from . import recorded
from .conftest import API_KEY, FakeIterable, reply

USERS = [UserUpdate(email="a@example.com", data_fields={"plan": "pro"})]
OK = reply(200, recorded.BULK_UPDATE_OK)
RATE_LIMITED = {"msg": "Exceeded rate limit.", "code": "RateLimitExceeded", "params": None}


def test_429_with_retry_after_waits_that_long_then_succeeds(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    fake.then(reply(429, RATE_LIMITED, **{"Retry-After": "7"}), OK)

    result = client.users.bulk_update(USERS)

    assert result.success_count == 2
    assert sleeps == [7.0]
    assert len(fake.requests) == 2


def test_429_with_an_http_date_retry_after_waits_until_that_date(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.then(reply(429, RATE_LIMITED, **{"Retry-After": when}), OK)

    client.users.bulk_update(USERS)

    assert 28.0 <= sleeps[0] <= 30.0


def test_429_without_retry_after_backs_off_at_least_a_second_then_succeeds(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    fake.then(reply(429, RATE_LIMITED), OK)

    assert client.users.bulk_update(USERS).success_count == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    "failure",
    [
        reply(500, recorded.GENERIC_500),
        reply(503, "Service Unavailable"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["500", "503", "read-timeout", "connect-timeout", "connect-error", "disconnect"],
)
def test_transient_failures_are_retried_then_succeed(
    client: IterableClient,
    fake: FakeIterable,
    sleeps: list[float],
    failure: httpx.Response | Exception,
) -> None:
    fake.then(failure, failure, OK)

    assert client.users.bulk_update(USERS).success_count == 2
    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_retries_are_bounded_and_the_last_error_is_raised(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    fake.then(*[reply(503, recorded.GENERIC_500)] * 10)

    with pytest.raises(ServerError) as caught:
        client.users.bulk_update(USERS)

    assert len(fake.requests) == 6 == caught.value.attempts
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped(
    make_client: Callable[..., IterableClient], fake: FakeIterable, sleeps: list[float]
) -> None:
    client = make_client(
        retry=RetryPolicy(max_attempts=5, max_backoff=1.5, jitter=0.0, sleep=sleeps.append)
    )
    fake.then(*[reply(500, recorded.GENERIC_500)] * 5)

    with pytest.raises(ServerError):
        client.users.get_fields()

    assert sleeps == [0.5, 1.0, 1.5, 1.5]


def test_persistent_transport_failure_raises_transport_error(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(*[httpx.ReadTimeout("read timed out")] * 6)

    with pytest.raises(TransportError) as caught:
        client.users.bulk_update(USERS)

    assert caught.value.attempts == 6
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413])
def test_client_errors_other_than_429_are_never_retried(
    client: IterableClient, fake: FakeIterable, sleeps: list[float], status: int
) -> None:
    fake.then(reply(status, {"msg": "no", "code": "BadParams", "params": None}))

    with pytest.raises(Exception, match=str(status)):
        client.users.bulk_update(USERS)

    assert len(fake.requests) == 1 and sleeps == []


def test_a_broken_setup_is_not_retried(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))

    with pytest.raises(TransportError):
        client.users.get_fields()

    assert len(fake.requests) == 1


def test_retry_after_beyond_the_time_budget_gives_up_at_once(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    fake.then(reply(429, RATE_LIMITED, **{"Retry-After": "3600"}))

    with pytest.raises(RateLimitedError) as caught:
        client.users.bulk_update(USERS)

    assert caught.value.retry_after == 3600.0
    assert sleeps == [] and len(fake.requests) == 1


def test_a_wait_that_would_overrun_the_time_budget_is_not_started(
    make_client: Callable[..., IterableClient], fake: FakeIterable, sleeps: list[float]
) -> None:
    client = make_client(retry=RetryPolicy(max_elapsed=1.0, jitter=0.0, sleep=sleeps.append))
    fake.then(*[reply(500, recorded.GENERIC_500)] * 6)

    with pytest.raises(ServerError):
        client.users.get_fields()

    assert sleeps == [0.5]  # the next wait (1.0 s) would reach the 1.0 s budget
    assert len(fake.requests) == 2


def test_jitter_spreads_waits_within_its_bound() -> None:
    policy = RetryPolicy(initial_backoff=1.0, jitter=0.5)

    waits = [policy.backoff(2) for _ in range(200)]

    assert all(2.0 <= w <= 2.5 for w in waits)
    assert len(set(waits)) > 1


def test_on_call_gets_one_record_per_attempt(
    client: IterableClient, fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(
        reply(503, recorded.GENERIC_500),
        httpx.ReadTimeout("read timed out"),
        reply(200, recorded.BULK_UPDATE_PARTIAL),
    )

    client.users.bulk_update(USERS)

    assert [(r.attempt, r.status, r.error_code, r.retried) for r in records] == [
        (1, 503, "GenericError", True),
        (2, None, "ReadTimeout", True),
        (3, 200, None, False),
    ]
    last = records[-1]
    assert (last.endpoint, last.method, last.batch_size) == ("/api/users/bulkUpdate", "POST", 1)
    assert (last.success_count, last.fail_count) == (1, 1)
    assert last.latency_ms >= 0


def test_the_final_failed_attempt_is_recorded_as_not_retried(
    client: IterableClient, fake: FakeIterable, records: list[CallRecord]
) -> None:
    fake.then(reply(401, recorded.BAD_API_KEY))

    with pytest.raises(Exception, match="401"):
        client.users.get_fields()

    assert [(r.status, r.error_code, r.retried) for r in records] == [(401, "BadApiKey", False)]


def test_records_name_the_route_template_and_hold_no_key_or_body(
    client: IterableClient, fake: FakeIterable, records: list[CallRecord]
) -> None:
    client.catalogs.bulk_upsert_items(
        "products", {"sku-1": {"secret_note": "x"}}, replace_uploaded_fields_only=False
    )
    client.users.delete_by_email("a@example.com")

    assert [r.endpoint for r in records] == [
        "/api/catalogs/{catalogName}/items",
        "/api/users/{email}",
    ]
    for record in records:
        values = repr(dataclasses.astuple(record))
        assert API_KEY not in values and "secret_note" not in values
        assert "a@example.com" not in values


def test_a_failing_on_call_callback_does_not_change_the_outcome(
    make_client: Callable[..., IterableClient], fake: FakeIterable
) -> None:
    def broken(record: CallRecord) -> None:
        raise RuntimeError("metrics sink down")

    client = make_client(on_call=broken)
    fake.then(reply(200, recorded.BULK_UPDATE_OK))

    assert client.users.bulk_update(USERS).success_count == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)

    assert parse_retry_after(header, now=now) == seconds
