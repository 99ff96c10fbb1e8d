"""The project's Python loggers reach the run's event log under the shipped dagster.yaml.

The client (``iterable_sync/iterable``, which imports no Dagster) warns through the Python
logger ``iterable_sync.iterable`` when it retries; Dagster captures a Python logger only when
the instance names it in ``python_logs: managed_python_loggers``."""

import logging
from pathlib import Path

import dagster as dg
import yaml

from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync

DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"


def test_the_client_retry_warning_is_in_the_run_event_log(warehouse, emulator):
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(20)])
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=make_sync())
    # The first bulk update is answered 429; the client waits and sends it again.
    emulator.admin.set_faults(path_scripts={"/api/users/bulkUpdate": ["429"]})
    python_logs = yaml.safe_load(DAGSTER_YAML.read_text()).get("python_logs", {})
    with dg.instance_for_test(overrides={"python_logs": python_logs}) as instance:
        result = dg.materialize(
            harness.assets(),
            resources={"warehouse": warehouse, "iterable": harness.iterable()},
            instance=instance,
        )
        assert result.success
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING and "retrying in" in entry.user_message
        ]
    assert len(warnings) == 1
    assert "429" in warnings[0] or "rate" in warnings[0].lower()
