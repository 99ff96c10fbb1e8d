"""The fault-injection suite at 1M rows (``python -m benchmarks.faults_1m [--rows N]``).

The same scenario as ``iterable_sync_tests/resilience/test_faults.py`` — a users, an
events, a list and a catalog sync (40/30/20/10% of the rows) — at a size CI cannot afford:
the emulator answers 10% 429s, 2% 500/503s, 1% dropped connections and latency spikes,
the sync process is SIGKILLed at random points and run again until a run has nothing left
to send; then every row is compared between the models, Iterable (the emulator's state)
and the sync's state tables.

Prints the figures (faults by kind from the emulator's call log, processes killed, rows
verified, mismatches) as JSON, and exits 1 on any mismatch. Its inputs and the emulator's
state live in ``--work-dir`` (default: a temporary directory, removed afterwards).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from iterable_sync.emulator import EmulatorProcess
from iterable_sync.warehouse_resource import DuckDBWarehouse
from iterable_sync_tests.resilience import chaos, scenario

API_KEY = "faults-benchmark-key"  # opens the local emulator only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--batch", type=int, default=0, help="rows a call (0: the product's)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-runs", type=int, default=12)
    parser.add_argument("--run-timeout", type=float, default=3_600, help="seconds per run")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="faults-1m-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = scenario.Sizes.of(args.rows)
    # Write calls in one clean pass; the kills land within its first 80%, spread out.
    per_call = args.batch or 1_000
    clean_pass = max(sizes.total // per_call, args.kills * 4)
    window = (2, max(3, int(clean_pass * 0.8) // max(args.kills, 1)))
    started = time.monotonic()
    try:
        warehouse = DuckDBWarehouse(path=str(work / "warehouse.duckdb"))
        scenario.write_models(warehouse, sizes)
        syncs_file = work / "syncs.yaml"
        syncs_file.write_text(scenario.SYNCS_YAML)
        with EmulatorProcess(
            API_KEY, state_dir=work / "emulator", rate_limits="off", startup_timeout=60
        ) as emulator:
            emulator.admin.set_faults({**chaos.FAULTS, "seed": args.seed})
            report = chaos.run_until_done(
                warehouse=warehouse,
                warehouse_path=warehouse.path,
                syncs_file=syncs_file,
                sync_names=[s.name for s in scenario.syncs()],
                emulator=emulator,
                home=work / "home",
                kills=args.kills,
                kill_after_calls=window,
                batch=args.batch,
                seed=args.seed,
                max_runs=args.max_runs,
                run_timeout_s=args.run_timeout,
                env={"ITERABLE_SYNC_LOCK_LEASE_S": "2"},
            )
            emulator.admin.clear_faults()
            verdict = scenario.verify(warehouse, emulator.state_dir, sizes)
        leaked = [str(p) for p in report.logs if API_KEY in p.read_text(errors="replace")]
        figures = {
            "rows": sizes.total,
            "rows_by_sync": {
                "users": sizes.users,
                "events": sizes.events,
                "list": sizes.members,
                "catalog": sizes.items,
            },
            "rows_per_call": per_call,
            "faults_injected": dict(report.faults),
            "latency_spikes": report.spikes,
            # The emulator keeps its last 10,000 calls: at 1M rows the counts above may
            # cover the later runs only.
            "calls_in_log": report.calls,
            "runs": report.runs,
            "processes_killed": report.killed,
            "killed_after_write_calls": report.kill_points,
            "rows_verified": verdict.rows_verified,
            "mismatches": verdict.mismatches,
            "mismatch_samples": verdict.samples,
            "logs_with_the_key": leaked,
            "seconds": round(time.monotonic() - started, 1),
        }
        print(json.dumps(figures, indent=2))
        return 0 if verdict.mismatches == 0 and not leaked else 1
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
