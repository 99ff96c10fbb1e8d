"""A model's snapshot: a table copy, or a view a sync's plan reads at one point in time."""

from pathlib import Path

import duckdb
import pytest

from iterable_sync.models import Model, SnapshotKind, load_models
from iterable_sync.models.snapshot import snapshot_model
from iterable_sync.warehouse_resource import DuckDBWarehouse, Warehouse

SOURCE = "SRC.CONTACTS"


def seeded(warehouse: Warehouse, rows: int) -> None:
    with warehouse.session() as session:
        session.execute("CREATE SCHEMA IF NOT EXISTS SRC")
        session.execute(f"CREATE OR REPLACE TABLE {SOURCE} (ID VARCHAR)")
        for i in range(rows):
            session.execute(f"INSERT INTO {SOURCE} VALUES ('C{i}')")


def model(kind: SnapshotKind) -> Model:
    return Model(name="contacts", sql=f"SELECT ID FROM {SOURCE}", snapshot=kind)


def test_a_view_snapshot_copies_no_row_on_duckdb(warehouse: DuckDBWarehouse):
    seeded(warehouse, 3)
    with warehouse.session() as session:
        assert snapshot_model(session, model(SnapshotKind.VIEW)) is SnapshotKind.VIEW
        assert session.object_kind("ITERABLE_SYNC", "CONTACTS") == "VIEW"
        assert session.scalar("SELECT count(*) FROM ITERABLE_SYNC.CONTACTS") == 3


def test_a_table_snapshot_copies_the_rows(warehouse: DuckDBWarehouse):
    seeded(warehouse, 3)
    with warehouse.session() as session:
        snapshot_model(session, model(SnapshotKind.TABLE))
        session.execute(f"DELETE FROM {SOURCE}")
        assert session.object_kind("ITERABLE_SYNC", "CONTACTS") == "TABLE"
        assert session.scalar("SELECT count(*) FROM ITERABLE_SYNC.CONTACTS") == 3


def test_a_snapshot_replaces_the_other_kind_under_its_name(warehouse: DuckDBWarehouse):
    seeded(warehouse, 2)
    with warehouse.session() as session:
        snapshot_model(session, model(SnapshotKind.TABLE))
        snapshot_model(session, model(SnapshotKind.VIEW))
        assert session.object_kind("ITERABLE_SYNC", "CONTACTS") == "VIEW"
        snapshot_model(session, model(SnapshotKind.TABLE))
        assert session.object_kind("ITERABLE_SYNC", "CONTACTS") == "TABLE"


def test_on_snowflake_a_view_snapshot_is_copied_as_a_table(snowflake_warehouse):
    """Snowflake's statements each read what was committed when they began: a view read by
    several statements would not be one point in time, so the rows are copied."""
    seeded(snowflake_warehouse, 2)
    with snowflake_warehouse.session() as session:
        assert snapshot_model(session, model(SnapshotKind.VIEW)) is SnapshotKind.TABLE
        assert session.object_kind("ITERABLE_SYNC", "CONTACTS") == "TABLE"


def test_a_view_read_in_one_consistent_read_does_not_see_rows_written_meanwhile(
    warehouse: DuckDBWarehouse,
):
    """The plan's reads of a view snapshot are one point in time, whatever the source does."""
    seeded(warehouse, 2)
    with warehouse.session() as session:
        snapshot_model(session, model(SnapshotKind.VIEW))
        other = session.conn.cursor()  # type: ignore[attr-defined]  # another connection
        with session.consistent_read():
            before = session.scalar("SELECT count(*) FROM ITERABLE_SYNC.CONTACTS")
            other.execute(f"INSERT INTO {SOURCE} VALUES ('late')")
            during = session.scalar("SELECT count(*) FROM ITERABLE_SYNC.CONTACTS")
        after = session.scalar("SELECT count(*) FROM ITERABLE_SYNC.CONTACTS")
        other.close()
    assert (before, during, after) == (2, 2, 3)


def test_a_consistent_read_sees_the_tables_it_writes(warehouse: DuckDBWarehouse):
    """Queries in the transaction run on its own connection (a cursor would not see them)."""
    with warehouse.session() as session:
        with session.consistent_read():
            session.execute("CREATE TABLE T AS SELECT 1 AS A UNION ALL SELECT 2")
            assert session.query("SELECT count(*) AS N FROM T") == [{"N": 2}]
        assert session.scalar("SELECT count(*) FROM T") == 2


def test_a_failed_consistent_read_leaves_nothing_behind(warehouse: DuckDBWarehouse):
    with warehouse.session() as session:
        with pytest.raises(duckdb.Error), session.consistent_read():
            session.execute("CREATE TABLE T AS SELECT 1 AS A")
            session.execute("SELECT * FROM NO_SUCH_TABLE")
        assert not session.table_exists("main", "T")


def test_models_yaml_snapshot_is_table_or_view(tmp_path: Path):
    (tmp_path / "one.sql").write_text("SELECT 1 AS A")
    (tmp_path / "models.yaml").write_text("one:\n  snapshot: copy\n")
    with pytest.raises(ValueError, match="model 'one', key 'snapshot': 'copy'"):
        load_models(tmp_path)


def test_the_shipped_contact_model_is_read_as_a_view():
    assert load_models()["contact_namespace"].snapshot is SnapshotKind.VIEW
