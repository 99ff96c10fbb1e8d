"""Every error the client raises, rooted in one class so callers catch broad or narrow.

```
IterableError
├── PayloadError (also ValueError)      refused before sending: nothing went out
│   └── BatchLimitError                 > 1,000 items, > 4 MB body, catalog item > 30 KB
├── TransportError                      no usable response: connection failed, timed out
├── UnexpectedResponseError             a 2xx whose body is not what the endpoint documents
└── APIError(status, code, msg, params) any other non-2xx answer (403, 405, …)
    ├── AuthError                       401 (BadApiKey): wrong key, region or key type
    ├── BadRequestError                 400
    │   ├── FieldTypeMismatchError      code RequestFieldsTypesMismatched
    │   ├── BadJsonBodyError            code BadJsonBody
    │   └── BatchTooLargeError          code BatchTooLarge, or HTTP 413
    ├── NotFoundError                   404
    ├── ConflictError                   409: forgotten user, email/userId conflict
    ├── RateLimitedError                429, carries retry_after
    └── ServerError                     5xx
```

Which of these the client retries is decided in `_retry.py` (429, 5xx and transient
transport errors); every other error reaches the caller on its first occurrence.

No message built here ever contains the API key: the key only travels in a request
header, and `_transport.py` additionally scrubs it from any server text it quotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIError",
    "AuthError",
    "BadJsonBodyError",
    "BadRequestError",
    "BatchLimitError",
    "BatchTooLargeError",
    "ConflictError",
    "FieldTypeError",
    "FieldTypeMismatchError",
    "IterableError",
    "NotFoundError",
    "PayloadError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
]

# Server messages are quoted in exception text; a proxy's HTML error page must not
# turn one log line into a kilobyte-long one.
_MAX_QUOTED_CHARS = 500


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_QUOTED_CHARS else text[:_MAX_QUOTED_CHARS] + "…"


class IterableError(Exception):
    """Base class of every error raised by the Iterable client."""

    #: How many HTTP attempts were made before this error reached the caller (set by
    #: the retry loop; 0 when nothing was sent).
    attempts: int = 0


class PayloadError(IterableError, ValueError):
    """The client refused to send a payload (a value JSON cannot carry, a limit broken)."""


class BatchLimitError(PayloadError):
    """A batch breaks a documented Iterable limit; it was refused before sending."""

    def __init__(self, what: str, actual: int, limit: int, endpoint: str) -> None:
        self.what = what
        self.actual = actual
        self.limit = limit
        self.endpoint = endpoint
        super().__init__(
            f"{endpoint}: {actual:,} {what} exceeds Iterable's limit of {limit:,}; "
            "split the batch (nothing was sent)"
        )


class TransportError(IterableError):
    """No HTTP response arrived: the connection failed, broke, or timed out."""

    def __init__(self, message: str, *, endpoint: str, retryable: bool) -> None:
        self.endpoint = endpoint
        #: Whether the failure is transient (timeouts, resets) rather than a setup
        #: problem such as an unsupported URL scheme.
        self.retryable = retryable
        super().__init__(f"{endpoint}: {message}")


class UnexpectedResponseError(IterableError):
    """A successful status whose body does not have the documented shape."""

    def __init__(self, message: str, *, endpoint: str, status: int) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(f"{endpoint}: HTTP {status}: {message}")


class APIError(IterableError):
    """Iterable answered with a non-2xx status.

    `code` and `msg` come from Iterable's envelope `{"msg", "code", "params"}` when the
    body is one; a body that is not JSON leaves `code` None and quotes the text in `msg`.
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        msg: str,
        params: Mapping[str, Any] | None = None,
        *,
        endpoint: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.msg = msg
        self.params: Mapping[str, Any] = params or {}
        self.endpoint = endpoint
        #: Seconds the server asked us to wait (`Retry-After`), when it said.
        self.retry_after = retry_after
        where = f"{endpoint}: " if endpoint else ""
        super().__init__(f"{where}HTTP {status} {code or '(no code)'}: {_clip(msg)}")


class AuthError(APIError):
    """401: the key is wrong, disabled, of the wrong type, or from the other region."""


class BadRequestError(APIError):
    """400: Iterable rejected the whole request; retrying it unchanged cannot help."""


@dataclass(frozen=True, slots=True)
class FieldTypeError:
    """One field of a `RequestFieldsTypesMismatched` rejection."""

    field: str
    incoming_types: tuple[str, ...]
    expected_type: str
    category: str | None
    #: As Iterable reports it: a single value, or a list holding the value that fixed
    #: the field's type followed by the offending one.
    offending_value: Any

    @property
    def offending_values(self) -> list[Any]:
        """`offending_value` always as a list, whichever shape Iterable used."""
        value = self.offending_value
        return list(value) if isinstance(value, list) else [value]


def _parse_field_type_errors(params: Mapping[str, Any]) -> dict[str, FieldTypeError]:
    raw = params.get("validationErrors")
    if not isinstance(raw, Mapping):
        return {}
    parsed: dict[str, FieldTypeError] = {}
    for key, detail in raw.items():
        if not isinstance(detail, Mapping):
            continue
        # Keys are usually the bare field path, but one real capture used
        # "<index prefix>:::<field>"; the part after ":::" is the field either way.
        field = str(key).rsplit(":::", 1)[-1]
        incoming = detail.get("incomingTypes") or []
        parsed[field] = FieldTypeError(
            field=field,
            incoming_types=tuple(str(t) for t in incoming) if isinstance(incoming, list) else (),
            expected_type=str(detail.get("expectedType", "")),
            category=detail.get("category"),
            offending_value=detail.get("offendingValue"),
        )
    return parsed


class FieldTypeMismatchError(BadRequestError):
    """A value's type differs from the type the field already has in the project.

    Iterable rejects the whole request; `validation_errors` says which fields, what
    type each expects and which value broke it, so the caller can isolate the record.
    """

    @property
    def validation_errors(self) -> dict[str, FieldTypeError]:
        """Field name → what Iterable expected and which value broke it."""
        return _parse_field_type_errors(self.params)


class BadJsonBodyError(BadRequestError):
    """400 BadJsonBody: some value had the wrong JSON type; `problems` maps path → why."""

    @property
    def problems(self) -> dict[str, str]:
        """`{"obj.events[1].createdAt": "Number value expected"}` in either of the two
        shapes Iterable has used (a string, or a list of `{"msg": ...}` objects)."""
        out: dict[str, str] = {}
        for path, detail in self.params.items():
            if isinstance(detail, list):
                msgs = [d.get("msg") if isinstance(d, Mapping) else d for d in detail]
                out[str(path)] = "; ".join(str(m) for m in msgs)
            else:
                out[str(path)] = str(detail)
        return out


class BatchTooLargeError(BadRequestError):
    """Iterable refused the batch as too large (code BatchTooLarge or HTTP 413)."""


class NotFoundError(APIError):
    """404: the catalog, item or other resource does not exist."""


class ConflictError(APIError):
    """409: the user is GDPR-forgotten, or the email/userId belongs to someone else."""


class RateLimitedError(APIError):
    """429: over the endpoint's rate limit; `retry_after` is the server's hint, if any."""


class ServerError(APIError):
    """5xx: Iterable (or a proxy in front of it) failed; usually transient."""
