"""Syncs as configuration: the pydantic models of ``syncs.yaml``.

A user adds a sync by writing an entry, never Python. Validation errors name the sync and
the key at fault, because the person reading them is editing YAML, not code.
"""

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Identifiers end up in SQL; anything outside this shape is refused rather than quoted,
# so a name from YAML can never carry SQL with it.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SYNC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,254}$")

Identifier = Annotated[str, Field(pattern=_IDENTIFIER.pattern)]


class SyncType(StrEnum):
    USERS = "users"


class Mode(StrEnum):
    UPDATE = "update"  # touch existing users only
    UPSERT = "upsert"  # create users that do not exist yet


class Match(StrEnum):
    EMAIL = "email"
    USER_ID = "userId"


class Cast(StrEnum):
    """The Iterable type a mapped value is sent as, when the column's own type is not it."""

    STRING = "string"
    LONG = "long"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"
    JSON = "json"


class FieldMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: Identifier
    field: str
    cast: Cast | None = None

    @field_validator("field")
    @classmethod
    def _field_name(cls, value: str) -> str:
        if not _FIELD_NAME.match(value):
            raise ValueError(
                f"Iterable field name {value!r} must start with a letter or _ and hold only "
                "letters, digits, _ . -"
            )
        if value in {"email", "userId"}:
            raise ValueError(
                f"{value!r} is the identifier; set it under `identifiers`, not mapping"
            )
        return value


class Identifiers(BaseModel):
    """Model columns that hold the Iterable identifiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Identifier | None = None
    userId: Identifier | None = None


class Tolerances(BaseModel):
    """Share of rows a check may quarantine before it blocks the sync."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duplicate_keys: float = Field(default=0.01, ge=0, le=1)
    missing_identifiers: float = Field(default=0.05, ge=0, le=1)
    invalid_values: float = Field(default=0.01, ge=0, le=1)
    #: Rows Iterable rejected or that were quarantined, as a share of the rows of a run,
    #: past which the alert sensor flags the run.
    rejected_rows_alert: float = Field(default=0.05, ge=0, le=1)


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str | None = None
    description: str | None = None
    model: Identifier
    type: SyncType = SyncType.USERS
    mode: Mode = Mode.UPDATE
    match: Match = Match.EMAIL
    primary_key: Identifier
    identifiers: Identifiers
    mapping: list[FieldMapping] = Field(default_factory=list)
    schedule: str = "0 6 * * *"
    tolerances: Tolerances = Field(default_factory=Tolerances)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SYNC_NAME.match(value):
            raise ValueError(
                "a sync name is lower case letters, digits and _ (it names tables and assets)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        matched_column = getattr(self.identifiers, self.match.value)
        if matched_column is None:
            raise ValueError(
                f"match is {self.match.value!r} but identifiers.{self.match.value} names no column"
            )
        fields = [m.field for m in self.mapping]
        repeated = sorted({f for f in fields if fields.count(f) > 1})
        if repeated:
            raise ValueError(f"mapping sends these Iterable fields twice: {repeated}")
        return self

    @property
    def label(self) -> str:
        return self.title or self.name

    @property
    def match_column(self) -> str:
        column = getattr(self.identifiers, self.match.value)
        assert column is not None  # guaranteed by _consistent
        return column


class Budget(BaseModel):
    """Queried records per billing period (a calendar month, UTC), across runs and syncs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queried_records: int = Field(default=1_500_000, gt=0)
    warn_at: float = Field(default=0.8, gt=0, le=1)


class SyncsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: Budget = Field(default_factory=Budget)
    syncs: list[SyncConfig]

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
    key = ".".join(str(part) for part in loc) or "(entry)"
    return f"{where}: {key}: {error['msg']}"


def parse_syncs(text: str) -> SyncsFile:
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise SyncsFileError("syncs.yaml must be a mapping with a `syncs:` list")
    try:
        return SyncsFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(error, raw) for error in exc.errors()]
        raise SyncsFileError("invalid syncs.yaml:\n  " + "\n  ".join(lines)) from None


def load_syncs(path: Path) -> SyncsFile:
    return parse_syncs(path.read_text())
