"""`make demo`'s command, run as a user runs it, in a temporary ITERABLE_SYNC_HOME."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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

    second = run_demo(tmp_path / "home")
    assert "already seeded" in second
    assert "sent 0, accepted 0" in second and "(0 writes)" in second
