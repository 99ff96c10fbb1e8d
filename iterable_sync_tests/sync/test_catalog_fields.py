"""A catalog sync's ``field_types``, declared before the first upload and read back through
``GET /api/catalogs/{catalogName}/fieldMappings`` (spec ``CatalogFieldMappingsResponse``:
``definedMappings`` field → type). Spec, PUT fieldMappings: "After being set, a given
field's data type may not be changed. Valid types: boolean, date, geo_location, long,
double, object, and string.\""""

import pytest

from iterable_sync.iterable import IterableClient
from iterable_sync.sync.config import SyncsFileError
from iterable_sync_tests.sync.typed_harness import TypedHarness, make

COLUMNS = {"ID": "VARCHAR", "NAME": "VARCHAR", "PRICE": "BIGINT", "LAUNCHED": "VARCHAR"}
MAPPING = [
    {"column": "NAME", "field": "name"},
    {"column": "PRICE", "field": "price"},
    {"column": "LAUNCHED", "field": "launched"},
]


def item(n: int) -> dict[str, object]:
    # The first item's price is a whole number: untyped, it would make `price` a long.
    return {"ID": f"plan-{n}", "NAME": f"Plan {n}", "PRICE": 10 * n, "LAUNCHED": "2024-01-15"}


def harness_for(warehouse, emulator, field_types: dict[str, str]) -> TypedHarness:
    sync = make("catalog", catalog="plans", mapping=MAPPING, field_types=field_types)
    return TypedHarness(warehouse=warehouse, emulator=emulator, sync=sync)


def defined(harness: TypedHarness) -> dict[str, str]:
    emulator = harness.emulator
    with IterableClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        return client.catalogs.get_field_mappings("plans").defined_mappings


def test_types_are_declared_before_the_first_upload_once(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"price": "double", "launched": "date"})
    harness.load([item(1), item(2)], COLUMNS)
    before = harness.last_seq()
    assert harness.sync_run()["accepted"] == 2
    assert defined(harness) == {"price": "double", "launched": "date"}
    calls = [(c["method"], c["path"]) for c in harness.calls_since(before)]
    assert calls.index(("PUT", "/api/catalogs/plans/fieldMappings")) < calls.index(
        ("POST", "/api/catalogs/plans/items")
    )
    # Nothing changed: no call at all, not even a read of the mappings.
    before = harness.last_seq()
    assert harness.sync_run()["api_calls"] == 0
    assert shared_emulator.admin.calls(since=before) == []


def test_a_field_added_to_the_types_is_declared_on_the_next_run(warehouse, shared_emulator):
    harness = harness_for(warehouse, shared_emulator, {"price": "double"})
    harness.load([item(1)], COLUMNS)
    harness.sync_run()
    widened = harness_for(warehouse, shared_emulator, {"price": "double", "name": "string"})
    before = widened.last_seq()
    assert widened.sync_run()["write_calls"] == 1
    assert [c["path"] for c in widened.calls_since(before)] == ["/api/catalogs/plans/fieldMappings"]
    assert defined(widened) == {"price": "double", "name": "string"}


def test_changing_a_declared_type_stops_the_run_naming_sync_field_and_types(
    warehouse, shared_emulator
):
    harness = harness_for(warehouse, shared_emulator, {"price": "double"})
    harness.load([item(1)], COLUMNS)
    harness.sync_run()
    changed = harness_for(warehouse, shared_emulator, {"price": "long"})
    changed.load([item(1), item(2)], COLUMNS)
    before = changed.last_seq()
    result = changed.run(raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.cause.message  # what the sync raised
    assert "sync 'test_catalog'" in message
    assert "price: configured long, the catalog has double" in message
    # Only the mappings were read: nothing was uploaded, and the type is still Iterable's.
    read = [(c["method"], c["path"]) for c in shared_emulator.admin.calls(since=before)]
    assert read == [("GET", "/api/catalogs/plans/fieldMappings")]
    assert defined(changed) == {"price": "double"}


@pytest.mark.parametrize(
    ("field_types", "message"),
    [
        ({"price": "decimal"}, "field_types.price"),
        ({"cost": "double"}, "field_types: Value error, ['cost'] not among the mapped fields"),
    ],
)
def test_wrong_field_types_name_the_sync_and_the_key(field_types, message):
    with pytest.raises(SyncsFileError) as caught:
        make("catalog", catalog="plans", mapping=MAPPING, field_types=field_types)
    assert "sync 'test_catalog'" in str(caught.value) and message in str(caught.value)
