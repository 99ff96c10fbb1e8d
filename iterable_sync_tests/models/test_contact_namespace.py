"""The contact_namespace model: the seed's filter, run on DuckDB and on the Snowflake path."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import fakesnow
import pytest
from dagster_snowflake import SnowflakeResource

from iterable_sync.metadata import table_rows
from iterable_sync.models import load_models
from iterable_sync.models.assets import build_model_asset, build_source_specs
from iterable_sync.snowflake_warehouse import SnowflakeWarehouse
from iterable_sync.warehouse_resource import Warehouse
from iterable_sync_tests.fixtures.contacts import contact, create_contacts, now

MODELS = load_models()
MODEL = MODELS["contact_namespace"]


def materialize_model(warehouse: Warehouse) -> dg.ExecuteInProcessResult:
    assets = [
        *build_source_specs(MODELS, warehouse.kind),
        build_model_asset(MODEL, MODELS, warehouse.kind),
    ]
    return dg.materialize(
        assets, resources={"warehouse": warehouse}, selection=[dg.AssetKey("contact_namespace")]
    )


def snapshot_ids(warehouse: Warehouse) -> list[str]:
    with warehouse.session() as session:
        rows = session.query(f"SELECT CONTACT_ID FROM {MODEL.snapshot_table} ORDER BY CONTACT_ID")
    return [row["CONTACT_ID"] for row in rows]


FILTER_CASES = [
    contact(1),
    contact(2, GITLAB_DOTCOM_CREATED_DATE=now() - timedelta(days=45)),  # older than a month
    contact(3, GITLAB_DOTCOM_LAST_LOGIN_DATE=None),
    contact(4, GITLAB_DOTCOM_ACTIVE_STATE=None),
    contact(5, NAMESPACES_ARRAY=None),
    contact(6, GITLAB_DOTCOM_CREATED_DATE=None),
    # The one-month boundary: a day inside is kept, a day outside is not.
    contact(7, GITLAB_DOTCOM_CREATED_DATE=now() - timedelta(days=27)),
    contact(8, GITLAB_DOTCOM_CREATED_DATE=now() - timedelta(days=32)),
]


def test_model_keeps_recent_complete_contacts_only(warehouse):
    with warehouse.session() as session:
        create_contacts(session, FILTER_CASES)
    assert materialize_model(warehouse).success
    assert snapshot_ids(warehouse) == ["C000000001", "C000000007"]


def test_model_metadata_has_row_count_schema_and_preview(warehouse):
    with warehouse.session() as session:
        create_contacts(session, FILTER_CASES)
    result = materialize_model(warehouse)
    metadata = result.asset_materializations_for_node("contact_namespace")[0].metadata
    assert metadata["dagster/row_count"].value == 2
    columns = [c.name for c in metadata["dagster/column_schema"].value.columns]
    assert "NAMESPACES_ARRAY" in columns and "CONTACT_ID" in columns
    # A sortable table whose columns are the snapshot's, in its order.
    preview = metadata["preview"].value
    assert [c.name for c in preview.schema.columns] == columns
    assert [row["CONTACT_ID"] for row in table_rows(preview)] == ["C000000001", "C000000007"]
    assert metadata["query_seconds"].value >= 0


def test_model_sql_is_the_seed_query_verbatim():
    assert "DATEADD(MONTH, -1, GETDATE())" in MODEL.sql
    assert MODEL.source_tables == (("SENSITIVE", "POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL"),)


@pytest.fixture
def snowflake_warehouse() -> Iterator[SnowflakeWarehouse]:
    """The Snowflake path — SnowflakeResource and Snowflake SQL — run by fakesnow."""
    with fakesnow.patch():
        yield SnowflakeWarehouse(
            snowflake=SnowflakeResource(
                account="fake",
                user="fake",
                password="fake",
                database="ANALYTICS",
                paramstyle="qmark",
            )
        )


def snapshot_rows(warehouse: Warehouse) -> list[dict]:
    with warehouse.session() as session:
        rows = session.query(
            f"SELECT CONTACT_ID, EMAIL, GITLAB_USER_ID, NAMESPACE_COUNT, TRIAL_START_DATE"
            f" FROM {MODEL.snapshot_table} ORDER BY CONTACT_ID"
        )
    return [{k: (str(v) if v is not None else None) for k, v in row.items()} for row in rows]


def test_duckdb_and_snowflake_paths_give_identical_snapshots(warehouse, snowflake_warehouse):
    for target in (warehouse, snowflake_warehouse):
        with target.session() as session:
            create_contacts(session, FILTER_CASES)
        assert materialize_model(target).success
    duck = snapshot_rows(warehouse)
    snow = snapshot_rows(snowflake_warehouse)
    assert [r["CONTACT_ID"] for r in duck] == ["C000000001", "C000000007"]
    assert duck == snow
