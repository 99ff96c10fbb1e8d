"""Pacing: the documented limits, their configuration, and staying below them."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable

import httpx
import pytest

from iterable_sync.iterable import (
    CallRecord,
    IterableClient,
    RateLimit,
    RateLimits,
    RetryPolicy,
    Throttle,
)
from iterable_sync.iterable._limits import Pacer

from . import recorded
from .conftest import reply

BULK = "POST /api/users/bulkUpdate"
TRACK = "POST /api/events/track"


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pace(limits: RateLimits, endpoint: str) -> float | None:
    pace = limits.pace(endpoint)
    return None if pace is None else round(pace.per_second, 6)


@pytest.mark.parametrize(
    ("endpoint", "per_second"),
    [
        ("POST /api/users/bulkUpdate", 4.75),
        ("POST /api/users/update", 475.0),
        ("POST /api/users/forget", 2.85),
        ("GET /api/users/getFields", 2.85),
        ("POST /api/events/track", 1900.0),
        ("POST /api/events/trackBulk", 9.5),
        ("POST /api/catalogs/{catalogName}/items", 95.0),
        ("GET /api/lists/getUsers", 0.079167),  # 5 a minute, at 95 %
        ("POST /api/commerce/trackPurchase", 95.0),  # unstated: the 100/s default
    ],
)
def test_default_pace_is_95_percent_of_the_documented_limit(
    endpoint: str, per_second: float
) -> None:
    assert _pace(RateLimits(), endpoint) == per_second


def test_an_override_replaces_the_documented_limit() -> None:
    limits = RateLimits(overrides={BULK: RateLimit(2)})

    assert _pace(limits, BULK) == 1.9
    assert limits.server_limit(BULK) == RateLimit(2)


def test_an_override_of_none_leaves_that_endpoint_unthrottled() -> None:
    assert RateLimits(overrides={BULK: None}).pace(BULK) is None


def test_scale_shares_every_limit() -> None:
    limits = RateLimits(scale=0.5)

    assert (_pace(limits, BULK), _pace(limits, TRACK)) == (2.375, 950.0)


def test_off_throttles_nothing() -> None:
    assert RateLimits.off().pace(BULK) is None


def test_a_misspelt_override_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        RateLimits(overrides={"POST /api/users/bulkupdate": RateLimit(1)})


@pytest.mark.parametrize("utilisation", [0.0, 1.5])
def test_utilisation_must_be_a_fraction(utilisation: float) -> None:
    with pytest.raises(ValueError, match="utilisation"):
        RateLimits(utilisation=utilisation)


def test_pacer_spaces_callers_by_its_interval() -> None:
    clock = FakeClock()
    pacer = Pacer(0.25, clock=clock, sleep=clock.sleep)

    waits = [pacer.acquire() for _ in range(4)]

    assert waits == [0.0, 0.25, 0.25, 0.25]
    assert clock.now == 1000.75


def test_pacer_saves_up_no_burst_after_idling() -> None:
    clock = FakeClock()
    pacer = Pacer(0.25, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    clock.sleep(10.0)

    assert [pacer.acquire() for _ in range(3)] == [0.0, 0.25, 0.25]


def test_pacer_gives_concurrent_callers_distinct_evenly_spaced_slots() -> None:
    frozen = FakeClock()  # never advances: every caller must reserve its own slot
    pacer = Pacer(0.01, clock=frozen, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            wait = pacer.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(round(w, 6) for w in waits) == [round(i * 0.01, 6) for i in range(400)]


@pytest.mark.parametrize("limit", [1, 3, 5, 10, 100, 2000])
def test_no_one_second_window_ever_sees_more_than_the_limit(limit: int) -> None:
    clock = FakeClock()
    throttle = Throttle(
        RateLimits(overrides={BULK: RateLimit(limit)}), clock=clock, sleep=clock.sleep
    )
    sent = []
    for _ in range(limit * 5 + 1):
        throttle.acquire(BULK)
        sent.append(clock.now)

    # The busiest window of length 1 s starts at some request; check from every one.
    busiest = max(bisect_left(sent, start + 1.0) - i for i, start in enumerate(sent))
    assert busiest <= limit
    assert busiest >= int(limit * 0.9)  # and the headroom is not wasted


def test_endpoints_are_paced_independently() -> None:
    clock = FakeClock()
    throttle = Throttle(RateLimits(), clock=clock, sleep=clock.sleep)
    throttle.acquire(BULK)

    assert throttle.acquire(TRACK) == 0.0
    assert throttle.acquire(BULK) == pytest.approx(1 / 4.75)


def test_threads_sharing_a_client_stay_under_the_configured_rate(
    make_client: Callable[..., IterableClient], records: list[CallRecord]
) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    def iterable(request: httpx.Request) -> httpx.Response:
        with lock:
            arrivals.append(time.monotonic())
        return reply(200, recorded.BULK_UPDATE_OK)

    client = make_client(
        transport=httpx.MockTransport(iterable),
        rate_limits=RateLimits(overrides={BULK: RateLimit(20)}, utilisation=1.0),
        retry=RetryPolicy.never(),
    )
    users = [{"email": "a@example.com"}]

    def worker() -> None:
        for _ in range(3):
            client.users.bulk_update(users)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    elapsed = time.monotonic() - started

    arrivals.sort()
    assert len(arrivals) == 12
    # 20/s is one request per 50 ms, whichever thread sends it: the k-th request to
    # arrive cannot arrive before k intervals have passed.
    assert all(t - started >= k * 0.05 - 0.001 for k, t in enumerate(arrivals))
    assert 0.55 - 0.001 <= elapsed < 2.0
    assert sum(r.throttled_ms for r in records) > 0
