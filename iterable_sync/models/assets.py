"""Model assets: each run snapshots a model's result into the warehouse.

Checks, diffs and syncs downstream all read the snapshot, never the live model, so a sync's
plan sees one consistent set of rows even while the source tables change underneath it: a
table copy, or a view its plan reads in one transaction (``snapshot.py``).
"""

import time
import warnings

import dagster as dg

from iterable_sync.metadata import column_schema
from iterable_sync.metadata import table as table_metadata
from iterable_sync.models import Model
from iterable_sync.models.snapshot import snapshot_model
from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.warehouse_resource import Warehouse

MODELS_GROUP = "models"
SOURCES_GROUP = "warehouse_sources"


def source_key(schema: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([schema.lower(), table.lower()])


def build_source_specs(models: dict[str, Model], kind: str) -> list[dg.AssetSpec]:
    """Tables the models read that no model produces: shown in lineage, not materialized."""
    produced = {(SYNC_SCHEMA, name.upper()) for name in models}
    tables = {t for model in models.values() for t in model.source_tables if t not in produced}
    return [
        dg.AssetSpec(
            key=source_key(schema, table),
            group_name=SOURCES_GROUP,
            kinds={kind},
            description=f"{schema}.{table}: a warehouse table maintained outside this project.",
            metadata={"dagster/table_name": f"{schema}.{table}"},
        )
        for schema, table in sorted(tables)
    ]


def _deps(model: Model, models: dict[str, Model]) -> list[dg.AssetKey]:
    by_snapshot = {(SYNC_SCHEMA, name.upper()): name for name in models}
    return [
        dg.AssetKey(by_snapshot[t]) if t in by_snapshot else source_key(*t)
        for t in model.source_tables
    ]


def _sql_reference(model: Model) -> dict[str, dg.CodeReferencesMetadataValue]:
    """A code reference to the model's ``.sql`` file ("Open in editor" in the UI); the Python
    that runs it is added by ``dg.with_source_code_references`` (definitions.py)."""
    if model.path is None:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # beta in 1.13, used as documented
        reference = dg.LocalFileCodeReference(
            file_path=str(model.path), line_number=1, label=f"{model.path.name} (model SQL)"
        )
        return {
            "dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference])
        }


def build_model_asset(model: Model, models: dict[str, Model], kind: str) -> dg.AssetsDefinition:
    schema, table = model.snapshot_table.split(".")

    @dg.asset(
        name=model.name,
        group_name=MODELS_GROUP,
        kinds={kind, "sql"},
        owners=list(model.owners),
        description=model.description,
        deps=_deps(model, models),
        metadata={
            "sql": dg.MetadataValue.md(f"```sql\n{model.sql.strip()}\n```"),
            "dagster/table_name": model.snapshot_table,
            **_sql_reference(model),
        },
    )
    def _model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.session() as session:
            started = time.perf_counter()
            kind = snapshot_model(session, model)
            query_seconds = time.perf_counter() - started
            rows = int(session.scalar(f"SELECT count(*) FROM {model.snapshot_table}"))
            columns = session.columns(schema, table)
            preview = session.query(f"SELECT * FROM {model.snapshot_table} LIMIT 10")
        context.log.info(
            f"{model.name}: {rows} rows snapshotted as a {kind.value} in {query_seconds:.2f}s"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": column_schema(columns),
                "preview": table_metadata(preview, [name for name, _ in columns]),
                "query_seconds": round(query_seconds, 3),
                # A view copies nothing: each sync's plan reads it once (models/snapshot.py).
                "snapshot": kind.value,
            }
        )

    return _model
