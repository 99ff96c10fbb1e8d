"""The warehouse resources: one interface, two backends (a DuckDB file here; Snowflake in
``snowflake_warehouse.py``). Each opens sessions (``warehouse.py``) for assets."""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import dagster as dg
from pydantic import Field

from iterable_sync import settings
from iterable_sync.warehouse import WarehouseSession, duckdb_session


class Warehouse(dg.ConfigurableResource, ABC):
    """Where models run and where sync state, ledgers and write-back tables live."""

    @property
    @abstractmethod
    def dialect(self) -> str: ...

    @property
    @abstractmethod
    def kind(self) -> str:
        """The Dagster ``kinds`` tag of assets computed in this warehouse."""

    @abstractmethod
    def session(self) -> AbstractContextManager[WarehouseSession]:
        """Open a connection for a unit of work; it is closed when the block ends."""


MEMORY_LIMIT_ENV = "ITERABLE_SYNC_DUCKDB_MEMORY_LIMIT"
#: Every planning path fits it at 10M rows (no change, 1% changed, a full resync: 269 s), and
#: with Python and Dagster the process stays under 1 GB, the same at 1M rows as at 10M.
DEFAULT_MEMORY_LIMIT = "512MB"


class DuckDBWarehouse(Warehouse):
    """The embedded warehouse: a DuckDB file under ITERABLE_SYNC_HOME."""

    path: str = Field(description="Path of the DuckDB database file.")
    memory_limit: str = Field(
        default_factory=lambda: settings.load().duckdb_memory_limit,
        description=f"DuckDB's memory limit; it spills to disk past it (env {MEMORY_LIMIT_ENV}).",
    )
    threads: int | None = Field(default=None, description="DuckDB threads (default: cores).")
    lock_timeout_s: float = Field(
        default=120.0,
        description="How long to wait for another process (another run) to release the file.",
    )

    @property
    def dialect(self) -> str:
        return "duckdb"

    @property
    def kind(self) -> str:
        return "duckdb"

    @contextmanager
    def session(self) -> Iterator[WarehouseSession]:
        with duckdb_session(
            self.path, self.memory_limit, self.threads, self.lock_timeout_s
        ) as session:
            yield session
