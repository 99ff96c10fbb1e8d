"""Rate limits per endpoint and the forget/unforget daily cap."""

from __future__ import annotations

import httpx
import pytest

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.emulator.limits import RateLimiter

# A clock that never moves: bucket refill does not depend on test speed.
FROZEN = 1_000.0


def test_past_the_limit_is_429_with_retry_after(shared_emulator: EmulatorProcess,
                                                api: httpx.Client) -> None:
    shared_emulator.admin.set_limits("real")
    statuses = [api.get("/api/users/getFields").status_code for _ in range(8)]
    assert statuses[:3] == [200, 200, 200]  # 3 requests/s
    assert 429 in statuses
    limited = api.get("/api/users/getFields")
    assert limited.status_code == 429
    assert limited.json() == {"msg": limited.json()["msg"], "code": "RateLimitExceeded",
                              "params": None}
    assert int(limited.headers["Retry-After"]) >= 1


def test_limits_are_per_endpoint(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    shared_emulator.admin.set_limits("real")
    for _ in range(6):
        api.get("/api/users/getFields")
    assert api.get("/api/lists").status_code == 200


def test_off_mode_never_limits(api: httpx.Client) -> None:
    assert all(api.get("/api/users/getFields").status_code == 200 for _ in range(20))


def test_override_changes_one_endpoint(shared_emulator: EmulatorProcess,
                                       api: httpx.Client) -> None:
    shared_emulator.admin.set_limits("real", {"GET /api/lists": {"rate": 1, "per": 60}})
    assert [api.get("/api/lists").status_code for _ in range(2)] == [200, 429]


def test_daily_cap_on_forget(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    shared_emulator.admin.set_limits(
        "real", {"POST /api/users/forget": {"rate": 1000, "daily": 3}})
    statuses = [api.post("/api/users/forget", json={"email": f"u{i}@x.com"}).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    capped = api.post("/api/users/forget", json={"email": "more@x.com"})
    assert "Daily cap" in capped.json()["msg"]
    assert int(capped.headers["Retry-After"]) > 80_000  # frees up in about a day


def test_capped_forget_changes_nothing(shared_emulator: EmulatorProcess,
                                       api: httpx.Client) -> None:
    shared_emulator.admin.set_limits("real", {"POST /api/users/forget": {"daily": 0}})
    api.post("/api/users/update", json={"email": "a@x.com"})
    assert api.post("/api/users/forget", json={"email": "a@x.com"}).status_code == 429
    assert api.get("/api/users/a@x.com").json() != {}


def test_unforget_has_its_own_cap(shared_emulator: EmulatorProcess, api: httpx.Client) -> None:
    shared_emulator.admin.set_limits("real", {"POST /api/users/forget": {"daily": 0}})
    assert api.post("/api/users/unforget", json={"email": "a@x.com"}).status_code == 200


def test_bucket_refills_over_time() -> None:
    now = [FROZEN]
    limiter = RateLimiter("real", clock=lambda: now[0], wall=lambda: now[0])
    for _ in range(5):
        limiter.check("POST /api/users/bulkUpdate")
    with pytest.raises(Exception, match="rate limit"):
        limiter.check("POST /api/users/bulkUpdate")
    now[0] += 0.2  # 5 req/s: one token back every 200 ms
    limiter.check("POST /api/users/bulkUpdate")


def test_daily_cap_window_slides() -> None:
    now = [FROZEN]
    limiter = RateLimiter("real", {"POST /api/users/forget": {"rate": None, "daily": 2}},
                          clock=lambda: now[0], wall=lambda: now[0])
    limiter.check("POST /api/users/forget")
    now[0] += 3600
    limiter.check("POST /api/users/forget")
    with pytest.raises(Exception, match="Daily cap"):
        limiter.check("POST /api/users/forget")
    now[0] += 86_400 - 3600 + 1  # the first request left the 24 h window
    limiter.check("POST /api/users/forget")


@pytest.mark.emulator(rate_limits="real",
                      rate_limit_overrides={"POST /api/users/forget": {"daily": 2}})
def test_daily_cap_survives_a_restart(emulator: EmulatorProcess) -> None:
    with emulator.client() as api:
        for i in range(2):
            assert api.post("/api/users/forget", json={"email": f"u{i}@x.com"}).is_success
    emulator.restart()  # a new process: fresh per-second buckets, the persisted daily cap
    with emulator.client() as api:
        response = api.post("/api/users/forget", json={"email": "u9@x.com"})
    assert (response.status_code, response.json()["code"]) == (429, "RateLimitExceeded")
