"""The one place that talks HTTP: auth, pacing, retries, error mapping and call records.

Every typed method in the area modules ends in `Transport.call`, so rate limiting,
retrying and accounting behave the same for every endpoint.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from tenacity import RetryCallState

from ._encoding import dumps
from ._exceptions import (
    APIError,
    AuthError,
    BadJsonBodyError,
    BadRequestError,
    BatchLimitError,
    BatchTooLargeError,
    ConflictError,
    FieldTypeMismatchError,
    IterableError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ._limits import RateLimits, Throttle
from ._retry import RetryPolicy, parse_retry_after

__all__ = ["CallRecord", "Reply", "Transport"]

logger = logging.getLogger("iterable_sync.iterable")

#: Transport failures worth another attempt. Others (an unsupported URL scheme, a
#: request httpx could not even build) would fail identically every time.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_REDACTED = "**********"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt, for accounting. Never holds the key; holds no body unless the
    client was made with `keep_bodies=True`.

    `retried` is True when this attempt failed and the client tried again; the last
    attempt of a call (success or final failure) has `retried=False`.

    With `keep_bodies`, `request_body` and `response_body` are the bytes that went and came
    back (references to what the client holds anyway, not copies), for a request debugger;
    the response's are scrubbed of the key, like every server text the client quotes, and
    `error_message` says why an attempt got no response (transport errors).
    """

    endpoint: str  # route template, e.g. "/api/catalogs/{catalogName}/items"
    method: str
    status: int | None  # None: no HTTP response (timeout, connection error)
    latency_ms: float
    batch_size: int | None
    success_count: int | None
    fail_count: int | None
    error_code: str | None  # Iterable's code, or the transport error's class name
    attempt: int  # 1-based
    retried: bool
    throttled_ms: float = 0.0  # time spent waiting for the rate limiter first
    started_at: float = 0.0  # epoch seconds when the request left
    request_body: bytes | None = None
    response_body: bytes | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful response, its body parsed once."""

    status: int
    text: str
    data: Any  # parsed JSON, or None when the body is not JSON
    is_json: bool
    endpoint: str

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or `UnexpectedResponseError`."""
        if not (self.is_json and isinstance(self.data, dict)):
            raise UnexpectedResponseError(
                f"expected a JSON object, got {self.text[:200]!r}",
                endpoint=self.endpoint,
                status=self.status,
            )
        return self.data


class _ApiKeyAuth(httpx.Auth):
    """Adds `Api-Key` to each request as it leaves.

    The key is deliberately not in the client's default headers: httpx masks only
    `Authorization` when headers are printed, so `repr(client.headers)` would show it.
    """

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Api-Key"] = self._key.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return f"_ApiKeyAuth(key={_REDACTED!r})"


def _error_class(status: int, code: str | None) -> type[APIError]:
    # HTTP status decides first: real error responses have carried code "Success".
    by_status: dict[int, type[APIError]] = {
        401: AuthError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitedError,
        413: BatchTooLargeError,
    }
    if status in by_status:
        return by_status[status]
    if status >= 500:
        return ServerError
    if status == 400:
        by_code: dict[str, type[APIError]] = {
            "RequestFieldsTypesMismatched": FieldTypeMismatchError,
            "BadJsonBody": BadJsonBodyError,
            "BatchTooLarge": BatchTooLargeError,
        }
        return by_code.get(code or "", BadRequestError)
    return APIError


def _parse(response: httpx.Response) -> tuple[Any, bool]:
    if not response.content:
        return None, False
    try:
        return json.loads(response.content), True
    except ValueError:  # plain text ("Json error: ...", a proxy's HTML page, getUsers)
        return None, False


class Transport:
    """Owns the `httpx.Client`, the rate limiter and the retry policy of one client."""

    def __init__(
        self,
        api_key: SecretStr,
        *,
        base_url: str,
        timeout: float | httpx.Timeout,
        transport: httpx.BaseTransport | None,
        rate_limits: RateLimits,
        retry: RetryPolicy,
        on_call: Callable[[CallRecord], None] | None,
        max_connections: int,
        user_agent: str,
        keep_bodies: bool = False,
    ) -> None:
        self._key = api_key
        self._keep_bodies = keep_bodies
        self._retry = retry
        self._on_call = on_call
        self.throttle = Throttle(rate_limits)
        self._http = httpx.Client(
            base_url=base_url,
            auth=_ApiKeyAuth(api_key),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": user_agent},
        )

    def close(self) -> None:
        self._http.close()

    # --- one call, several attempts -------------------------------------------------

    def call(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str | int] | None = None,
        body: Any = None,
        query: Mapping[str, str | int | bool] | None = None,
        batch_size: int | None = None,
        max_body_bytes: int | None = None,
    ) -> Reply:
        """Send `method route` with retries; returns the 2xx reply or raises."""
        endpoint = f"{method} {route}"
        url = route.format_map({k: quote(str(v), safe="@") for k, v in (path or {}).items()})
        content = None if body is None else dumps(body)
        if max_body_bytes is not None and content is not None and len(content) > max_body_bytes:
            raise BatchLimitError("bytes of JSON body", len(content), max_body_bytes, endpoint)
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in (query or {}).items()}

        attempt = 0
        pending: CallRecord | None = None

        def once() -> Reply:
            nonlocal attempt, pending
            attempt += 1
            reply, pending, error = self._attempt(
                method, route, url, content, params, batch_size, attempt
            )
            if error is not None:
                error.attempts = attempt
                raise error
            assert reply is not None
            return reply

        def before_sleep(state: RetryCallState) -> None:
            nonlocal pending
            if pending is not None:
                self._emit(replace(pending, retried=True))
                pending = None
            exc = state.outcome.exception() if state.outcome else None
            logger.warning(
                "%s (attempt %d); retrying in %.2f s",
                exc,
                state.attempt_number,
                state.upcoming_sleep,
            )

        try:
            return self._retry.retrying(before_sleep)(once)
        finally:
            if pending is not None:
                self._emit(pending)

    # --- one attempt ----------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        route: str,
        url: str,
        content: bytes | None,
        params: Mapping[str, Any],
        batch_size: int | None,
        attempt: int,
    ) -> tuple[Reply | None, CallRecord, IterableError | None]:
        endpoint = f"{method} {route}"
        throttled = self.throttle.acquire(endpoint)
        record = CallRecord(
            endpoint=route,
            method=method,
            status=None,
            latency_ms=0.0,
            batch_size=batch_size,
            success_count=None,
            fail_count=None,
            error_code=None,
            attempt=attempt,
            retried=False,
            throttled_ms=round(throttled * 1000, 3),
            started_at=time.time(),
            request_body=content if self._keep_bodies else None,
        )
        headers = {"Content-Type": "application/json"} if content is not None else None
        started = time.perf_counter()
        try:
            response = self._http.request(
                method, url, content=content, params=params or None, headers=headers
            )
        except httpx.RequestError as exc:  # transport failures, undecodable bodies
            latency = (time.perf_counter() - started) * 1000
            error = TransportError(
                self._scrub(f"{type(exc).__name__}: {exc}"),
                endpoint=endpoint,
                retryable=isinstance(exc, _TRANSIENT),
            )
            error.__cause__ = exc
            record = replace(
                record,
                latency_ms=round(latency, 3),
                error_code=type(exc).__name__,
                error_message=str(error) if self._keep_bodies else None,
            )
            return None, record, error
        latency = round((time.perf_counter() - started) * 1000, 3)
        data, is_json = _parse(response)
        record = replace(
            record,
            status=response.status_code,
            latency_ms=latency,
            response_body=self._scrub_bytes(response.content) if self._keep_bodies else None,
        )
        logger.debug("%s -> %d in %.1f ms", endpoint, response.status_code, latency)

        if response.is_success:
            counts = data if isinstance(data, dict) else {}
            success, fail = counts.get("successCount"), counts.get("failCount")
            record = replace(
                record,
                success_count=success if isinstance(success, int) else None,
                fail_count=fail if isinstance(fail, int) else None,
            )
            reply = Reply(response.status_code, response.text, data, is_json, endpoint)
            return reply, record, None

        error = self._api_error(response, data, is_json, endpoint)
        return None, replace(record, error_code=error.code), error

    def _api_error(
        self, response: httpx.Response, data: Any, is_json: bool, endpoint: str
    ) -> APIError:
        code: str | None = None
        params: dict[str, Any] | None = None
        if is_json and isinstance(data, dict):
            raw_code = data.get("code")
            code = raw_code if isinstance(raw_code, str) else None
            # Iterable's envelope says "msg"; its catalog service answers with
            # {"error", "message", "code", "data"} instead.
            msg = data.get("msg") or data.get("message") or ""
            raw_params = data.get("params")
            params = raw_params if isinstance(raw_params, dict) else None
        else:
            msg = response.text.strip() or response.reason_phrase
        cls = _error_class(response.status_code, code)
        return cls(
            response.status_code,
            code,
            self._scrub(str(msg)),
            self._scrub(params),
            endpoint=endpoint,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    # --- helpers --------------------------------------------------------------------

    def _scrub(self, value: Any) -> Any:
        """Remove the key from server text we quote, in case a proxy ever echoes it."""
        secret = self._key.get_secret_value()
        if isinstance(value, str):
            return value.replace(secret, _REDACTED) if secret else value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        return value

    def _scrub_bytes(self, content: bytes) -> bytes:
        """`_scrub` for a body as it came (bytes): the same bytes when the key is not in it."""
        secret = self._key.get_secret_value().encode()
        if secret and secret in content:
            return content.replace(secret, _REDACTED.encode())
        return content

    def _emit(self, record: CallRecord) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(record)
        except Exception:
            # Accounting must never change the outcome of a call that already happened.
            logger.exception("on_call callback failed for %s %s", record.method, record.endpoint)
