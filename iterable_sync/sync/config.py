"""Syncs as configuration: the pydantic models of ``syncs.yaml``.

A user adds a sync by writing an entry, never Python. Validation errors name the sync and
the key at fault, because the person reading them is editing YAML, not code. The keys all
syncs share are in ``config_base.py``; each type's own keys in ``config_types.py``.
"""

from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from iterable_sync.sync.config_base import (
    Cast,
    Debugger,
    DeletionAction,
    DuplicatePolicy,
    Duplicates,
    FieldMapping,
    Identifier,
    Identifiers,
    Match,
    Mode,
    NotFound,
    NullPolicy,
    OnLeave,
    Retry,
    SyncConfig,
    SyncType,
    Tolerances,
)
from iterable_sync.sync.config_types import (
    FORGET_DAILY_CAP,
    TYPES,
    UNKNOWN_TYPE,
    AnySync,
    CartsSync,
    CatalogFieldType,
    CatalogSync,
    DeletionsSync,
    EmailUpdatesSync,
    EventsSync,
    ListSync,
    PurchasesSync,
    SubscriptionsSync,
    UsersSync,
)
from iterable_sync.sync.order import order_errors

__all__ = [
    "FORGET_DAILY_CAP",
    "TYPES",
    "AnySync",
    "Budget",
    "CartsSync",
    "Cast",
    "CatalogFieldType",
    "CatalogSync",
    "Debugger",
    "DeletionAction",
    "DeletionsSync",
    "DuplicatePolicy",
    "Duplicates",
    "EmailUpdatesSync",
    "EventsSync",
    "FieldMapping",
    "Identifier",
    "Identifiers",
    "ListSync",
    "Match",
    "Mode",
    "NotFound",
    "NullPolicy",
    "OnLeave",
    "PurchasesSync",
    "Retry",
    "SubscriptionsSync",
    "SyncConfig",
    "SyncType",
    "SyncsFile",
    "SyncsFileError",
    "Tolerances",
    "UsersSync",
    "load_syncs",
    "parse_syncs",
]


class Budget(BaseModel):
    """Queried records per billing period (a calendar month, UTC), across runs and syncs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queried_records: int = Field(default=1_500_000, gt=0)
    warn_at: float = Field(default=0.8, gt=0, le=1)


class SyncsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: Budget = Field(default_factory=Budget)
    syncs: list[AnySync]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [s.name for s in self.syncs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"sync names must be unique; repeated: {repeated}")
        return self


class SyncsFileError(ValueError):
    """syncs.yaml is not valid; the message names the sync and the key."""


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    loc = list(error["loc"])
    where = "syncs.yaml"
    if len(loc) >= 2 and loc[0] == "syncs" and isinstance(loc[1], int):
        entries = raw.get("syncs") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"sync {name!r}" if name else f"sync #{loc[1] + 1}"
        loc = loc[2:]
        # The union's tag (the sync's type) is not a key the user wrote.
        if loc and loc[0] in {t.value for t in SyncType}:
            loc = loc[1:]
    if error["type"] == UNKNOWN_TYPE:
        loc = [*loc, "type"]
    key = ".".join(str(part) for part in loc) or "(entry)"
    return f"{where}: {key}: {error['msg']}"


def parse_syncs(text: str) -> SyncsFile:
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise SyncsFileError("syncs.yaml must be a mapping with a `syncs:` list")
    try:
        parsed = SyncsFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(error, raw) for error in exc.errors()]
        raise SyncsFileError("invalid syncs.yaml:\n  " + "\n  ".join(lines)) from None
    # The order between syncs (`after:`) is checked once every entry is valid on its own.
    lines = order_errors(parsed.syncs)
    if lines:
        raise SyncsFileError("invalid syncs.yaml:\n  " + "\n  ".join(lines))
    return parsed


def load_syncs(path: Path) -> SyncsFile:
    return parse_syncs(path.read_text())
