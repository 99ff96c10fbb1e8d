"""Iterable's response envelope and the error type every handler raises.

Every non-list answer is ``{"msg", "code", "params"}``; errors are raised as :class:`ApiError`
so handlers stay linear and the route layer renders them in one place.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json
from starlette.responses import JSONResponse, Response

GENERIC_ERROR_MSG = (
    "An error occured. Please try again later. If problem persists, please contact your CSM"
)


class Json(JSONResponse):
    """JSON answers that never fail on an echoed infinite number (rendered as null)."""

    def render(self, content: Any) -> bytes:
        return to_json(content, inf_nan_mode="null")


class ApiError(Exception):
    """An Iterable error answer: HTTP status, envelope code, message and params."""

    def __init__(
        self,
        status: int,
        code: str,
        msg: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.params = params
        self.headers = headers or {}

    def response(self) -> Response:
        return envelope(self.msg, self.code, self.params, self.status, self.headers)


def envelope(
    msg: str = "",
    code: str = "Success",
    params: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return Json({"msg": msg, "code": code, "params": params}, status, headers)


def success(msg: str = "", params: dict[str, Any] | None = None, status: int = 200) -> JSONResponse:
    return envelope(msg, "Success", params, status)


def bad_params(msg: str, params: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, "BadParams", msg, params)


def not_found(msg: str) -> ApiError:
    return ApiError(404, "NotFound", msg)


def rate_limited(msg: str, retry_after: int) -> ApiError:
    return ApiError(429, "RateLimitExceeded", msg, None, {"Retry-After": str(retry_after)})
