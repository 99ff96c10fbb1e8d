"""The whole shipped job, run on two days over freshly seeded data, leaves every contact that
exists in Iterable equal to its model row for every mapped field (issue 27's measure).

Day one: the emulator already holds most contacts (as `make demo` seeds it); the shipped
`syncs.yaml` runs every sync, creators before updaters. Between the days a few contacts that
Iterable did not have sign up elsewhere (created straight in the emulator, with nothing of
ours). Day two: nothing in the model changed, so the only rows sent are retries of rows
Iterable answered "not found" — and after it, every user Iterable holds carries the model's
values. What a model row should look like in Iterable is the payload the warehouse builds
from it (a full-resync diff, which sends nothing); the profile is read back through
Iterable's own read endpoint.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from iterable_sync import settings
from iterable_sync.demo import _existing_users
from iterable_sync.emulator.launcher import EmulatorProcess
from iterable_sync.iterable_resource import EMULATOR_KEY
from iterable_sync.seed import seed_contacts
from iterable_sync.sync.plan.tables import SyncTables
from iterable_sync.warehouse_resource import DuckDBWarehouse

SYNC = "iterable_production"
STATE = SyncTables(SYNC).state
#: Contacts not in Iterable on day one that sign up elsewhere before day two.
SIGN_UPS = 5


def run_job(**kwargs: Any) -> dg.ExecuteInProcessResult:
    from iterable_sync.definitions import build_definitions

    job = build_definitions().resolve_job_def("daily_sync_job")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), **kwargs)
    assert result.success
    return result


def metadata_by_asset(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        e.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in e.materialization.metadata.items()
        }
        for e in result.get_asset_materialization_events()
    }


def open_emulator(home: Path) -> EmulatorProcess:
    return EmulatorProcess(api_key=EMULATOR_KEY, state_dir=home / "emulator", rate_limits="off")


def comparable(value: Any) -> Any:
    """A value as Iterable and the payload may both spell it: a date string in any of the
    formats Iterable reads as a date is compared as the instant it names."""
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                parsed = dt.datetime.strptime(value, fmt)
            except ValueError:
                continue
            return parsed.replace(tzinfo=parsed.tzinfo or dt.UTC)
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.slow
def test_two_days_of_the_shipped_job_leave_iterable_equal_to_the_model(home: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(settings.duckdb_path()))
    with warehouse.session() as session:
        seed_contacts(session.conn, rows=6000, seed=11)  # type: ignore[attr-defined]
    with open_emulator(home) as emu:
        emu.admin.seed_users(_existing_users(warehouse))

    run_job()
    with warehouse.session() as session:
        missing = session.query(
            f"SELECT PK, EMAIL, USER_ID FROM {STATE} WHERE OUTCOME = 'not_found' ORDER BY PK"
        )
        assert len(missing) > 2 * SIGN_UPS
        # The next day: the back-off's first retry is due.
        session.execute(f"UPDATE {STATE} SET LAST_TRIED = DATEADD(DAY, -1, LAST_TRIED)")
    # An email-based project: a user signs up with an email.
    signed_up = [r for r in missing if r["EMAIL"]][:SIGN_UPS]
    with open_emulator(home) as emu:
        emu.admin.seed_users([{"email": r["EMAIL"], "userId": r["USER_ID"]} for r in signed_up])

    second = metadata_by_asset(run_job())
    for key, meta in second.items():
        if key.endswith("_diff"):
            # Nothing changed in the model: every row the second day sends is a retry.
            sent = meta["added"] + meta["changed"] + meta["removed"]
            assert sent == meta["sent_retry_not_found"], (key, meta)
    production = second[f"iterable/{SYNC}"]
    assert production["accepted"] == SIGN_UPS
    assert production["not_found"] == len(missing) - SIGN_UPS

    # What each model row should be in Iterable, built from the model and sent nowhere.
    from iterable_sync.definitions import build_definitions

    build_definitions().resolve_job_def("daily_sync_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(f"{SYNC}_diff")],
        run_config={"ops": {f"{SYNC}_diff": {"config": {"full_resync": True}}}},
    )
    with warehouse.session() as session:
        expected = session.query(
            f"SELECT PK, USER_ID, PAYLOAD FROM {SyncTables(SYNC).diff} ORDER BY PK"
        )
    assert len(expected) > 1000

    compared = 0
    with open_emulator(home) as emu, emu.client() as api:
        for row in expected:
            user = api.get(f"/api/users/byUserId/{row['USER_ID']}").json().get("user")
            if not user:
                continue  # not in Iterable: update mode leaves it alone
            fields = user.get("dataFields", {})
            for field, value in json.loads(row["PAYLOAD"]).items():
                assert comparable(fields.get(field)) == comparable(value), (row["PK"], field)
            compared += 1
    signed_up_ids = {r["USER_ID"] for r in signed_up}
    assert signed_up_ids <= {r["USER_ID"] for r in expected}
    assert compared > len(expected) // 2
