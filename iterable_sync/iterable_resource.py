"""The Iterable resource: the client library, configured for a Dagster run.

With no ``ITERABLE_API_KEY`` (and no ``ITERABLE_BASE_URL``) the run starts the embedded
emulator (state kept under ``ITERABLE_SYNC_HOME``) so the whole product works with no
account and no network. A key without a base URL means Iterable's US host, never the
emulator: a real key is never sent to, nor silently replaced by, a local stand-in.

Every run knows which destination it writes to (``DestinationId``: the host and a
fingerprint of the key that cannot be turned back into it), so the warehouse can say which
Iterable project each sync's state describes (``sync/binding.py``).
"""

import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field, PrivateAttr

from iterable_sync import settings
from iterable_sync.iterable import CallRecord, IterableClient, RateLimits, RetryPolicy
from iterable_sync.sync.binding import DestinationId

EMULATOR_KEY = "emulator-key"  # not a secret: it only opens the local emulator

#: Iterable's US data center. Iterable's spec (shared/iterable-openapi.json) says
#: ``"host": "api.iterable.com"``; "Getting Started with Iterable's API" gives the base URLs
#: "USDC https://api.iterable.com" and "EDC https://api.eu.iterable.com" (a key works only
#: on its own data center's host). A key with no base URL is taken to be a US key.
US_BASE_URL = "https://api.iterable.com"

#: The fingerprint's HMAC key: fixed, so one API key always has one fingerprint (what the
#: warehouse compares), and specific to this use, so the fingerprint matches no other digest
#: of the key. It hides nothing by itself; what makes the fingerprint non-reversible is the
#: key's own entropy (a server-side key is 32 random hex digits) and the truncation.
_FINGERPRINT_SALT = b"iterable_sync/destination/v1"
FINGERPRINT_DIGITS = 16


def key_fingerprint(api_key: str) -> str:
    """A short, stable, non-reversible name for an API key: the first 16 hex digits of its
    HMAC-SHA256 (64 bits: enough to tell two keys apart, far too few to recover one)."""
    digest = hmac.new(_FINGERPRINT_SALT, api_key.encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_DIGITS]


def normalize_host(base_url: str) -> str:
    """``https://API.iterable.com/`` → ``https://api.iterable.com`` (a path, if any, kept)."""
    parts = urlsplit(base_url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"ITERABLE_BASE_URL must be a URL such as {US_BASE_URL}")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def emulator_host(state_dir: Path) -> str:
    """The embedded emulator, named by its state (its port changes from run to run)."""
    return f"emulator:{state_dir.expanduser().resolve()}"


class IterableResource(dg.ConfigurableResource):
    """Iterable's API (or the local emulator standing in for it)."""

    api_key: str = Field(description="Iterable server-side API key (from ITERABLE_API_KEY).")
    base_url: str | None = Field(
        default=None,
        description="Iterable's host, e.g. https://api.eu.iterable.com; unset → Iterable's "
        "US host, or with the emulator's own key (no ITERABLE_API_KEY) the embedded "
        "emulator, started for the run.",
    )
    project_type: str = Field(
        default="email", description="The project's type: email, userId or hybrid."
    )
    timeout_s: float = Field(default=30.0, description="Per-request timeout.")
    rate_limit_scale: float = Field(
        default=1.0,
        description="Multiply every endpoint's documented rate limit (e.g. 0.5 to share a "
        "project with another integration).",
    )
    max_attempts: int = Field(default=6, description="Attempts per request, retries included.")
    retry_backoff_s: float = Field(
        default=0.5, description="First retry wait; it doubles (with jitter) on each retry."
    )
    max_in_flight: int = Field(default=4, description="Batches in the air at once per sync.")
    emulator_state_dir: str | None = Field(
        default=None, description="State of the embedded emulator (default under the home)."
    )

    _url: str | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["IterableResource"]:
        if not self.is_emulator:
            self._url = self.base_url or US_BASE_URL
            context.log.info(f"Iterable: writing to {self.destination}")
            yield self
            return
        from iterable_sync.emulator.launcher import EmulatorProcess

        with EmulatorProcess(
            api_key=self.api_key, project_type=self.project_type, state_dir=self.state_dir
        ) as emulator:
            context.log.info(
                f"Iterable: writing to {self.destination}, the embedded emulator at "
                f"{emulator.base_url}"
            )
            self._url = emulator.base_url
            yield self

    @property
    def url(self) -> str:
        return self._url or self.base_url or ""

    @property
    def is_emulator(self) -> bool:
        """The embedded emulator: no base URL and the emulator's own key. A real key with no
        base URL is Iterable's US host, never the emulator."""
        return not self.base_url and self.api_key == EMULATOR_KEY

    @property
    def state_dir(self) -> Path:
        """The embedded emulator's state (unused when ``base_url`` is set)."""
        return Path(self.emulator_state_dir or settings.home() / "emulator")

    @property
    def destination(self) -> DestinationId:
        """Where this resource writes: never the key, only its fingerprint."""
        host = emulator_host(self.state_dir) if self.is_emulator else None
        return DestinationId(
            host=host or normalize_host(self.base_url or US_BASE_URL),
            fingerprint=key_fingerprint(self.api_key),
        )

    def client(
        self, on_call: Callable[[CallRecord], None] | None = None, keep_bodies: bool = False
    ) -> IterableClient:
        """A client reporting each call to ``on_call`` (with its bodies when ``keep_bodies``:
        the request debugger, ``sync/plan/call_bodies.py``)."""
        return IterableClient(
            api_key=self.api_key,
            base_url=self.url,
            timeout=self.timeout_s,
            rate_limits=build_rate_limits(self.rate_limit_scale),
            retry=RetryPolicy(max_attempts=self.max_attempts, initial_backoff=self.retry_backoff_s),
            on_call=on_call,
            keep_bodies=keep_bodies,
        )


def build_iterable() -> IterableResource:
    """The resource the environment asks for: no key → the embedded emulator; a key →
    ``ITERABLE_BASE_URL``, or Iterable's US host when that is unset. (A base URL without a
    key fails when the run starts, naming the missing ``ITERABLE_API_KEY``.)"""
    current = settings.load()
    project_type = current.iterable_project_type
    if not settings.real_destination():
        return IterableResource(api_key=EMULATOR_KEY, project_type=project_type)
    # The key stays an EnvVar: Dagster reads it when the run starts and never stores it in
    # the definitions (the settings only tell whether it is set).
    return IterableResource(
        api_key=dg.EnvVar(settings.env_name("iterable_api_key")),
        base_url=current.iterable_base_url or US_BASE_URL,
        project_type=project_type,
    )


def current_destination() -> DestinationId:
    """The destination ``build_iterable`` would write to, read from the environment without
    starting anything (for the command line, where the key is not a Dagster ``EnvVar``)."""
    current = settings.load()
    key = current.iterable_api_key.get_secret_value() if current.iterable_api_key else None
    base_url = current.iterable_base_url
    if base_url is None and not key:
        return IterableResource(api_key=EMULATOR_KEY).destination
    if not key:
        raise ValueError("ITERABLE_BASE_URL is set but ITERABLE_API_KEY is not")
    return IterableResource(api_key=key, base_url=base_url or US_BASE_URL).destination


def build_rate_limits(scale: float) -> RateLimits:
    return RateLimits(scale=scale)
