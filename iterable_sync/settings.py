"""Where local state lives and which embedded defaults are in force.

Everything the project writes on a laptop (the DuckDB warehouse, Dagster's storage, the
emulator's state) sits under one directory, ``ITERABLE_SYNC_HOME``, so that deleting it
starts over cleanly and nothing leaks into the source tree.
"""

import os
from pathlib import Path

HOME_ENV = "ITERABLE_SYNC_HOME"
WAREHOUSE_ENV = "ITERABLE_SYNC_WAREHOUSE"
DUCKDB_PATH_ENV = "ITERABLE_SYNC_DUCKDB_PATH"
SYNCS_FILE_ENV = "ITERABLE_SYNC_SYNCS_FILE"

#: Schema that holds this project's own tables (model snapshots, state, ledgers).
SYNC_SCHEMA = "ITERABLE_SYNC"

PACKAGE_DIR = Path(__file__).resolve().parent


def home() -> Path:
    """The local state directory, created on first use."""
    path = Path(os.environ.get(HOME_ENV, ".iterable_sync")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def duckdb_path() -> Path:
    """The embedded warehouse file."""
    explicit = os.environ.get(DUCKDB_PATH_ENV)
    return Path(explicit).expanduser().resolve() if explicit else home() / "warehouse.duckdb"


def warehouse_kind() -> str:
    """``duckdb`` (embedded default) or ``snowflake``."""
    kind = os.environ.get(WAREHOUSE_ENV, "duckdb").strip().lower()
    if kind not in {"duckdb", "snowflake"}:
        raise ValueError(f"{WAREHOUSE_ENV} must be 'duckdb' or 'snowflake', got {kind!r}")
    return kind


def syncs_file() -> Path:
    """syncs.yaml: explicit path, else the working directory's, else the project's."""
    explicit = os.environ.get(SYNCS_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    local = Path.cwd() / "syncs.yaml"
    return local if local.exists() else PACKAGE_DIR.parent / "syncs.yaml"


def project_type() -> str:
    """The Iterable project's type: email, userId or hybrid."""
    kind = os.environ.get("ITERABLE_PROJECT_TYPE", "email").strip()
    if kind not in {"email", "userId", "hybrid"}:
        raise ValueError(f"ITERABLE_PROJECT_TYPE must be email, userId or hybrid, got {kind!r}")
    return kind


def real_destination() -> bool:
    """Whether runs call a real Iterable: ``ITERABLE_API_KEY`` or ``ITERABLE_BASE_URL`` is
    set. Neither set: the embedded emulator, where example syncs (``live: false``) run."""
    return bool(os.environ.get("ITERABLE_API_KEY") or os.environ.get("ITERABLE_BASE_URL"))
