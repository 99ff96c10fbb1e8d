"""The ASGI application: authentication, faults, rate limits and the call log around routes.

The guard runs in :class:`EmulatorApp` itself, outside Starlette's middleware stack, because
dropping a connection needs the server's own ``send`` (its transport): for every ``/api/``
request it checks the key, decides a fault (before any state is touched), applies the
endpoint's rate limit, runs the route, and records the call — never the key.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from iterable_sync.emulator.admin import ADMIN_ROUTES
from iterable_sync.emulator.config import EmulatorConfig
from iterable_sync.emulator.faults import FaultInjector
from iterable_sync.emulator.limits import RateLimiter
from iterable_sync.emulator.project import Project
from iterable_sync.emulator.responses import GENERIC_ERROR_MSG, ApiError, envelope, rate_limited
from iterable_sync.emulator.routes import API_ROUTES

_CONVERTER = re.compile(r":\w+}")
_HTML_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


class ConnectionDropped(RuntimeError):
    """Raised instead of dropping when the server gives no transport (in-process tests)."""


class CallLog:
    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._calls: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._calls.append({"seq": self._seq, **entry})

    def since(self, seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self._calls if c["seq"] > seq][:limit]

    def recent(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._calls)[-count:]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass
class Runtime:
    config: EmulatorConfig
    project: Project
    limiter: RateLimiter
    faults: FaultInjector
    calls: CallLog
    started: float = field(default_factory=time.time)

    def reset(self) -> None:
        self.project.reset()
        self.calls.clear()
        self.limiter.reset()
        self.limiter.configure(self.config.rate_limits, self.config.rate_limit_overrides)
        self.faults.reset()


def authorised(scope: Scope, api_key: str, allow_query: bool = False) -> bool:
    expected = api_key.encode()
    for name, value in scope["headers"]:
        # Iterable accepts Api-Key and Api_Key (header names are case-insensitive).
        if name in (b"api-key", b"api_key"):
            return hmac.compare_digest(value, expected)
    if allow_query:
        request = Request(scope)
        given = request.query_params.get("api_key", "")
        return hmac.compare_digest(given.encode(), expected)
    return False


async def _drop_connection(scope: Scope) -> None:
    """Close the socket without a byte of answer: the client sees a transport error."""
    raw_send = scope.get("emulator.raw_send")
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("fault injection dropped the connection")
    transport.close()
    # Let uvicorn see connection_lost, so it does not try to answer on its own.
    for _ in range(3):
        await asyncio.sleep(0)


def _fault_response(kind: str) -> Response:
    if kind == "429":
        return rate_limited("Exceeded rate limit.", 1).response()
    if kind == "503":
        return HTMLResponse(_HTML_503, 503)
    return envelope(GENERIC_ERROR_MSG, "GenericError", None, 500)


class EmulatorApp(Starlette):
    runtime: Runtime

    def _route_key(self, scope: Scope) -> str | None:
        for route in API_ROUTES:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return f"{scope['method']} {_CONVERTER.sub('}', route.path)}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["emulator.raw_send"] = send
        path: str = scope["path"]
        if path.startswith("/api/"):
            await self._api(scope, receive, send)
            return
        if path.startswith("/_emulator") and not authorised(
            scope, self.runtime.config.api_key, allow_query=path.rstrip("/") == "/_emulator"
        ):
            await envelope("Invalid API key", "BadApiKey", None, 401)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt = self.runtime
        started = time.perf_counter()
        meta: dict[str, Any] = scope.setdefault("emulator.meta", {})
        seen: dict[str, Any] = {"status": None, "body": bytearray()}
        fault: str | None = None

        def log(status: int | None, code: str | None = None) -> None:
            rt.calls.add(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "batchSize": meta.get("batch"),
                    "keys": meta.get("keys"),
                    "latencyMs": round((time.perf_counter() - started) * 1000, 2),
                    "code": code,
                    "fault": fault,
                }
            )

        async def answer(response: Response, code: str | None) -> None:
            await response(scope, receive, send)
            log(response.status_code, code)

        if not authorised(scope, rt.config.api_key):
            await answer(envelope("Invalid API key", "BadApiKey", None, 401), "BadApiKey")
            return
        key = self._route_key(scope)
        if key is not None:
            decision = rt.faults.decide(scope["path"])
            if decision.delay_ms:
                await asyncio.sleep(decision.delay_ms / 1000)
            if decision.kind != "ok":
                fault = decision.kind
            if decision.kind in ("429", "500", "503"):
                code = {"429": "RateLimitExceeded", "500": "GenericError"}.get(decision.kind)
                await answer(_fault_response(decision.kind), code)
                return
            if decision.kind == "drop":
                log(None)
                await _drop_connection(scope)
                return
            try:
                if rt.limiter.persists(key):  # a daily cap writes to SQLite: off the loop
                    await run_in_threadpool(rt.limiter.check, key)
                else:
                    rt.limiter.check(key)
            except ApiError as exc:
                await answer(exc.response(), exc.code)
                return
        swallow = fault == "drop_after_apply"

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif (
                message["type"] == "http.response.body"
                and (seen["status"] or 0) >= 400
                and len(seen["body"]) < 65_536
            ):
                seen["body"] += message.get("body", b"")
            if not swallow:
                await send(message)

        await super().__call__(scope, receive, capture)
        if swallow:
            log(None)
            await _drop_connection(scope)
            return
        log(seen["status"], _error_code(bytes(seen["body"])))


def _error_code(body: bytes) -> str | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed.get("code") if isinstance(parsed, dict) else None


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return envelope("Method not allowed", "BadParams", None, 405)
    return envelope(f"Route not found: {request.url.path}", "NotFound", None, exc.status_code)


def create_app(config: EmulatorConfig) -> Starlette:
    """An emulator app for ``config``: state opens now, closes on lifespan shutdown."""
    project = Project(config)
    limiter = RateLimiter(
        config.rate_limits,
        config.rate_limit_overrides,
        daily_history=project.store.load_quota(time.time() - 86_400),
        on_daily=project.store.record_quota,
    )
    runtime = Runtime(
        config,
        project,
        limiter,
        FaultInjector(config.faults, config.latency_ms),
        CallLog(config.call_log_size),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        project.store.close()

    routes: list[Route] = [*API_ROUTES, *ADMIN_ROUTES]
    app = EmulatorApp(
        routes=routes,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.runtime = runtime
    app.state.runtime = runtime
    return app
