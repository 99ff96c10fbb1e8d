"""``/_emulator/`` admin endpoints (same Api-Key; no faults, no rate limits, not logged).

- ``GET  /_emulator/health``            liveness and project type
- ``POST /_emulator/reset``             wipe state, call log, buckets; faults/limits to start-up
- ``GET|PUT /_emulator/faults``         fault injection settings (see ``faults.py``)
- ``GET|PUT /_emulator/limits``         ``{"mode": "real"|"off", "overrides": {...}}``
- ``GET|DELETE /_emulator/calls``       call log (``?since=<seq>&limit=``)
- ``POST /_emulator/users``             seed users: ``{"users": [...]}`` any size, no limits
                                        (their new fields are created whatever the setting)
- ``GET|PUT /_emulator/settings``       project settings: ``{"unknownFields": "allow"|"drop"}``
- ``GET  /_emulator/state``             summary: users, fields, lists, catalogs, events
- ``GET  /_emulator/``                  the same as a small HTML page (``?api_key=`` allowed)
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from iterable_sync.emulator import jsonbody
from iterable_sync.emulator.responses import Json, bad_params
from iterable_sync.emulator.userbatch import UserInput, write_users
from iterable_sync.emulator.users import bulk_body

if TYPE_CHECKING:
    from iterable_sync.emulator.app import Runtime


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise bad_params("Body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_params("Body must be a JSON object")
    return body


async def health(request: Request) -> Response:
    rt = _rt(request)
    return Json(
        {"status": "ok", "projectType": rt.config.project_type, "rateLimits": rt.limiter.mode}
    )


async def reset(request: Request) -> Response:
    await run_in_threadpool(_rt(request).reset)
    return Json({"status": "reset"})


async def faults(request: Request) -> Response:
    rt = _rt(request)
    if request.method == "PUT":
        try:
            return Json(rt.faults.set(await _json(request)))
        except ValidationError as exc:
            raise bad_params(f"Invalid fault settings: {exc.errors(include_url=False)}") from None
    return Json(rt.faults.describe())


async def limits(request: Request) -> Response:
    rt = _rt(request)
    if request.method == "PUT":
        body = await _json(request)
        try:
            rt.limiter.configure(
                str(body.get("mode", rt.limiter.mode)), body.get("overrides") or {}
            )
        except (ValueError, TypeError) as exc:
            raise bad_params(f"Invalid rate-limit settings: {exc}") from None
    return Json(rt.limiter.describe())


async def calls(request: Request) -> Response:
    rt = _rt(request)
    if request.method == "DELETE":
        rt.calls.clear()
        return Json({"calls": []})
    try:
        since = int(request.query_params.get("since", "0"))
        limit = int(request.query_params.get("limit", "1000"))
    except ValueError:
        raise bad_params("since and limit must be integers") from None
    return Json({"calls": rt.calls.since(since, limit)})


async def seed_users(request: Request) -> Response:
    rt = _rt(request)
    body = jsonbody.parse_body(await request.body(), jsonbody.SEED_USERS, request.url.path)
    inputs = [UserInput.from_body(u) for u in body["users"]]
    result = await run_in_threadpool(write_users, rt.project, inputs, create_fields=True)
    return Json(bulk_body(result))


async def settings(request: Request) -> Response:
    """The project's settings; ``unknownFields`` is Iterable's project setting "to allow or
    drop unrecognized fields" that a request without ``createNewFields`` follows."""
    project = _rt(request).project
    if request.method == "PUT":
        body = await _json(request)
        if "unknownFields" in body:
            try:
                project.set_unknown_fields(str(body["unknownFields"]))
            except ValueError as exc:
                raise bad_params(str(exc)) from None
    return Json({"unknownFields": project.unknown_fields})


async def state(request: Request) -> Response:
    return Json(await run_in_threadpool(_rt(request).project.summary))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


async def page(request: Request) -> Response:
    rt = _rt(request)
    summary = await run_in_threadpool(rt.project.summary)
    recent = list(reversed(rt.calls.recent(50)))
    fields = [{"field": k, "type": v} for k, v in summary["fields"].items()]
    events = [{"event": k, "count": v} for k, v in summary["events"]["byName"].items()]
    doc = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Iterable emulator</title><style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}}
th{{background:#f3f3f3}}</style></head><body>
<h1>Iterable emulator</h1>
<p>Project type <b>{html.escape(rt.config.project_type)}</b> &middot;
rate limits <b>{html.escape(rt.limiter.mode)}</b> &middot; users <b>{summary["users"]}</b>
&middot; forgotten <b>{summary["forgotten"]}</b> &middot;
events <b>{summary["events"]["total"]}</b></p>
<h2>Recent calls</h2>
{
        _table(
            recent,
            ["seq", "time", "method", "path", "status", "batchSize", "latencyMs", "code", "fault"],
        )
    }
<h2>User fields</h2>{_table(fields, ["field", "type"])}
<h2>Events</h2>{_table(events, ["event", "count"])}
<h2>Lists</h2>{_table(summary["lists"], ["id", "name", "members"])}
<h2>Catalogs</h2>{_table(summary["catalogs"], ["name", "items"])}
</body></html>"""
    return HTMLResponse(doc)


ADMIN_ROUTES: list[Route] = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/faults", faults, methods=["GET", "PUT"]),
    Route("/_emulator/limits", limits, methods=["GET", "PUT"]),
    Route("/_emulator/calls", calls, methods=["GET", "DELETE"]),
    Route("/_emulator/users", seed_users, methods=["POST"]),
    Route("/_emulator/settings", settings, methods=["GET", "PUT"]),
    Route("/_emulator/state", state, methods=["GET"]),
    Route("/_emulator/", page, methods=["GET"]),
    Route("/_emulator", page, methods=["GET"]),
]
