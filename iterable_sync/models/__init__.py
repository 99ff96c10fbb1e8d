"""Models: SQL files (Snowflake dialect) whose results the syncs send to Iterable."""

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

from iterable_sync.settings import SYNC_SCHEMA
from iterable_sync.sync.config_base import valid_owner

MODELS_DIR = Path(__file__).resolve().parent


class SnapshotKind(Enum):
    """How a model is snapshotted for a run (``snapshot:`` in models.yaml; see snapshot.py)."""

    TABLE = "table"
    VIEW = "view"


@dataclass(frozen=True)
class Model:
    """One model: its name, SQL and where its per-run snapshot is kept."""

    name: str
    sql: str
    description: str = ""
    owners: tuple[str, ...] = ()
    source_tables: tuple[tuple[str, str], ...] = field(default=())
    #: The ``.sql`` file, for the asset's code reference.
    path: Path | None = None
    #: A copy of its rows, or a view each sync's plan reads in one transaction.
    snapshot: SnapshotKind = SnapshotKind.TABLE

    @property
    def snapshot_table(self) -> str:
        return f"{SYNC_SCHEMA}.{self.name.upper()}"


def _source_tables(sql: str) -> tuple[tuple[str, str], ...]:
    """(schema, table) of every table the SQL reads, for lineage."""
    tree = sqlglot.parse_one(sql, read="snowflake")
    ctes = {cte.alias_or_name.upper() for cte in tree.find_all(exp.CTE)}
    found = {
        (table.db.upper(), table.name.upper())
        for table in tree.find_all(exp.Table)
        if table.name.upper() not in ctes
    }
    return tuple(sorted(found))


def _owners(model: str, owners: object) -> tuple[str, ...]:
    """``owners:`` of a model in models.yaml: a list of ``team:<name>`` or emails."""
    if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
        raise ValueError(f"models.yaml: model {model!r}, key 'owners': a list of strings")
    bad = [o for o in owners if not valid_owner(o)]
    if bad:
        raise ValueError(
            f"models.yaml: model {model!r}, key 'owners': {bad} must each be 'team:<name>' or "
            "an email address"
        )
    return tuple(owners)


def _snapshot(model: str, value: object) -> SnapshotKind:
    """``snapshot:`` of a model in models.yaml: ``table`` (the default) or ``view``."""
    try:
        return SnapshotKind(value)
    except ValueError:
        kinds = ", ".join(repr(k.value) for k in SnapshotKind)
        raise ValueError(
            f"models.yaml: model {model!r}, key 'snapshot': {value!r} is not one of {kinds}"
        ) from None


def load_models(directory: Path = MODELS_DIR) -> dict[str, Model]:
    """Every ``<name>.sql`` in the directory, described by ``models.yaml`` where it says so."""
    described = yaml.safe_load((directory / "models.yaml").read_text()) or {}
    models: dict[str, Model] = {}
    for path in sorted(directory.glob("*.sql")):
        sql = path.read_text()
        info = described.get(path.stem, {})
        models[path.stem] = Model(
            name=path.stem,
            sql=sql,
            description=info.get("description", f"Model {path.stem}."),
            owners=_owners(path.stem, info.get("owners", [])),
            source_tables=_source_tables(sql),
            path=path,
            snapshot=_snapshot(path.stem, info.get("snapshot", SnapshotKind.TABLE.value)),
        )
    return models
