"""Emulator throughput on users/bulkUpdate, against Iterable's own ceiling.

Iterable allows 5 bulkUpdate requests/s of up to 1,000 users: 5,000 users/s. The emulator
must sustain at least 3x that (with rate limits off) so it is never the bottleneck of a
sync test. Run: ``.venv/bin/python benchmarks/emulator_throughput.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx

from iterable_sync.emulator import EmulatorProcess

REAL_CEILING = 5 * 1000  # users/s: 5 req/s x 1,000 users
TARGET_RATIO = 3.0
BATCH = 1000
KEY = "benchmark-key"


def make_batch(thread: int, batch: int) -> dict:
    # Half new users, half updates of users from an earlier batch: both paths cost.
    base = (batch // 2) * BATCH
    return {
        "users": [
            {
                "email": f"t{thread}-u{base + i}@bench.example.com",
                "dataFields": {
                    "firstName": f"First{i}",
                    "lastName": "Last",
                    "plan": "pro" if i % 3 else "free",
                    "score": i * 1.5,
                    "orders": i % 17,
                    "active": bool(i % 2),
                    "lastSeen": "2024-05-01 10:00:00",
                    "address": {"city": "Lisbon", "zip": f"{1000 + i}"},
                },
            }
            for i in range(BATCH)
        ]
    }


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time a process has used (Linux /proc), to report capacity per core: on a shared
    machine the wall-clock rate also measures everyone else's load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def payloads(thread: int, count: int) -> list[bytes]:
    # Encoded before the clock starts: the benchmark measures the emulator, not the client.
    return [json.dumps(make_batch(thread, batch)).encode() for batch in range(count)]


def worker(base_url: str, bodies: list[bytes], deadline: float, totals: list[int],
           thread: int, errors: list[str]):
    batch = 0
    headers = {"Api-Key": KEY, "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            body = bodies[batch % len(bodies)]
            response = client.post("/api/users/bulkUpdate", content=body)
            batch += 1
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")
                return
            totals[thread] += response.json()["successCount"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, EmulatorProcess(
        KEY, state_dir=state, rate_limits="off"
    ) as emulator:
        # Enough distinct batches per thread for ~3x the 15 req/s target.
        bodies = [payloads(t, int(args.seconds * 15)) for t in range(args.threads)]
        totals = [0] * args.threads
        errors: list[str] = []
        cpu_before = cpu_seconds(emulator.pid)
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(
                target=worker,
                args=(emulator.base_url, bodies[t], deadline, totals, t, errors),
            )
            for t in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 60)
        elapsed = time.monotonic() - started
        cpu_after = cpu_seconds(emulator.pid)
        stored = emulator.admin.state()["users"]
    rate = sum(totals) / elapsed
    ratio = rate / REAL_CEILING
    verdict = "pass" if ratio >= TARGET_RATIO and not errors else "FAIL"
    per_cpu = "n/a"
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        per_cpu = f"{sum(totals) / (cpu_after - cpu_before):,.0f}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"| metric | value |\n|---|---|\n"
          f"| users sent (accepted) | {sum(totals):,} in {elapsed:.1f} s, "
          f"{args.threads} threads |\n"
          f"| users stored | {stored:,} |\n"
          f"| emulator users/s | {rate:,.0f} |\n"
          f"| Iterable ceiling users/s | {REAL_CEILING:,} |\n"
          f"| ratio | {ratio:.1f}x (target >= {TARGET_RATIO:g}x) |\n"
          f"| users per emulator CPU-second | {per_cpu} |\n"
          f"| machine load average (1, 5, 15 min) | {load} |\n"
          f"| result | {verdict} |")
    for error in errors[:3]:
        print(f"error: {error}")
    return 0 if verdict == "pass" else 1


if __name__ == "__main__":
    raise SystemExit(main())
