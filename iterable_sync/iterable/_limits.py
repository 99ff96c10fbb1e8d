"""Per-endpoint pacing that stays below Iterable's rate limits instead of bouncing off them.

Why a smooth pace and not "N per second": Iterable meters requests with a leaky bucket
(third-party documentation) over windows we cannot see. A client that sends its whole
allowance at the start of a second, then waits, looks fine to a sliding window but
overflows a small bucket, and two such bursts either side of a fixed window boundary
double the rate. So every endpoint gets a GCRA limiter with `burst=1`: request *k+1*
leaves no earlier than one emission interval `1 / (utilisation * limit)` after request
*k*, whichever thread sends it.

With that spacing, *any* window of the server's length W holds at most
`floor(utilisation * limit * W) + 1 <= limit` requests, wherever its boundaries fall,
and network jitter of up to `W * (1 / utilisation - 1)` between two requests (111 ms
for a 1 s window at the default 0.9) still cannot squeeze `limit + 1` into one window.
A leaky bucket draining at `limit` never holds more than one request from us.

Why not pyrate-limiter: its GCRA (`StateBucket` + `GCRA`, blocking `try_acquire`) was
tried first and measured. Its clock and its sleeps are whole milliseconds, so at
events/track's pace (0.56 ms apart) 2,000 acquisitions took 2.0 s from 1 or 8 threads
instead of 1.1 s; after a sleep it advances the request's timestamp by the planned
delay instead of re-reading the clock, which with millisecond truncation let two
requests out 21.4 ms apart at a 25 ms pace; and its blocking wait calls `time.sleep`
directly, so no test can run it on a fake clock. It also needed three non-default
settings to behave (burst=1, buffer_ms=0, no leaker thread). The pacer below is the same
algorithm (GCRA with burst 1) in a dozen lines: float seconds, an injectable clock and
sleep, and FIFO order because each caller reserves its slot before sleeping.

Limits are per project (per API key for catalogs) while this limiter is per client. Two
processes writing to one project must each take a share: `RateLimits(scale=0.5)`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "DOCUMENTED_RATE_LIMITS",
    "ENDPOINTS",
    "UNSTATED_LIMIT",
    "Pacer",
    "RateLimit",
    "RateLimits",
    "Throttle",
]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`requests` per `per_seconds` seconds, e.g. `RateLimit(5)` or `RateLimit(5, 60)`."""

    requests: float
    per_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not (self.requests > 0 and self.per_seconds > 0):
            raise ValueError(f"a rate limit must be positive, got {self}")

    @property
    def per_second(self) -> float:
        return self.requests / self.per_seconds

    def scaled(self, factor: float) -> RateLimit:
        return RateLimit(self.requests * factor, self.per_seconds)


def _per_minute(n: float) -> RateLimit:
    return RateLimit(n, 60.0)


#: Iterable's published limits ("Rate limit" in each endpoint's description of the
#: official API spec), keyed "METHOD /route-template". `None`: the spec states none.
DOCUMENTED_RATE_LIMITS: Mapping[str, RateLimit | None] = MappingProxyType(
    {
        "POST /api/users/update": RateLimit(500),
        "POST /api/users/bulkUpdate": RateLimit(5),
        "POST /api/users/updateEmail": None,
        "GET /api/users/{email}": RateLimit(100),
        "GET /api/users/byUserId/{userId}": RateLimit(100),
        "DELETE /api/users/{email}": RateLimit(100),
        "DELETE /api/users/byUserId/{userId}": RateLimit(100),
        # Also capped at 1,000 a day per project; that budget spans runs and processes,
        # so it is the sync's to keep, not this in-process limiter's.
        "POST /api/users/forget": RateLimit(3),
        "POST /api/users/unforget": RateLimit(3),
        "GET /api/users/getFields": RateLimit(3),
        "POST /api/events/track": RateLimit(2000),
        "POST /api/events/trackBulk": RateLimit(10),
        "GET /api/events/{email}": RateLimit(100),
        "GET /api/events/byUserId/{userId}": RateLimit(100),
        "POST /api/commerce/trackPurchase": None,
        "POST /api/commerce/updateCart": None,
        "GET /api/catalogs": RateLimit(100),
        "POST /api/catalogs/{catalogName}": None,
        "DELETE /api/catalogs/{catalogName}": None,
        "POST /api/catalogs/{catalogName}/items": RateLimit(100),
        "DELETE /api/catalogs/{catalogName}/items": None,
        "GET /api/catalogs/{catalogName}/items/{itemId}": None,
        "GET /api/lists": RateLimit(100),
        "POST /api/lists": None,
        "DELETE /api/lists/{listId}": None,
        "POST /api/lists/subscribe": None,
        "POST /api/lists/unsubscribe": None,
        "GET /api/lists/getUsers": _per_minute(5),
        # Subscriptions: the spec publishes no limit for the writes (UNSTATED_LIMIT applies).
        "POST /api/users/updateSubscriptions": None,
        "POST /api/users/bulkUpdateSubscriptions": None,
        "PUT /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}": None,
        "PATCH /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{userEmail}": None,
        "DELETE /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{userEmail}": (
            None
        ),
        "PATCH /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/byUserId/{userId}": (
            None
        ),
        "DELETE /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/byUserId/{userId}": (
            None
        ),
        # "Get all message channels within the project. Rate limit: 100 requests/second".
        "GET /api/channels": RateLimit(100),
        # "List all message types within a project. Rate limit: 100 requests/second".
        "GET /api/messageTypes": RateLimit(100),
        "GET /api/catalogs/{catalogName}/fieldMappings": None,
        "PUT /api/catalogs/{catalogName}/fieldMappings": None,
    }
)

#: Every endpoint this client calls; rate-limit overrides must name one of these.
ENDPOINTS: frozenset[str] = frozenset(DOCUMENTED_RATE_LIMITS)

#: Assumed for endpoints whose limit Iterable does not publish: 100 req/s is the limit
#: Iterable states most often for single-record and list endpoints.
UNSTATED_LIMIT = RateLimit(100)


@dataclass(frozen=True)
class RateLimits:
    """How fast the client may call each endpoint.

    - `overrides`: `{"POST /api/users/bulkUpdate": RateLimit(2)}` replaces the server
      limit assumed for an endpoint; `None` there leaves that endpoint unthrottled.
    - `scale`: the share of every limit this client may use (0.5 when two processes
      write to the same project).
    - `utilisation`: the safety margin; the client paces at this fraction of the
      (scaled) limit so that jitter and window boundaries never provoke a 429. At 95 %
      requests leave 5 % further apart than the limit allows (210 ms for 5/s): a 1-second
      window, however aligned, holds one more request only if arrivals jitter by more than
      50 ms (a 429 is then retried after Retry-After). 90 % left a tenth of Iterable's
      rate unused by every sync.
    - `default`: assumed for endpoints whose limit is not published.
    - `enabled=False` (or `RateLimits.off()`): no pacing at all.
    """

    overrides: Mapping[str, RateLimit | None] = field(default_factory=dict)
    scale: float = 1.0
    utilisation: float = 0.95
    default: RateLimit = UNSTATED_LIMIT
    enabled: bool = True

    def __post_init__(self) -> None:
        unknown = sorted(set(self.overrides) - ENDPOINTS)
        if unknown:
            raise ValueError(
                f"unknown endpoint(s) in rate-limit overrides: {unknown}; "
                f"known: {sorted(ENDPOINTS)}"
            )
        if not self.scale > 0:
            raise ValueError("scale must be positive")
        if not 0 < self.utilisation <= 1:
            raise ValueError("utilisation must be in (0, 1]")

    @classmethod
    def off(cls) -> RateLimits:
        """No client-side pacing (tests, or a proxy that paces for us)."""
        return cls(enabled=False)

    def server_limit(self, endpoint: str) -> RateLimit | None:
        """The limit assumed on Iterable's side for `endpoint` ("METHOD /route")."""
        if endpoint in self.overrides:
            return self.overrides[endpoint]
        documented = DOCUMENTED_RATE_LIMITS.get(endpoint)
        return documented if documented is not None else self.default

    def pace(self, endpoint: str) -> RateLimit | None:
        """The rate the client actually sends at; `None` means unthrottled."""
        limit = self.server_limit(endpoint) if self.enabled else None
        return None if limit is None else limit.scaled(self.scale * self.utilisation)


DEFAULT_RATE_LIMITS = RateLimits()


class Pacer:
    """GCRA with burst 1: callers leave at least `interval` seconds apart, in order.

    Each caller reserves the next free slot under the lock and sleeps outside it, so
    threads never spin, never hold the lock while waiting, and are served in arrival
    order. Reserving rather than retrying means the spacing is exact in float seconds
    (no rounding to the clock's resolution), and `clock`/`sleep` can be fakes in tests.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = -math.inf
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            # An idle spell leaves _next_slot in the past: max() restarts from now, so
            # no allowance is saved up for a burst.
            self._next_slot = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


class Throttle:
    """One pacer per endpoint, shared by every thread using the client."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._pacers: dict[str, Pacer | None] = {}
        self._lock = threading.Lock()

    def pacer(self, endpoint: str) -> Pacer | None:
        """The endpoint's pacer (created on first use); `None` when unthrottled."""
        with self._lock:
            if endpoint not in self._pacers:
                pace = self._limits.pace(endpoint)
                self._pacers[endpoint] = (
                    None
                    if pace is None
                    else Pacer(1.0 / pace.per_second, clock=self._clock, sleep=self._sleep)
                )
            return self._pacers[endpoint]

    def acquire(self, endpoint: str) -> float:
        """Block until `endpoint` may be called; returns the seconds spent waiting."""
        pacer = self.pacer(endpoint)
        return 0.0 if pacer is None else pacer.acquire()
