"""The model assets as Dagster shows them: owners from models.yaml, a code reference to the
.sql file, and a warning (never a block) when a snapshot's columns change."""

from pathlib import Path

import dagster as dg
import pytest

from iterable_sync.definitions import build_definitions
from iterable_sync.models import MODELS_DIR, Model, load_models
from iterable_sync.models.assets import build_model_asset


def write_models(directory: Path, owners: str) -> None:
    (directory / "one.sql").write_text("SELECT 1 AS A")
    (directory / "models.yaml").write_text(f"one:\n  owners: {owners}\n")


def test_models_yaml_owners_reach_the_model(tmp_path):
    write_models(tmp_path, '["team:data-eng", "ann@example.com"]')
    assert load_models(tmp_path)["one"].owners == ("team:data-eng", "ann@example.com")


@pytest.mark.parametrize("owners", ['["data-eng"]', '"team:data-eng"', '["team:"]'])
def test_a_bad_owner_is_refused_naming_model_and_key(tmp_path, owners):
    write_models(tmp_path, owners)
    with pytest.raises(ValueError, match="model 'one', key 'owners'"):
        load_models(tmp_path)


def test_a_model_asset_references_its_sql_file(home):
    graph = build_definitions().resolve_asset_graph()
    metadata = graph.get(dg.AssetKey("contact_namespace")).metadata
    references = metadata["dagster/code_references"].code_references
    files = [Path(r.file_path) for r in references]
    assert MODELS_DIR / "contact_namespace.sql" in files
    assert all(f.is_file() for f in files)


def snapshot(sql: str, warehouse, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    model = Model(name="one", sql=sql)
    asset = build_model_asset(model, {"one": model}, warehouse.kind)
    checks = dg.build_column_schema_change_checks(assets=[asset])
    return dg.materialize([asset, *checks], resources={"warehouse": warehouse}, instance=instance)


def test_a_changed_column_warns_and_does_not_fail_the_run(warehouse):
    instance = dg.DagsterInstance.ephemeral()
    snapshot("SELECT 1 AS A, 'x' AS B", warehouse, instance)
    same = snapshot("SELECT 2 AS A, 'y' AS B", warehouse, instance)
    assert [c.passed for c in same.get_asset_check_evaluations()] == [True]
    changed = snapshot("SELECT 1 AS A, 2 AS B", warehouse, instance)
    assert changed.success
    (evaluation,) = changed.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "B" in (evaluation.description or "")


def test_every_model_has_a_non_blocking_schema_change_check(home):
    graph = build_definitions().resolve_asset_graph()
    for name in load_models():
        check = dg.AssetCheckKey(dg.AssetKey(name), "column_schema_change")
        assert check in graph.get(dg.AssetKey(name)).check_keys, name
        assert not graph.get_check_spec(check).blocking
