"""Which destination the environment names: a key without a base URL is Iterable's US host
(never the embedded emulator); the emulator runs only when no key is set. Nothing here
calls out: the resource is built and initialized, and its URL asserted."""

import dagster as dg
import pytest

from iterable_sync.emulator import launcher
from iterable_sync.iterable_resource import (
    US_BASE_URL,
    IterableResource,
    build_iterable,
    current_destination,
    key_fingerprint,
)

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def no_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the emulator fails the test."""

    def refuse(self: launcher.EmulatorProcess) -> launcher.EmulatorProcess:
        raise AssertionError("the embedded emulator was started")

    monkeypatch.setattr(launcher.EmulatorProcess, "start", refuse)


def test_a_key_without_a_base_url_writes_to_iterables_us_host(home, monkeypatch, no_emulator):
    monkeypatch.setenv("ITERABLE_API_KEY", KEY)

    resource = build_iterable()
    with dg.build_resources({"iterable": resource}) as resources:
        iterable = resources.iterable
        assert iterable.url == US_BASE_URL == "https://api.iterable.com"
        assert not iterable.is_emulator
        assert iterable.destination.host == US_BASE_URL
        assert iterable.destination.fingerprint == key_fingerprint(KEY)
    assert current_destination() == iterable.destination


def test_a_resource_given_a_key_and_no_base_url_is_the_us_host(home, no_emulator):
    """Configured by hand (the launchpad), not from the environment: the same rule."""
    with dg.build_resources({"iterable": IterableResource(api_key=KEY)}) as resources:
        assert resources.iterable.url == US_BASE_URL
        assert resources.iterable.destination.host == US_BASE_URL


def test_a_base_url_is_kept_and_named_without_its_trailing_slash(home, monkeypatch, no_emulator):
    monkeypatch.setenv("ITERABLE_API_KEY", KEY)
    monkeypatch.setenv("ITERABLE_BASE_URL", "https://API.eu.iterable.com/")

    with dg.build_resources({"iterable": build_iterable()}) as resources:
        assert resources.iterable.destination.host == "https://api.eu.iterable.com"


def test_without_a_key_the_embedded_emulator_is_the_destination(home):
    resource = build_iterable()

    assert resource.is_emulator and resource.base_url is None
    assert resource.destination.host == f"emulator:{home / 'emulator'}"
    assert current_destination() == resource.destination


def test_the_fingerprint_is_stable_short_and_never_the_key():
    fingerprint = key_fingerprint(KEY)

    assert fingerprint == key_fingerprint(KEY) != key_fingerprint(KEY[:-1] + "0")
    assert len(fingerprint) == 16
    assert fingerprint not in KEY and KEY not in fingerprint
