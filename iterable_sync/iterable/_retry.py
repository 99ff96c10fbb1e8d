"""When and how long to retry, built on tenacity.

Retried: 429, 5xx, timeouts and broken connections. Never retried: any other 4xx (the
same request would fail the same way) and errors raised before sending.

Retrying a POST is normally a risk (a request that timed out may have been applied).
It is safe here because every write the sync sends is idempotent on Iterable's side:
user updates and catalog uploads are upserts of the same values, list subscribe and
unsubscribe converge, and events and purchases carry a deterministic `id`, so a second
delivery updates the first instead of adding a duplicate.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from ._exceptions import APIError, RateLimitedError, ServerError, TransportError

__all__ = ["DEFAULT_RETRY", "RetryPolicy", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter that honours `Retry-After`.

    - `max_attempts`: total HTTP attempts per call, the first included (1 = no retry).
    - `max_elapsed`: seconds a call may spend retrying; a wait that would end past this
      budget is not started and the last error is raised instead.
    - `initial_backoff`, `max_backoff`: the n-th retry waits
      `min(max_backoff, initial_backoff * 2**(n-1))` plus up to `jitter` seconds drawn
      at random, so threads that failed together do not retry together.
    - `rate_limited_floor`: the least wait after a 429 without `Retry-After`; Iterable's
      limits are per second, so retrying sooner mostly lands in the same full window.
    - `sleep`: how to wait; tests pass a fake to run without real delays.
    """

    max_attempts: int = 6
    max_elapsed: float = 180.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    rate_limited_floor: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.max_elapsed, self.initial_backoff, self.max_backoff, self.jitter) < 0:
            raise ValueError("retry timings must not be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt per call, errors straight to the caller."""
        return cls(max_attempts=1)

    @staticmethod
    def should_retry(exc: BaseException) -> bool:
        if isinstance(exc, RateLimitedError | ServerError):
            return True
        return isinstance(exc, TransportError) and exc.retryable

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number `retry_number` (1-based) when the server gave
        no `Retry-After`."""
        base = min(self.max_backoff, self.initial_backoff * 2 ** (retry_number - 1))
        return base + random.uniform(0, self.jitter)

    def wait_for(self, exc: BaseException | None, retry_number: int) -> float:
        wait = self.backoff(retry_number)
        if isinstance(exc, APIError) and exc.retry_after is not None:
            # The server knows when its window reopens: never come back earlier.
            return max(wait, exc.retry_after)
        if isinstance(exc, RateLimitedError):
            return max(wait, self.rate_limited_floor)
        return wait

    def retrying(self, before_sleep: Callable[[RetryCallState], None]) -> Retrying:
        """A fresh tenacity controller for one call (they keep per-call state)."""

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.wait_for(exc, state.attempt_number)

        return Retrying(
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_elapsed),
            wait=wait,
            retry=retry_if_exception(self.should_retry),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


DEFAULT_RETRY = RetryPolicy()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110).

    Unparseable values are ignored (None) rather than trusted; past dates mean 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC dates are GMT; a zone-less one is read the same way
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
