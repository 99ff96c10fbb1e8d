"""One pace per Iterable project: sends to one endpoint share a concurrency pool of one slot.

The measured case: two users syncs started at the same moment in two processes (two runs,
as two schedules or two people would start them) against one emulator with Iterable's real
rate limits. Each warehouse is its own DuckDB file, so nothing but the pool keeps the two
sends apart (one file would serialise them on its lock, which Snowflake would not).
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from iterable_sync.definitions import build_definitions
from iterable_sync.sync.pools import send_pool
from iterable_sync_tests.fixtures.project import seed_contacts, users_sync, write_syncs
from iterable_sync_tests.sync.typed_harness import make

ROOT = Path(__file__).resolve().parents[2]
BULK_UPDATE = "/api/users/bulkUpdate"
#: 30 batches of 1,000 per sync: ~6 s each at Iterable's 5 requests/s.
CONTACTS = 30_000

RUN_JOB = """
import sys
import dagster as dg
from iterable_sync.definitions import build_definitions
job = build_definitions().resolve_job_def(sys.argv[1])
result = job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
sys.exit(0 if result.success else 1)
"""


def test_each_send_is_in_the_pool_of_its_endpoint():
    users = make("users", identifiers={"email": "EMAIL"})
    other_users = make("users", name="other", mode="upsert", identifiers={"email": "EMAIL"})
    events = make("events", event_name="e", identifiers={"email": "EMAIL"})
    forget = make("deletions", action="forget", identifiers={"email": "EMAIL"})
    assert send_pool(users) == send_pool(other_users) == "iterable_users_bulk_update"
    assert send_pool(events) == "iterable_events_track_bulk"
    assert send_pool(forget) == "iterable_users_forget"


def test_the_send_assets_carry_their_pool(home):
    defs = build_definitions()
    send = defs.resolve_assets_def(dg.AssetKey(["iterable", "iterable_production"]))
    assert send.op.pool == "iterable_users_bulk_update"


def test_the_shipped_instance_gives_every_pool_one_slot_per_step(tmp_path, monkeypatch):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        config = instance.event_log_storage.get_pool_config()
        assert instance.event_log_storage.supports_global_concurrency_limits
    assert (config.default_pool_limit, config.pool_granularity.value) == (1, "op")


@pytest.mark.slow
def test_two_users_syncs_started_together_never_pass_the_rate_limit(
    tmp_path, monkeypatch, emulator
):
    """Real rate limits (the emulator fixture's default): 0 x 429 on users/bulkUpdate."""
    write_syncs(
        monkeypatch,
        tmp_path / "syncs.yaml",
        [
            users_sync("first_names", mode="upsert"),
            users_sync(
                "last_names", mode="upsert", mapping=[{"column": "LAST_NAME", "field": "lastName"}]
            ),
        ],
    )
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    processes = []
    started = time.monotonic()
    for name in ("first_names", "last_names"):
        home = tmp_path / name
        seed_contacts(home, CONTACTS)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ITERABLE_", "DAGSTER_"))}
        env |= {
            "ITERABLE_SYNC_HOME": str(home),
            "ITERABLE_SYNC_SYNCS_FILE": str(tmp_path / "syncs.yaml"),
            "ITERABLE_BASE_URL": emulator.base_url,
            "ITERABLE_API_KEY": emulator.api_key,
            "DAGSTER_HOME": str(dagster_home),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", RUN_JOB, f"{name}_job"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    seconds = time.monotonic() - started
    assert [p.returncode for p in processes] == [0, 0], "\n".join(o[-3000:] for o in outputs)

    calls = [c for c in emulator.admin.calls(limit=100_000) if c["path"] == BULK_UPDATE]
    statuses = [c["status"] for c in calls]
    print(
        f"\nusers/bulkUpdate: {len(calls)} calls, {statuses.count(429)} x 429,"
        f" {seconds:.1f} s for both runs"
    )
    assert statuses.count(429) == 0
    assert statuses.count(200) == 2 * CONTACTS // 1000
    assert emulator.admin.state()["users"] == CONTACTS
