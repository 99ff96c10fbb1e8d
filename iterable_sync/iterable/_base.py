"""What every area sub-client shares: the transport, documented limits, input coercion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._exceptions import BatchLimitError, UnexpectedResponseError
from ._transport import Reply, Transport
from .models import IterableEnvelope

__all__ = [
    "MAX_BATCH",
    "MAX_BULK_BODY_BYTES",
    "Area",
    "check_batch",
    "coerce_all",
    "envelope",
    "parse_model",
    "unwrap_params",
]

#: Items per bulk request (users, events, list subscribers, catalog items). Iterable
#: documents 1,000 for catalogs; integrations maintained with Iterable use the same.
MAX_BATCH = 1000
#: Body cap documented for users/bulkUpdate (and assumed for trackBulk). Decimal MB,
#: the stricter reading, as RudderStack's Iterable destination uses.
MAX_BULK_BODY_BYTES = 4_000_000

M = TypeVar("M", bound=BaseModel)


def coerce_all(model: type[M], items: Iterable[M | Mapping[str, Any]]) -> list[M]:
    """Accept models or plain mappings (validated into the model)."""
    return [i if isinstance(i, model) else model.model_validate(i) for i in items]


def check_batch(count: int, endpoint: str, *, limit: int = MAX_BATCH) -> None:
    if count > limit:
        raise BatchLimitError("items", count, limit, endpoint)


def parse_model(model: type[M], data: Any, reply: Reply) -> M:
    """Validate a response body; a shape we cannot read becomes an IterableError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise UnexpectedResponseError(
            f"response does not match {model.__name__} "
            f"({exc.error_count()} problem(s); first: {where}: {first['msg']})",
            endpoint=reply.endpoint,
            status=reply.status,
        ) from exc


def unwrap_params(body: dict[str, Any]) -> Any:
    """Catalog reads come wrapped in the envelope's `params` on the real API, bare in
    the spec; accept both."""
    if "code" in body and "msg" in body and isinstance(body.get("params"), dict):
        return body["params"]
    return body


class Area:
    """Base of the sub-clients (`client.users`, `client.events`, …)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport


def envelope(reply: Reply) -> IterableEnvelope:
    """The `{"msg", "code", "params"}` of a successful write.

    Success was already decided by the HTTP status; the envelope is information, so a
    2xx without a JSON body still counts as success.
    """
    if reply.is_json and isinstance(reply.data, dict):
        return parse_model(IterableEnvelope, reply.data, reply)
    return IterableEnvelope(msg=reply.text)
