"""Run the scenario's syncs in child processes under injected faults, SIGKILL some of them at
random points, and run again until a run completes with nothing left to send.

Every wait is bounded in time and every loop in count; the children are ours alone and are
killed by their own pid.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.sync.plan.tables import RUNS_TABLE
from iterable_sync.warehouse_resource import Warehouse

#: The issue's mix: 10% 429s, 2% 500/503s, 1% dropped connections, and latency spikes.
FAULTS: dict[str, Any] = {
    "p429": 0.10,
    "p500": 0.01,
    "p503": 0.01,
    "p_drop": 0.01,
    "spike_p": 0.02,
    "spike_ms": 1_500,
}
REPO = Path(__file__).resolve().parents[2]


@dataclass
class ChaosReport:
    runs: int = 0
    killed: int = 0
    kill_points: list[int] = field(default_factory=list)  # write calls seen before the kill
    faults: Counter[str] = field(default_factory=Counter)
    spikes: int = 0
    calls: int = 0
    outputs: list[str] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)  # each run's whole stdout and stderr


def _run_args(warehouse_path: str, syncs_file: Path, emulator: EmulatorProcess, batch: int):
    return [
        sys.executable,
        "-m",
        "iterable_sync_tests.resilience.runner",
        "--warehouse",
        warehouse_path,
        "--syncs",
        str(syncs_file),
        "--base-url",
        emulator.base_url,
        "--batch-size",
        str(batch),
    ]


def _pending(warehouse: Warehouse, names: list[str]) -> int:
    """Rows the last diff of each sync still had to send (0 after a clean final run)."""
    total = 0
    with warehouse.session() as session:
        for name in names:
            rows = session.query(
                f"SELECT ADDED + CHANGED AS N FROM {RUNS_TABLE} WHERE SYNC = ?"
                " ORDER BY FINISHED_AT DESC LIMIT 1",
                [name],
            )
            total += int(rows[0]["N"]) if rows else 1
    return total


def run_until_done(
    *,
    warehouse: Warehouse,
    warehouse_path: str,
    syncs_file: Path,
    sync_names: list[str],
    emulator: EmulatorProcess,
    home: Path,
    kills: int,
    kill_after_calls: tuple[int, int],
    batch: int,
    seed: int,
    max_runs: int,
    run_timeout_s: float,
    env: dict[str, str] | None = None,
) -> ChaosReport:
    """Kill the first ``kills`` runs after a random number of write calls in
    ``kill_after_calls``; then run until a run sends nothing (at most ``max_runs``)."""
    rng = random.Random(seed)
    home.mkdir(parents=True, exist_ok=True)
    report = ChaosReport()
    first_seq = _last_seq(emulator)
    child_env = {
        **os.environ,
        "ITERABLE_API_KEY": emulator.api_key,
        "ITERABLE_SYNC_HOME": str(home),
        **(env or {}),
    }
    clean_runs = 0
    for attempt in range(max_runs):
        report.runs += 1
        start_seq = _last_seq(emulator)
        log = home / f"run-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                _run_args(warehouse_path, syncs_file, emulator, batch),
                cwd=REPO,
                env=child_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                if report.killed < kills:
                    target = rng.randint(*kill_after_calls)
                    seen = _wait_for_writes(emulator, proc, start_seq, target, run_timeout_s)
                    if proc.poll() is None:
                        os.kill(proc.pid, signal.SIGKILL)
                        report.killed += 1
                        report.kill_points.append(seen)
                proc.wait(timeout=run_timeout_s)
            finally:
                if proc.poll() is None:  # past its time: ours to stop
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        report.logs.append(log)
        report.outputs.append(log.read_text(errors="replace")[-4000:])
        if proc.returncode == 0 and _pending(warehouse, sync_names) == 0:
            clean_runs += 1
            break
    calls = emulator.admin.calls(since=first_seq, limit=1_000_000)
    report.calls = len(calls)
    for call in calls:
        if call.get("fault"):
            kind = str(call["fault"])
            report.faults[kind if kind != "drop" else "dropped connection"] += 1
        if float(call.get("latencyMs") or 0) >= FAULTS["spike_ms"]:
            report.spikes += 1
    if not clean_runs:
        raise AssertionError(f"no clean run in {max_runs} runs; last output:\n{report.outputs[-1]}")
    return report


def _last_seq(emulator: EmulatorProcess) -> int:
    calls = emulator.admin.calls(limit=1_000_000)
    return max((int(c["seq"]) for c in calls), default=0)


def _wait_for_writes(
    emulator: EmulatorProcess,
    proc: subprocess.Popen[bytes],
    since: int,
    target: int,
    timeout_s: float,
) -> int:
    """Poll the call log until ``target`` write calls arrived, the child ended, or time ran
    out; the number of write calls seen."""
    deadline = time.monotonic() + timeout_s
    seen = 0
    while proc.poll() is None and time.monotonic() < deadline:
        seen = sum(
            1 for c in emulator.admin.calls(since=since, limit=1_000_000) if c["method"] != "GET"
        )
        if seen >= target:
            break
        time.sleep(0.05)
    return seen
