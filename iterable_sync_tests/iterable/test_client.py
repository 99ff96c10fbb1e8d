"""The client object: key handling, hosts, lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from iterable_sync.iterable import EU_BASE_URL, IterableClient, RetryPolicy

from . import recorded
from .conftest import API_KEY, FakeIterable, reply


def test_repr_and_str_never_show_the_key(client: IterableClient) -> None:
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert API_KEY not in repr(client.api_key)
    assert client.api_key.get_secret_value() == API_KEY


def test_the_key_may_be_given_as_a_secret_str(fake: FakeIterable) -> None:
    with IterableClient(SecretStr(API_KEY), transport=httpx.MockTransport(fake)) as client:
        client.users.delete_by_user_id("u1")

    assert fake.last.headers["Api-Key"] == API_KEY


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        IterableClient("  ")


def test_logs_never_show_the_key_even_when_retrying(
    make_client: Callable[..., IterableClient],
    fake: FakeIterable,
    caplog: pytest.LogCaptureFixture,
    sleeps: list[float],
) -> None:
    client = make_client(retry=RetryPolicy(sleep=sleeps.append))
    fake.then(reply(503, recorded.GENERIC_500), httpx.ConnectError("refused"))

    with caplog.at_level(logging.DEBUG):
        client.users.delete_by_user_id("u1")

    assert "retrying" in caplog.text
    assert API_KEY not in caplog.text


def test_the_eu_host_is_used_when_chosen(
    make_client: Callable[..., IterableClient], fake: FakeIterable
) -> None:
    client = make_client(base_url=EU_BASE_URL)

    client.users.delete_by_user_id("u1")

    assert str(fake.last.url) == "https://api.eu.iterable.com/api/users/byUserId/u1"


def test_the_default_host_is_the_us_one(client: IterableClient, fake: FakeIterable) -> None:
    client.users.delete_by_user_id("u1")

    assert fake.last.url.host == "api.iterable.com"


def test_a_closed_client_sends_nothing(fake: FakeIterable) -> None:
    with IterableClient(API_KEY, transport=httpx.MockTransport(fake)) as client:
        pass

    with pytest.raises(RuntimeError, match="closed"):
        client.users.delete_by_user_id("u1")
    assert fake.requests == []


def test_requests_identify_the_client(client: IterableClient, fake: FakeIterable) -> None:
    client.users.delete_by_user_id("u1")

    assert fake.last.headers["User-Agent"].startswith("iterable-sync/")
