"""Run a sync end to end in tests: a real DuckDB file (or, given a SnowflakeWarehouse, the
Snowflake path under fakesnow), the emulator over real HTTP."""

from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.iterable_resource import IterableResource
from iterable_sync.models import load_models
from iterable_sync.models.assets import build_model_asset, build_source_specs
from iterable_sync.sync.config import Budget, SyncConfig, parse_syncs
from iterable_sync.sync_assets import build_diff_asset, build_sync_asset, sync_key
from iterable_sync.warehouse_resource import Warehouse

BASE_SYNC = {
    "name": "contacts",
    "model": "contact_namespace",
    "type": "users",
    "mode": "upsert",
    "match": "email",
    "primary_key": "CONTACT_ID",
    "identifiers": {"email": "EMAIL", "userId": "GITLAB_USER_ID"},
    "mapping": [
        {"column": "FIRST_NAME", "field": "firstName"},
        {"column": "PLAN", "field": "plan"},
        {"column": "NAMESPACES_ARRAY", "field": "namespaces", "cast": "json"},
        {"column": "TRIAL_START_DATE", "field": "trialStart"},
        {"column": "SEAT_COUNT", "field": "seats"},
    ],
}


def make_sync(**overrides: Any) -> SyncConfig:
    import yaml

    entry = {**BASE_SYNC, **overrides}
    return parse_syncs(yaml.safe_dump({"syncs": [entry]})).syncs[0]


@dataclass
class Harness:
    warehouse: Warehouse
    emulator: EmulatorProcess
    sync: SyncConfig
    project_type: str = "email"
    iterable_options: dict[str, Any] = field(default_factory=dict)
    budget: Budget = field(default_factory=Budget)

    def assets(self) -> list[Any]:
        models = load_models()
        return [
            *build_source_specs(models, self.warehouse.kind),
            build_model_asset(models[self.sync.model], models, self.warehouse.kind),
            build_diff_asset(self.sync, self.warehouse.kind, self.project_type, self.budget),
            build_sync_asset(self.sync, self.project_type, self.budget),
        ]

    def iterable(self) -> IterableResource:
        options = {"max_attempts": 8, **self.iterable_options}
        return IterableResource(
            api_key=self.emulator.api_key,
            base_url=self.emulator.base_url,
            project_type=self.project_type,
            **options,
        )

    def run(
        self, run_config: dict[str, Any] | None = None, raise_on_error: bool = True
    ) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            self.assets(),
            resources={"warehouse": self.warehouse, "iterable": self.iterable()},
            run_config=run_config,
            raise_on_error=raise_on_error,
        )

    @staticmethod
    def sync_metadata(result: dg.ExecuteInProcessResult, sync: SyncConfig) -> dict[str, Any]:
        events = [
            e
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key == sync_key(sync)
        ]
        assert events, "the sync asset did not materialize"
        return {k: v.value for k, v in events[-1].materialization.metadata.items()}

    def write_calls(self, since: int = 0) -> list[dict[str, Any]]:
        return [
            c
            for c in self.emulator.admin.calls(since=since, limit=100_000)
            if c["method"] != "GET" and not c["path"].startswith("/_emulator")
        ]

    def user(self, email: str) -> dict[str, Any]:
        with self.emulator.client() as client:
            response = client.get(f"/api/users/{email}")
        response.raise_for_status()
        return response.json().get("user", {})

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self.warehouse.session() as session:
            return session.query(sql)
