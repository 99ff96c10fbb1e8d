"""Fault injection: what an unreliable network and a struggling Iterable look like.

A fault is decided for each ``/api/`` request BEFORE it touches any state, so a faulted
request changes nothing — except ``drop_after_apply``, which lets the request apply and
then closes the connection without an answer: the client cannot know it succeeded, which
is what its idempotency (deterministic event ids, upserts) must survive.

Configuration (``--faults`` JSON, ``PUT /_emulator/faults``)::

    {"p429": 0.1, "p500": 0.05, "p503": 0.0, "p_drop": 0.01, "p_drop_after_apply": 0.0,
     "latency_ms": 20, "spike_p": 0.01, "spike_ms": 2000,
     "script": ["429", "500", "ok", "drop"],                # one per request, then random
     "path_scripts": {"/api/users/bulkUpdate": ["503"]},    # per exact path, before script
     "paths": ["/api/users/"],                              # prefixes for random faults
     "seed": 7}

Tokens: ``ok``, ``429``, ``500``, ``503``, ``drop``, ``drop_after_apply``. A 503 comes as
an HTML page, as a load balancer in front of Iterable would send it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Token = Literal["ok", "429", "500", "503", "drop", "drop_after_apply"]
Probability = Field(default=0.0, ge=0.0, le=1.0)


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p429: float = Probability
    p500: float = Probability
    p503: float = Probability
    p_drop: float = Probability
    p_drop_after_apply: float = Probability
    latency_ms: float = Field(default=0.0, ge=0.0, le=120_000)
    spike_p: float = Probability
    spike_ms: float = Field(default=0.0, ge=0.0, le=120_000)
    script: list[Token] = Field(default_factory=list)
    path_scripts: dict[str, list[Token]] = Field(default_factory=dict)
    paths: list[str] | None = None
    seed: int | None = None

    @model_validator(mode="after")
    def _total_probability(self) -> FaultConfig:
        total = self.p429 + self.p500 + self.p503 + self.p_drop + self.p_drop_after_apply
        if total > 1.0:
            raise ValueError(f"fault probabilities add up to {total:g} > 1")
        return self


@dataclass(frozen=True)
class Decision:
    kind: Token
    delay_ms: float = 0.0


class FaultInjector:
    def __init__(self, initial: dict[str, Any] | None = None, latency_ms: float = 0.0) -> None:
        self._lock = threading.Lock()
        start = FaultConfig.model_validate(initial or {})
        if latency_ms and not start.latency_ms:
            start = start.model_copy(update={"latency_ms": latency_ms})
        self._initial = start
        self._apply(start)

    def _apply(self, config: FaultConfig) -> None:
        self.config = config
        self._script = list(config.script)
        self._path_scripts = {path: list(tokens) for path, tokens in config.path_scripts.items()}
        self._rng = random.Random(config.seed)

    def set(self, raw: dict[str, Any]) -> dict[str, Any]:
        config = FaultConfig.model_validate(raw)
        with self._lock:
            self._apply(config)
        return self.describe()

    def reset(self) -> None:
        with self._lock:
            self._apply(self._initial)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            out = self.config.model_dump()
            out["script_remaining"] = list(self._script)
            out["path_scripts_remaining"] = {p: list(t) for p, t in self._path_scripts.items()}
            return out

    def _targeted(self, path: str) -> bool:
        paths = self.config.paths
        return paths is None or any(path.startswith(prefix) for prefix in paths)

    def decide(self, path: str) -> Decision:
        with self._lock:
            c = self.config
            targeted = self._targeted(path)
            delay = c.latency_ms if targeted else 0.0
            if targeted and c.spike_p and self._rng.random() < c.spike_p:
                delay += c.spike_ms
            scripted = self._path_scripts.get(path)
            if scripted:
                return Decision(scripted.pop(0), delay)
            if self._script:
                return Decision(self._script.pop(0), delay)
            if not targeted:
                return Decision("ok", delay)
            draw = self._rng.random()
            for kind, p in (
                ("429", c.p429),
                ("500", c.p500),
                ("503", c.p503),
                ("drop", c.p_drop),
                ("drop_after_apply", c.p_drop_after_apply),
            ):
                if draw < p:
                    return Decision(kind, delay)  # type: ignore[arg-type]
                draw -= p
            return Decision("ok", delay)
