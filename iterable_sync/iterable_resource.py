"""The Iterable resource: the client library, configured for a Dagster run.

With no ``ITERABLE_BASE_URL`` the run starts the embedded emulator (state kept under
``ITERABLE_SYNC_HOME``) so the whole product works with no account and no network.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from iterable_sync import settings
from iterable_sync.iterable import CallRecord, IterableClient, RateLimits, RetryPolicy

EMULATOR_KEY = "emulator-key"  # not a secret: it only opens the local emulator


class IterableResource(dg.ConfigurableResource):
    """Iterable's API (or the local emulator standing in for it)."""

    api_key: str = Field(description="Iterable server-side API key (from ITERABLE_API_KEY).")
    base_url: str | None = Field(
        default=None,
        description="Iterable's host, e.g. https://api.iterable.com or the EU host; "
        "unset → the embedded emulator, started for the run.",
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
        if self.base_url:
            self._url = self.base_url
            yield self
            return
        from iterable_sync.emulator.launcher import EmulatorProcess

        state_dir = Path(self.emulator_state_dir or settings.home() / "emulator")
        with EmulatorProcess(
            api_key=self.api_key, project_type=self.project_type, state_dir=state_dir
        ) as emulator:
            context.log.info(f"Iterable: embedded emulator at {emulator.base_url}")
            self._url = emulator.base_url
            yield self

    @property
    def url(self) -> str:
        return self._url or self.base_url or ""

    @property
    def is_emulator(self) -> bool:
        return not self.base_url

    def client(self, on_call: Callable[[CallRecord], None] | None = None) -> IterableClient:
        return IterableClient(
            api_key=self.api_key,
            base_url=self.url,
            timeout=self.timeout_s,
            rate_limits=build_rate_limits(self.rate_limit_scale),
            retry=RetryPolicy(max_attempts=self.max_attempts, initial_backoff=self.retry_backoff_s),
            on_call=on_call,
        )


def build_iterable() -> IterableResource:
    base_url = os.environ.get("ITERABLE_BASE_URL") or None
    project_type = os.environ.get("ITERABLE_PROJECT_TYPE", "email")
    if not settings.real_destination():
        return IterableResource(api_key=EMULATOR_KEY, project_type=project_type)
    return IterableResource(
        api_key=dg.EnvVar("ITERABLE_API_KEY"), base_url=base_url, project_type=project_type
    )


def build_rate_limits(scale: float) -> RateLimits:
    return RateLimits(scale=scale)
