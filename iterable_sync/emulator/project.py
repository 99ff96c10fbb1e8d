"""One emulated Iterable project: its configuration, state and in-memory caches."""

from __future__ import annotations

import time
from typing import Any

from iterable_sync.emulator.config import UNKNOWN_FIELDS, EmulatorConfig
from iterable_sync.emulator.fields import StagedFields, mismatch_error_body, system_fields
from iterable_sync.emulator.identity import list_field
from iterable_sync.emulator.responses import ApiError
from iterable_sync.emulator.store import Store


class Project:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.project_type = config.project_type
        self.list_field = list_field(config.project_type)
        self.store = Store(config.db_path, config.project_type)
        # Field types and forgotten identifiers are read on every write: cache them, and
        # update the caches only after the transaction that changed them commits. The
        # field map is an immutable snapshot, replaced whole when fields are added.
        self.fields: dict[str, dict[str, str]] = {}
        self.forgotten: set[tuple[str, str]] = set()
        self.unknown_fields = config.unknown_fields
        self._load()

    def _load(self) -> None:
        with self.store.tx():
            self.store.add_fields(
                (category, path, kind)
                for category, paths in system_fields(self.list_field).items()
                for path, kind in paths.items()
            )
        with self.store.read():
            self.fields = self.store.load_fields()
            self.forgotten = self.store.load_forgotten()

    def reset(self) -> None:
        self.store.reset()
        self.unknown_fields = self.config.unknown_fields
        self._load()

    def set_unknown_fields(self, setting: str) -> None:
        """The project's setting for unrecognized fields: "allow" or "drop" (kept in memory
        until the next reset or restart, which go back to the start-up setting)."""
        if setting not in UNKNOWN_FIELDS:
            raise ValueError(f"unknownFields must be allow or drop: {setting!r}")
        self.unknown_fields = setting

    def creates_fields(self, requested: bool | None) -> bool:
        """Whether a request creates the fields the project does not know yet.

        Iterable's spec, ``createNewFields`` (ApiUserUpdateRequest, TrackRequest): "Whether
        new fields should be ingested and added to the schema. Defaults to project's setting
        to allow or drop unrecognized fields." BulkUpdateUsersRequest adds: "Added fields
        will be included in the response's createdFields. Dropped fields will be included in
        filteredOutFields and not added to user profiles." So the request's value wins, and
        without one the project's setting decides.
        """
        return requested if requested is not None else self.unknown_fields == "allow"

    def stage(self) -> StagedFields:
        return StagedFields(self.fields)

    def save_fields(self, staged: StagedFields) -> None:
        """Persist the request's new fields (inside its transaction)."""
        if staged.new:
            self.store.add_fields((c, p, k) for (c, p), k in staged.new.items())

    def commit_fields(self, staged: StagedFields) -> None:
        """After the transaction committed: publish the new schema snapshot."""
        if staged.new:
            self.fields = staged.merged()

    def raise_mismatch(
        self, staged: StagedFields, first_record: dict[str, Any] | None, bulk: bool
    ) -> None:
        if staged.mismatches:
            msg, params = mismatch_error_body(
                self.config.project_id, staged.mismatches, first_record, bulk
            )
            raise ApiError(400, "RequestFieldsTypesMismatched", msg, params)

    def user_fields(self) -> dict[str, str]:
        return dict(sorted(self.fields.get("user", {}).items()))

    def summary(self) -> dict[str, Any]:
        out = self.store.summary()
        out["projectType"] = self.project_type
        out["unknownFields"] = self.unknown_fields
        out["fields"] = self.user_fields()
        out["eventFields"] = {
            category.removeprefix("event:"): dict(sorted(paths.items()))
            for category, paths in sorted(self.fields.items())
            if category.startswith("event:")
        }
        return out


def now_ms() -> int:
    return int(time.time() * 1000)
