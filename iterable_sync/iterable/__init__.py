"""A small typed client for Iterable's REST API, in the manner of httpx.

Self-contained: imports nothing from Dagster or the rest of `iterable_sync`.

    from iterable_sync.iterable import IterableClient, UserUpdate

    with IterableClient(api_key) as client:
        client.users.bulk_update([UserUpdate(email="a@example.com", data_fields={"x": 1})])

Implementation modules are private (`_transport`, `_limits`, …); this package's
`__all__` is the public surface.
"""

from ._base import MAX_BATCH, MAX_BULK_BODY_BYTES
from ._catalogs import CATALOG_FIELD_TYPES, CatalogsAPI
from ._commerce import CommerceAPI
from ._encoding import RawJSON
from ._events import EventsAPI
from ._exceptions import (
    APIError,
    AuthError,
    BadJsonBodyError,
    BadRequestError,
    BatchLimitError,
    BatchTooLargeError,
    ConflictError,
    FieldTypeError,
    FieldTypeMismatchError,
    IterableError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ._limits import (
    DEFAULT_RATE_LIMITS,
    DOCUMENTED_RATE_LIMITS,
    ENDPOINTS,
    UNSTATED_LIMIT,
    RateLimit,
    RateLimits,
    Throttle,
)
from ._lists import ListsAPI
from ._retry import DEFAULT_RETRY, RetryPolicy
from ._subscriptions import (
    BulkSubscriptionsResult,
    Channel,
    MessageType,
    SubscriptionGroup,
    SubscriptionsAPI,
    SubscriptionUpdate,
)
from ._transport import CallRecord
from ._users import UsersAPI
from .client import EU_BASE_URL, US_BASE_URL, IterableClient
from .models import (
    BulkTrackResult,
    BulkUpdateResult,
    CartUpdate,
    CatalogFieldMappings,
    CatalogInfo,
    CatalogItem,
    Event,
    FailedUpdates,
    IterableEnvelope,
    ListInfo,
    ListSubscriber,
    Purchase,
    PurchaseItem,
    SubscribeResult,
    User,
    UserFields,
    UserUpdate,
)

__all__ = [
    "CATALOG_FIELD_TYPES",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_RETRY",
    "DOCUMENTED_RATE_LIMITS",
    "ENDPOINTS",
    "EU_BASE_URL",
    "MAX_BATCH",
    "MAX_BULK_BODY_BYTES",
    "UNSTATED_LIMIT",
    "US_BASE_URL",
    "APIError",
    "AuthError",
    "BadJsonBodyError",
    "BadRequestError",
    "BatchLimitError",
    "BatchTooLargeError",
    "BulkSubscriptionsResult",
    "BulkTrackResult",
    "BulkUpdateResult",
    "CallRecord",
    "CartUpdate",
    "CatalogFieldMappings",
    "CatalogInfo",
    "CatalogItem",
    "CatalogsAPI",
    "Channel",
    "CommerceAPI",
    "ConflictError",
    "Event",
    "EventsAPI",
    "FailedUpdates",
    "FieldTypeError",
    "FieldTypeMismatchError",
    "IterableClient",
    "IterableEnvelope",
    "IterableError",
    "ListInfo",
    "ListSubscriber",
    "ListsAPI",
    "MessageType",
    "NotFoundError",
    "PayloadError",
    "Purchase",
    "PurchaseItem",
    "RateLimit",
    "RateLimitedError",
    "RateLimits",
    "RawJSON",
    "RetryPolicy",
    "ServerError",
    "SubscribeResult",
    "SubscriptionGroup",
    "SubscriptionUpdate",
    "SubscriptionsAPI",
    "Throttle",
    "TransportError",
    "UnexpectedResponseError",
    "User",
    "UserFields",
    "UserUpdate",
    "UsersAPI",
]
