"""The ``/api/`` routes: decode the request, run the rule in a worker thread, answer.

SQLite work runs in the thread pool so the event loop keeps serving (and injecting
latency into) other requests; the store's lock serialises the writes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from iterable_sync.emulator import catalogs, events, jsonbody, lists, subscriptions, users
from iterable_sync.emulator.project import Project
from iterable_sync.emulator.responses import ApiError, Json, bad_params, success

T = TypeVar("T")
BULK_MAX_BYTES = 4 * 1024 * 1024  # users/bulkUpdate's documented body cap (also trackBulk)
MAX_BODY_BYTES = 16 * 1024 * 1024
_INLINE_PARSE_BYTES = 16 * 1024


def _project(request: Request) -> Project:
    return request.app.state.runtime.project


def _note_batch(request: Request, size: int) -> None:
    request.scope.setdefault("emulator.meta", {})["batch"] = size


async def _body(
    request: Request, spec: jsonbody.F, max_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > max_bytes:
        raise ApiError(
            413, "BatchTooLarge", f"Request body of {len(raw)} bytes exceeds {max_bytes} bytes"
        )
    if len(raw) < _INLINE_PARSE_BYTES:  # a thread hop costs more than parsing a small body
        return jsonbody.parse_body(raw, spec, request.url.path)
    return await run_in_threadpool(jsonbody.parse_body, raw, spec, request.url.path)


async def _run(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


def _int_query(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise bad_params(f"Missing required query parameter {name}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_params(f"Query parameter {name} must be an integer: {raw}") from None
    if abs(value) >= 2**63:
        raise bad_params(f"Query parameter {name} is out of range: {raw}")
    return value


def _bool_query(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    return default if raw is None else raw.lower() == "true"


# --- users ------------------------------------------------------------------------------


def _note_keys(request: Request, body: dict[str, Any]) -> None:
    """The call log shows which identifiers a single-user write named, and where (top
    level or ``dataFields``): never their values, so tests can check a documented request
    shape (e.g. support article 217502386's ``dataFields.email``)."""
    data = body.get("dataFields") or {}
    keys = [k for k in body if k != "dataFields"]
    keys += [f"dataFields.{k}" for k in ("email", "userId") if k in data]
    request.scope.setdefault("emulator.meta", {})["keys"] = sorted(keys)


async def users_update(request: Request) -> Response:
    body = await _body(request, jsonbody.UPDATE_USER)
    _note_batch(request, 1)
    _note_keys(request, body)
    await _run(users.update_user, _project(request), body)
    return success()


async def users_bulk_update(request: Request) -> Response:
    body = await _body(request, jsonbody.BULK_UPDATE, BULK_MAX_BYTES)
    _note_batch(request, len(body["users"]))
    return Json(await _run(users.bulk_update, _project(request), body))


async def users_update_email(request: Request) -> Response:
    body = await _body(request, jsonbody.UPDATE_EMAIL)
    _note_keys(request, body)
    await _run(users.update_email, _project(request), body)
    return success()


async def users_get_by_email_path(request: Request) -> Response:
    email = request.path_params["email"]
    return Json(await _run(users.get_user, _project(request), email))


async def users_get_by_email_query(request: Request) -> Response:
    email = request.query_params.get("email")
    if email is None:
        raise bad_params("Missing required query parameter email")
    return Json(await _run(users.get_user, _project(request), email))


async def users_get_by_user_id(request: Request) -> Response:
    user_id = request.path_params.get("userId") or request.query_params.get("userId")
    if not user_id:
        raise bad_params("Missing required parameter userId")
    return Json(await _run(users.get_user, _project(request), None, user_id))


async def users_delete_by_email(request: Request) -> Response:
    await _run(users.delete_by_email, _project(request), request.path_params["email"])
    return success()


async def users_delete_by_user_id(request: Request) -> Response:
    msg = await _run(users.delete_by_user_id, _project(request), request.path_params["userId"])
    return success(msg)


async def users_forget(request: Request) -> Response:
    body = await _body(request, jsonbody.USER_REQUEST)
    await _run(users.forget, _project(request), body, True)
    return success()


async def users_unforget(request: Request) -> Response:
    body = await _body(request, jsonbody.USER_REQUEST)
    await _run(users.forget, _project(request), body, False)
    return success()


async def users_get_fields(request: Request) -> Response:
    return Json(users.get_fields(_project(request)))


# --- events and commerce ---------------------------------------------------------------


async def events_track(request: Request) -> Response:
    body = await _body(request, jsonbody.TRACK)
    _note_batch(request, 1)
    msg, params = await _run(events.track, _project(request), body)
    return success(msg, params)


async def events_track_bulk(request: Request) -> Response:
    body = await _body(request, jsonbody.TRACK_BULK, BULK_MAX_BYTES)
    _note_batch(request, len(body["events"]))
    return Json(await _run(events.track_bulk, _project(request), body))


async def commerce_track_purchase(request: Request) -> Response:
    body = await _body(request, jsonbody.PURCHASE)
    _note_batch(request, 1)
    msg, params = await _run(events.track_purchase, _project(request), body)
    return success(msg, params)


async def commerce_update_cart(request: Request) -> Response:
    body = await _body(request, jsonbody.CART)
    _note_batch(request, 1)
    await _run(events.update_cart, _project(request), body)
    return success()


async def events_get(request: Request) -> Response:
    limit = _int_query(request, "limit", 30)
    project = _project(request)
    if "userId" in request.path_params:
        found = await _run(events.get_events, project, None, request.path_params["userId"], limit)
    else:
        found = await _run(events.get_events, project, request.path_params["email"], None, limit)
    return Json(found)


# --- lists -----------------------------------------------------------------------------


async def lists_get(request: Request) -> Response:
    return Json(await _run(lists.get_lists, _project(request)))


async def lists_create(request: Request) -> Response:
    body = await _body(request, jsonbody.CREATE_LIST)
    return Json(await _run(lists.create_list, _project(request), body))


async def lists_delete(request: Request) -> Response:
    msg = await _run(lists.delete_list, _project(request), request.path_params["listId"])
    return success(msg)


async def lists_subscribe(request: Request) -> Response:
    body = await _body(request, jsonbody.SUBSCRIBE, BULK_MAX_BYTES)
    _note_batch(request, len(body["subscribers"]))
    return Json(await _run(lists.subscribe, _project(request), body))


async def lists_unsubscribe(request: Request) -> Response:
    body = await _body(request, jsonbody.UNSUBSCRIBE, BULK_MAX_BYTES)
    _note_batch(request, len(body["subscribers"]))
    return Json(await _run(lists.unsubscribe, _project(request), body))


async def lists_get_users(request: Request) -> Response:
    list_id = _int_query(request, "listId")
    prefer = _bool_query(request, "preferUserId")
    text = await _run(lists.list_users, _project(request), list_id, prefer)
    return PlainTextResponse(text)


async def lists_size(request: Request) -> Response:
    text = await _run(lists.list_size, _project(request), request.path_params["listId"])
    return PlainTextResponse(text)


# --- catalogs --------------------------------------------------------------------------


async def catalogs_list(request: Request) -> Response:
    page, size = _int_query(request, "page", 1), _int_query(request, "pageSize", 10)
    return success(params=await _run(catalogs.list_catalogs, _project(request), page, size))


async def catalog_create(request: Request) -> Response:
    name = request.path_params["catalogName"]
    params = await _run(catalogs.create_catalog, _project(request), name)
    return success(params=params, status=201)


async def catalog_delete(request: Request) -> Response:
    return success(
        await _run(catalogs.delete_catalog, _project(request), request.path_params["catalogName"])
    )


async def catalog_items_upsert(request: Request) -> Response:
    body = await _body(request, jsonbody.CATALOG_BULK, BULK_MAX_BYTES)
    _note_batch(request, len(body["documents"]))
    name = request.path_params["catalogName"]
    return success(await _run(catalogs.bulk_upsert, _project(request), name, body), status=202)


async def catalog_items_delete(request: Request) -> Response:
    body = await _body(request, jsonbody.CATALOG_DELETE)
    _note_batch(request, len(body["itemIds"]))
    name = request.path_params["catalogName"]
    msg = await _run(catalogs.bulk_delete, _project(request), name, body["itemIds"])
    return success(msg, status=202)


async def catalog_items_list(request: Request) -> Response:
    page, size = _int_query(request, "page", 1), _int_query(request, "pageSize", 10)
    order = request.query_params.get("orderBy", "itemId")
    # Spec: "Sort results by ascending (Defaults to false)."
    asc = _bool_query(request, "sortAscending", False)
    name = request.path_params["catalogName"]
    params = await _run(catalogs.list_items, _project(request), name, page, size, order, asc)
    return success(params=params)


async def catalog_item(request: Request) -> Response:
    project, name = _project(request), request.path_params["catalogName"]
    item_id = request.path_params["itemId"]
    if request.method == "GET":
        return success(params=await _run(catalogs.get_item, project, name, item_id))
    if request.method == "DELETE":
        return success(await _run(catalogs.delete_item, project, name, item_id), status=202)
    if request.method == "PUT":
        body = await _body(request, jsonbody.CATALOG_PUT)
        value, merge = body["value"], False
    else:
        body = await _body(request, jsonbody.CATALOG_PATCH)
        value, merge = body["update"], True
    _note_batch(request, 1)
    params = await _run(catalogs.put_item, project, name, item_id, value, merge)
    return success(params=params, status=202)


async def catalog_field_mappings(request: Request) -> Response:
    project, name = _project(request), request.path_params["catalogName"]
    if request.method == "GET":
        # Recorded (research §21): the answer is wrapped in params.
        return success(params=await _run(catalogs.get_field_mappings, project, name))
    body = await _body(request, jsonbody.CATALOG_MAPPINGS)
    await _run(catalogs.set_field_mappings, project, name, body)
    return success()


# --- subscriptions ---------------------------------------------------------------------


async def users_update_subscriptions(request: Request) -> Response:
    body = await _body(request, jsonbody.UPDATE_SUBSCRIPTIONS)
    _note_batch(request, 1)
    await _run(subscriptions.update_subscriptions, _project(request), body)
    return success()


async def users_bulk_update_subscriptions(request: Request) -> Response:
    body = await _body(request, jsonbody.BULK_UPDATE_SUBSCRIPTIONS, BULK_MAX_BYTES)
    _note_batch(request, len(body["updateSubscriptionsRequests"]))
    return Json(await _run(subscriptions.bulk_update_subscriptions, _project(request), body))


def _group_id(request: Request) -> int:
    raw = request.path_params["subscriptionGroupId"]
    try:
        value = int(raw)
    except ValueError:
        raise bad_params(f"Subscription Group Id must be numeric: {raw}") from None
    if not 0 < value < 2**63:
        raise bad_params(f"Subscription Group Id is out of range: {raw}")
    return value


async def subscriptions_bulk_action(request: Request) -> Response:
    body = await _body(request, jsonbody.SUBSCRIPTION_ACTION, BULK_MAX_BYTES)
    emails, user_ids = body.get("users") or [], body.get("usersByUserId") or []
    _note_batch(request, len(emails) + len(user_ids))
    # Spec: action "subscribe or unsubscribe", default "subscribe".
    action = request.query_params.get("action", "subscribe")
    group, group_id = request.path_params["subscriptionGroup"], _group_id(request)
    params = await _run(
        subscriptions.group_action, _project(request), group, group_id, action, emails, user_ids
    )
    return success(params=params, status=202)


async def subscriptions_single(request: Request) -> Response:
    group, group_id = request.path_params["subscriptionGroup"], _group_id(request)
    email, user_id = request.path_params.get("userEmail"), request.path_params.get("userId")
    action = "subscribe" if request.method == "PATCH" else "unsubscribe"
    _note_batch(request, 1)
    await _run(
        subscriptions.group_action,
        _project(request),
        group,
        group_id,
        action,
        [email] if email is not None else [],
        [user_id] if user_id is not None else [],
        True,
    )
    return success(status=202)


async def channels_get(request: Request) -> Response:
    return Json(subscriptions.get_channels())


async def message_types_get(request: Request) -> Response:
    return Json(subscriptions.get_message_types())


# Specific paths come before the {email:path} catch-alls.
API_ROUTES: list[Route] = [
    Route("/api/users/update", users_update, methods=["POST"]),
    Route("/api/users/bulkUpdate", users_bulk_update, methods=["POST"]),
    Route("/api/users/updateEmail", users_update_email, methods=["POST"]),
    Route("/api/users/updateSubscriptions", users_update_subscriptions, methods=["POST"]),
    Route("/api/users/bulkUpdateSubscriptions", users_bulk_update_subscriptions, methods=["POST"]),
    Route("/api/users/forget", users_forget, methods=["POST"]),
    Route("/api/users/unforget", users_unforget, methods=["POST"]),
    Route("/api/users/getFields", users_get_fields, methods=["GET"]),
    Route("/api/users/getByEmail", users_get_by_email_query, methods=["GET"]),
    Route("/api/users/byUserId", users_get_by_user_id, methods=["GET"]),
    Route("/api/users/byUserId/{userId:path}", users_get_by_user_id, methods=["GET"]),
    Route("/api/users/byUserId/{userId:path}", users_delete_by_user_id, methods=["DELETE"]),
    Route("/api/users/{email:path}", users_get_by_email_path, methods=["GET"]),
    Route("/api/users/{email:path}", users_delete_by_email, methods=["DELETE"]),
    Route("/api/events/track", events_track, methods=["POST"]),
    Route("/api/events/trackBulk", events_track_bulk, methods=["POST"]),
    Route("/api/events/byUserId/{userId:path}", events_get, methods=["GET"]),
    Route("/api/events/{email:path}", events_get, methods=["GET"]),
    Route("/api/commerce/trackPurchase", commerce_track_purchase, methods=["POST"]),
    Route("/api/commerce/updateCart", commerce_update_cart, methods=["POST"]),
    Route("/api/lists", lists_get, methods=["GET"]),
    Route("/api/lists", lists_create, methods=["POST"]),
    Route("/api/lists/getUsers", lists_get_users, methods=["GET"]),
    Route("/api/lists/subscribe", lists_subscribe, methods=["POST"]),
    Route("/api/lists/unsubscribe", lists_unsubscribe, methods=["POST"]),
    Route("/api/lists/{listId:int}", lists_delete, methods=["DELETE"]),
    Route("/api/lists/{listId:int}/size", lists_size, methods=["GET"]),
    Route("/api/catalogs", catalogs_list, methods=["GET"]),
    Route("/api/catalogs/{catalogName}", catalog_create, methods=["POST"]),
    Route("/api/catalogs/{catalogName}", catalog_delete, methods=["DELETE"]),
    Route("/api/catalogs/{catalogName}/items", catalog_items_list, methods=["GET"]),
    Route("/api/catalogs/{catalogName}/items", catalog_items_upsert, methods=["POST"]),
    Route("/api/catalogs/{catalogName}/items", catalog_items_delete, methods=["DELETE"]),
    Route(
        "/api/catalogs/{catalogName}/fieldMappings",
        catalog_field_mappings,
        methods=["GET", "PUT"],
    ),
    Route(
        "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}",
        subscriptions_bulk_action,
        methods=["PUT"],
    ),
    Route(
        "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{userEmail:path}",
        subscriptions_single,
        methods=["PATCH", "DELETE"],
    ),
    Route(
        "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/byUserId/{userId:path}",
        subscriptions_single,
        methods=["PATCH", "DELETE"],
    ),
    Route("/api/channels", channels_get, methods=["GET"]),
    Route("/api/messageTypes", message_types_get, methods=["GET"]),
    Route(
        "/api/catalogs/{catalogName}/items/{itemId}",
        catalog_item,
        methods=["GET", "PUT", "PATCH", "DELETE"],
    ),
]
