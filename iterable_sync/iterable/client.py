"""`IterableClient`: one object per API key, shared safely by the threads of a sync."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr

from ._catalogs import CatalogsAPI
from ._commerce import CommerceAPI
from ._events import EventsAPI
from ._limits import DEFAULT_RATE_LIMITS, RateLimits, Throttle
from ._lists import ListsAPI
from ._retry import DEFAULT_RETRY, RetryPolicy
from ._subscriptions import SubscriptionsAPI
from ._transport import CallRecord, Transport
from ._users import UsersAPI

__all__ = ["EU_BASE_URL", "US_BASE_URL", "IterableClient"]

US_BASE_URL = "https://api.iterable.com"
#: A key works only in its own region: an EU project's key gets 401 on the US host.
EU_BASE_URL = "https://api.eu.iterable.com"

_USER_AGENT = f"iterable-sync/0.1 httpx/{httpx.__version__}"


class IterableClient:
    """A typed client for Iterable's REST API.

    ```python
    with IterableClient(api_key) as client:
        result = client.users.bulk_update([UserUpdate(email="a@example.com",
                                                      data_fields={"plan": "pro"})])
    ```

    One `httpx.Client` underneath (connections reused, up to `max_connections` at
    once); every call is paced per endpoint (`rate_limits`), retried on 429/5xx/
    transport errors (`retry`) and reported attempt by attempt to `on_call`. The key
    is held as a `SecretStr` and only ever leaves in the `Api-Key` header. With
    `keep_bodies=True` each record also carries the request and response bodies (for a
    request debugger); by default it holds none.

    Pass `transport=httpx.MockTransport(handler)` to test without a network.
    """

    def __init__(
        self,
        api_key: str | SecretStr,
        base_url: str = US_BASE_URL,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        rate_limits: RateLimits = DEFAULT_RATE_LIMITS,
        retry: RetryPolicy = DEFAULT_RETRY,
        on_call: Callable[[CallRecord], None] | None = None,
        max_connections: int = 16,
        keep_bodies: bool = False,
    ) -> None:
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        if not key.get_secret_value().strip():
            raise ValueError("api_key is empty")
        self.api_key = key
        self.base_url = base_url.rstrip("/")
        self._transport = Transport(
            key,
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            rate_limits=rate_limits,
            retry=retry,
            on_call=on_call,
            max_connections=max_connections,
            user_agent=_USER_AGENT,
            keep_bodies=keep_bodies,
        )
        self.users = UsersAPI(self._transport)
        self.events = EventsAPI(self._transport)
        self.commerce = CommerceAPI(self._transport)
        self.catalogs = CatalogsAPI(self._transport)
        self.lists = ListsAPI(self._transport)
        self.subscriptions = SubscriptionsAPI(self._transport)

    @property
    def throttle(self) -> Throttle:
        """The per-endpoint pacers (inspect `throttle.pacer(endpoint).interval`)."""
        return self._transport.throttle

    def close(self) -> None:
        """Close pooled connections; the client cannot be used afterwards."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"IterableClient(base_url={self.base_url!r}, api_key={self.api_key!r})"
