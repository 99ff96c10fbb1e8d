"""A small client for the emulator's ``/_emulator/`` admin API (tests, demos, the product)."""

from __future__ import annotations

from typing import Any

import httpx


class AdminError(RuntimeError):
    pass


class AdminClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owned = client is None
        # An injected client (e.g. Starlette's TestClient) drives an in-process app.
        self._client = client or httpx.Client(timeout=timeout)
        self._headers = {"Api-Key": api_key}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(
            method, f"{self.base_url}/_emulator/{path}", headers=self._headers, **kwargs
        )
        if response.status_code >= 400:
            raise AdminError(f"{method} /_emulator/{path}: {response.status_code} {response.text}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def reset(self) -> None:
        self._call("POST", "reset")

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def set_faults(self, settings: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Replace the fault settings, e.g. ``set_faults(script=["429", "ok"])``."""
        return self._call("PUT", "faults", json={**(settings or {}), **fields})

    def clear_faults(self) -> dict[str, Any]:
        return self._call("PUT", "faults", json={})

    def limits(self) -> dict[str, Any]:
        return self._call("GET", "limits")

    def set_limits(
        self, mode: str | None = None, overrides: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"overrides": overrides or {}}
        if mode is not None:
            body["mode"] = mode
        return self._call("PUT", "limits", json=body)

    def calls(self, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return self._call("GET", "calls", params={"since": since, "limit": limit})["calls"]

    def clear_calls(self) -> None:
        self._call("DELETE", "calls")

    def seed_users(self, users: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("POST", "users", json={"users": users})

    def settings(self) -> dict[str, Any]:
        return self._call("GET", "settings")

    def set_unknown_fields(self, setting: str) -> dict[str, Any]:
        """The project's setting for unrecognized fields: ``"allow"`` or ``"drop"``."""
        return self._call("PUT", "settings", json={"unknownFields": setting})

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def close(self) -> None:
        if self._owned:
            self._client.close()
