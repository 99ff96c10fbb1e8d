"""`make demo`'s command, run as a user runs it, in a temporary ITERABLE_SYNC_HOME."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SYNCS = {
    "iterable_production", "new_signups", "namespace_created", "plan_purchases",
    "trial_carts", "plan_catalog", "new_active_users_list", "canonical_emails",
    "forget_deactivated", "email_consent", "plan_lists",
}  # fmt: skip


def run_demo(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ITERABLE_", "DAGSTER_"))}
    env["ITERABLE_SYNC_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "iterable_sync", "demo", "--rows", "3000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_demo_syncs_then_a_rerun_sends_nothing(tmp_path):
    first = run_demo(tmp_path / "home")
    assert "Seeded the embedded warehouse with 3,000 contacts" in first
    rows = int(re.search(r"model contact_namespace: ([\d,]+) rows", first)[1].replace(",", ""))
    assert rows > 0
    sent = re.search(r"sync iterable/iterable_production: sent ([\d,]+), accepted ([\d,]+)", first)
    assert int(sent[1].replace(",", "")) > 0 and int(sent[2].replace(",", "")) > 0
    assert "run: SUCCESS" in first
    assert (tmp_path / "home" / "warehouse.duckdb").exists()

    # Every sync of the shipped syncs.yaml, one of each type, ran against the emulator.
    synced = re.findall(r"sync iterable/(\w+): sent ([\d,]+)", first)
    assert {name for name, _ in synced} == SHIPPED_SYNCS
    # The examples keep their calls' bodies (the request debugger), the live sync does not.
    kept = set(re.findall(r"calls' bodies kept: python -m iterable_sync calls (\w+)", first))
    assert kept == SHIPPED_SYNCS - {"iterable_production"}

    second = run_demo(tmp_path / "home")
    assert "already seeded" in second
    # Nothing changed: no sync writes anything (not-found retries wait a day on their back-off).
    lines = re.findall(r"sync iterable/(\w+): sent (\d[\d,]*), .*\((\d+) writes\)", second)
    assert {name for name, _, _ in lines} == SHIPPED_SYNCS
    assert all((sent, writes) == ("0", "0") for _, sent, writes in lines), lines
