"""Resources, chosen from the environment when the definitions load.

Switching from the embedded defaults to production is configuration, never a code change:
``ITERABLE_SYNC_WAREHOUSE=snowflake`` plus the ``SNOWFLAKE_*`` variables, and
``ITERABLE_API_KEY`` (Iterable's US host; ``ITERABLE_BASE_URL`` for another, such as the EU's).
"""

from iterable_sync import settings
from iterable_sync.iterable_resource import build_iterable
from iterable_sync.warehouse_resource import DuckDBWarehouse, Warehouse


def build_warehouse() -> Warehouse:
    if settings.warehouse_kind() == "snowflake":
        # Imported here: the embedded path never loads the Snowflake connector.
        from iterable_sync.snowflake_warehouse import (
            SnowflakeWarehouse,
            snowflake_resource_from_env,
        )

        return SnowflakeWarehouse(snowflake=snowflake_resource_from_env())
    return DuckDBWarehouse(path=str(settings.duckdb_path()))


def build_resources() -> dict[str, object]:
    return {"warehouse": build_warehouse(), "iterable": build_iterable()}
