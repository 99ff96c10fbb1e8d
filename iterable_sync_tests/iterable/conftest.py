"""A scripted Iterable behind `httpx.MockTransport`, and a client wired to it.

No network and no real sleeping: retries wait through a recorded fake `sleep`, and the
rate limiter is off unless a test turns it on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from iterable_sync.iterable import CallRecord, IterableClient, RateLimits, RetryPolicy

API_KEY = "test-key-7f3a9c2e-DO-NOT-LEAK"

SUCCESS = {"msg": "", "code": "Success", "params": None}

Scripted = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = SUCCESS, **headers: str) -> httpx.Response:
    """A canned response; `body` may be JSON-able or already text."""
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class FakeIterable:
    """Answers requests from a script, in order; once it runs out, plain success."""

    script: list[Scripted] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.script:
            return reply()
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return item(request)

    def then(self, *items: Scripted) -> FakeIterable:
        self.script.extend(items)
        return self

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return json.loads(content) if content else None


@pytest.fixture
def fake() -> FakeIterable:
    return FakeIterable()


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the retry loop asked for, in seconds (none really happens)."""
    return []


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def make_client(
    fake: FakeIterable, sleeps: list[float], records: list[CallRecord]
) -> Iterator[Callable[..., IterableClient]]:
    made: list[IterableClient] = []

    def make(**overrides: Any) -> IterableClient:
        options: dict[str, Any] = {
            "transport": httpx.MockTransport(fake),
            "rate_limits": RateLimits.off(),
            "retry": RetryPolicy(sleep=sleeps.append, jitter=0.0),
            "on_call": records.append,
        }
        options.update(overrides)
        client = IterableClient(API_KEY, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., IterableClient]) -> IterableClient:
    return make_client()
