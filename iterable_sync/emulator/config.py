"""How one emulator instance is set up (CLI flags, launcher arguments, in-process tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_API_KEY = "emulator-key"
#: The project settings for unrecognized fields (see ``EmulatorConfig.unknown_fields``).
UNKNOWN_FIELDS = ("allow", "drop")


def default_state_dir() -> Path:
    home = os.environ.get("ITERABLE_SYNC_HOME") or ".iterable_sync"
    return Path(home) / "emulator"


def default_api_key() -> str:
    return os.environ.get("ITERABLE_API_KEY") or DEFAULT_API_KEY


@dataclass
class EmulatorConfig:
    api_key: str = field(default_factory=default_api_key, repr=False)
    project_type: str = "email"
    state_dir: Path = field(default_factory=default_state_dir)
    # "real": Iterable's published per-endpoint limits; "off": none (daily caps included).
    rate_limits: str = "real"
    # {"POST /api/users/bulkUpdate": {"rate": 50, "per": 1.0, "daily": null}, ...}
    rate_limit_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, Any] | None = None
    latency_ms: float = 0.0
    project_id: int = 10_000
    call_log_size: int = 10_000
    # The project's setting for fields it does not know yet: "allow" creates them, "drop"
    # leaves them out (``createNewFields``: "Defaults to project's setting to allow or drop
    # unrecognized fields", ApiUserUpdateRequest in Iterable's spec).
    unknown_fields: str = "allow"

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir)
        if self.project_type not in ("email", "userId", "hybrid"):
            raise ValueError(f"project_type must be email, userId or hybrid: {self.project_type}")
        if self.rate_limits not in ("real", "off"):
            raise ValueError(f"rate_limits must be real or off: {self.rate_limits}")
        if self.unknown_fields not in UNKNOWN_FIELDS:
            raise ValueError(f"unknown_fields must be allow or drop: {self.unknown_fields}")

    @property
    def db_path(self) -> Path:
        return self.state_dir / "state.sqlite3"
