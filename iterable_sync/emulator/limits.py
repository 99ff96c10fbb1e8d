"""Iterable's published rate limits, per endpoint and project, and the forget/unforget cap.

A token bucket per endpoint holds one window's worth of requests (so a burst up to the
limit passes, as with Iterable's leaky bucket) and refills continuously. Daily caps are a
sliding 24-hour window, persisted so a restart does not reset them. ``mode="off"`` lifts
every limit, daily caps included; per-endpoint overrides change any of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iterable_sync.emulator.responses import rate_limited

DAY = 86_400.0


@dataclass(frozen=True)
class Limit:
    rate: float | None  # requests per `per` seconds; None: no windowed limit
    per: float = 1.0
    daily: int | None = None


# Keys are "METHOD route-template", as the routes declare them.
PUBLISHED: dict[str, Limit] = {
    "POST /api/users/update": Limit(500),
    "POST /api/users/bulkUpdate": Limit(5),
    "GET /api/users/{email}": Limit(100),
    "DELETE /api/users/{email}": Limit(100),
    "GET /api/users/byUserId/{userId}": Limit(100),
    "DELETE /api/users/byUserId/{userId}": Limit(100),
    "GET /api/users/getByEmail": Limit(100),
    "GET /api/users/byUserId": Limit(100),
    "POST /api/users/forget": Limit(3, daily=1000),
    "POST /api/users/unforget": Limit(3, daily=1000),
    "GET /api/users/getFields": Limit(3),
    "POST /api/events/track": Limit(2000),
    "POST /api/events/trackBulk": Limit(10),
    "GET /api/events/{email}": Limit(100),
    "GET /api/events/byUserId/{userId}": Limit(100),
    "GET /api/lists": Limit(100),
    "GET /api/lists/getUsers": Limit(5, per=60),
    "GET /api/lists/{listId}/size": Limit(5, per=60),
    "GET /api/catalogs": Limit(100),
    "POST /api/catalogs/{catalogName}/items": Limit(100),
    "GET /api/catalogs/{catalogName}/items": Limit(100),
    "PUT /api/catalogs/{catalogName}/items/{itemId}": Limit(1000),
    # Spec: "Get all message channels within the project. Rate limit: 100 requests/second,
    # per project." and "List all message types within a project. Rate limit: 100
    # requests/second, per project." The subscription writes and catalog fieldMappings
    # publish no limit, so none is applied to them.
    "GET /api/channels": Limit(100),
    "GET /api/messageTypes": Limit(100),
}


def parse_override(value: dict[str, Any]) -> Limit:
    unknown = set(value) - {"rate", "per", "daily"}
    if unknown:
        raise ValueError(f"unknown rate-limit override keys: {sorted(unknown)}")
    rate, per, daily = value.get("rate"), value.get("per", 1.0), value.get("daily")
    if rate is not None and float(rate) <= 0:
        raise ValueError("rate must be > 0 (or null for no windowed limit)")
    if float(per) <= 0:
        raise ValueError("per must be > 0")
    return Limit(
        None if rate is None else float(rate), float(per), None if daily is None else int(daily)
    )


class RateLimiter:
    def __init__(
        self,
        mode: str,
        overrides: dict[str, dict[str, Any]] | None = None,
        daily_history: list[tuple[str, float]] | None = None,
        on_daily: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock, self._wall = clock, wall
        self._on_daily = on_daily
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._daily: dict[str, deque[float]] = {}
        for endpoint, ts in daily_history or []:
            self._daily.setdefault(endpoint, deque()).append(ts)
        self.configure(mode, overrides or {})

    def configure(self, mode: str, overrides: dict[str, dict[str, Any]]) -> None:
        if mode not in ("real", "off"):
            raise ValueError("mode must be real or off")
        parsed = {key: parse_override(value) for key, value in overrides.items()}
        with self._lock:
            self.mode, self.overrides = mode, parsed
            self._buckets.clear()

    def describe(self) -> dict[str, Any]:
        limits = {**PUBLISHED, **self.overrides}
        return {
            "mode": self.mode,
            "overrides": {k: vars(v) for k, v in self.overrides.items()},
            "effective": {k: vars(v) for k, v in sorted(limits.items())},
        }

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._daily.clear()

    def persists(self, key: str) -> bool:
        """Whether checking ``key`` records to the store (a daily-capped endpoint)."""
        limit = self.overrides.get(key) or PUBLISHED.get(key)
        return self.mode != "off" and limit is not None and limit.daily is not None

    def check(self, key: str) -> None:
        """Count one request against ``key`` or raise 429 RateLimitExceeded."""
        if self.mode == "off":
            return
        limit = self.overrides.get(key) or PUBLISHED.get(key)
        if limit is None:
            return
        stamp: float | None = None
        with self._lock:
            if limit.daily is not None:
                self._check_daily(key, limit.daily)
            if limit.rate is not None:
                self._take(key, limit)
            if limit.daily is not None:
                stamp = self._wall()
                self._daily.setdefault(key, deque()).append(stamp)
        if stamp is not None and self._on_daily is not None:
            self._on_daily(key, stamp)

    def _take(self, key: str, limit: Limit) -> None:
        assert limit.rate is not None
        now = self._clock()
        capacity, refill = limit.rate, limit.rate / limit.per
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * refill)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = math.ceil((1.0 - tokens) / refill)
            raise rate_limited(
                f"Exceeded rate limit of {limit.rate:g} requests per {limit.per:g}s for {key}.",
                max(1, wait),
            )
        self._buckets[key] = (tokens - 1.0, now)

    def _check_daily(self, key: str, cap: int) -> None:
        stamps = self._daily.setdefault(key, deque())
        now = self._wall()
        while stamps and stamps[0] <= now - DAY:
            stamps.popleft()
        if len(stamps) >= cap:
            # A cap of 0 never frees up; report a day.
            wait = math.ceil(stamps[0] + DAY - now) if stamps else int(DAY)
            raise rate_limited(
                f"Daily cap of {cap} requests per 24 hours reached for {key}.", max(1, wait)
            )
