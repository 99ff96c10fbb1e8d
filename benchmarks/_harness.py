"""Measuring a case in a process of its own: wall time, CPU time and peak RSS, bounded.

Each measured run is a fresh ``python -m benchmarks._worker module:function`` child, so
nothing a previous run left in the interpreter counts against it. Its peak RSS is its own
``VmHWM`` (``/proc/<pid>/status``): read by the child itself just before it exits, and
sampled by the parent every 0.1 s while it runs (what a stopped run reached). Not
``ru_maxrss`` from ``wait4``: Linux carries the parent's high-water mark into a child across
fork and exec, so a child started by a parent that had seeded 10M rows reported the parent's
1.67 GB where ``/usr/bin/time`` measured the child at 854 MB. A run that passes its time or
memory bound is killed and reported with what it reached (the last progress line it wrote).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Seeded warehouses and other reusable inputs (gitignored); BENCH_WORK_DIR moves it.
WORK = Path(os.environ.get("BENCH_WORK_DIR") or Path(__file__).resolve().parent / ".work")
#: Where each run's table goes; BENCH_RESULTS_DIR moves it (the smoke test does).
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).resolve().parent / "results")


@dataclass
class Measured:
    """What a measured child did, as the parent saw it and as it reported itself."""

    ok: bool
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    result: dict[str, Any] = field(default_factory=dict)
    #: Why it did not finish: "timeout", "memory", or the tail of its error output.
    failure: str | None = None
    #: Its last progress line (what it reached when it was stopped).
    reached: str | None = None
    #: Seconds from its start to its first progress line (interpreter start and imports,
    #: polled every 0.1 s): what a stopped run's wall time holds besides its work.
    first_progress_s: float | None = None

    @property
    def work_s(self) -> float:
        """Wall time from its first progress line: a stopped run's work, a lower bound."""
        return self.wall_s - (self.first_progress_s or 0.0)


def _vm_hwm_mb(pid: int) -> float:
    """Peak RSS so far of a running process (Linux), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_measured(
    target: str,
    kwargs: dict[str, Any],
    timeout_s: float,
    max_rss_mb: float | None = None,
    env: dict[str, str] | None = None,
) -> Measured:
    """Run ``target`` ("module:function") with ``kwargs`` in a fresh child and measure it."""
    with tempfile.TemporaryDirectory(prefix="bench-", dir=WORK) as tmp:
        result_path = Path(tmp) / "result.json"
        progress_path = Path(tmp) / "progress.txt"
        stderr_path = Path(tmp) / "stderr.txt"
        command = [
            sys.executable, "-m", "benchmarks._worker",
            target, json.dumps(kwargs), str(result_path), str(progress_path),
        ]  # fmt: skip
        child_env = {**os.environ, **(env or {})}
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), child_env.get("PYTHONPATH")) if p
        )
        started = time.perf_counter()
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=child_env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
            )  # fmt: skip
        failure: str | None = None
        peak_seen = 0.0
        first_progress: float | None = None
        status = 0
        rusage: Any = None
        while True:
            # wait4, not Popen.wait: it hands back the child's own CPU time (its ru_maxrss is
            # not used: see the module's docstring).
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_seen = max(peak_seen, _vm_hwm_mb(proc.pid))
            elapsed = time.perf_counter() - started
            if first_progress is None and progress_path.exists():
                first_progress = elapsed
            if failure is None and elapsed > timeout_s:
                failure = f"timeout after {timeout_s:.0f} s"
            if failure is None and max_rss_mb is not None and peak_seen > max_rss_mb:
                failure = (
                    f"stopped at {peak_seen / 1024:.1f} GB RSS (bound {max_rss_mb / 1024:.0f} GB)"
                )
            if failure is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        reached = None
        if progress_path.exists():
            lines = progress_path.read_text().strip().splitlines()
            reached = lines[-1] if lines else None
        own_peak = Path(str(result_path) + ".vmhwm")
        if own_peak.exists():
            peak_seen = max(peak_seen, int(own_peak.read_text() or 0) / 1024)
        result: dict[str, Any] = {}
        if failure is None and proc.returncode == 0 and result_path.exists():
            result = json.loads(result_path.read_text())
        elif failure is None:
            tail = stderr_path.read_text(errors="replace").strip().splitlines()[-15:]
            failure = f"exit {proc.returncode}: " + "\n".join(tail)
        return Measured(
            ok=failure is None,
            wall_s=wall,
            cpu_s=rusage.ru_utime + rusage.ru_stime,
            peak_rss_mb=peak_seen,
            result=result,
            failure=failure,
            reached=reached,
            first_progress_s=first_progress,
        )


# ----------------------------------------------------------------------------- reporting


@dataclass
class Row:
    """One line of the results table."""

    case: str
    figure: str
    target: str
    baseline: str
    ratio: str
    passed: bool | None  # None: information only, no target

    @property
    def verdict(self) -> str:
        return "—" if self.passed is None else ("pass" if self.passed else "**FAIL**")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| case | figure | target | baseline | ratio | result |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.case} | {r.figure} | {r.target} | {r.baseline} | {r.ratio} | {r.verdict} |"
        for r in rows
    ]
    return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value:,.1f} s" if value >= 10 else f"{value:,.2f} s"


def megabytes(value: float) -> str:
    return f"{value / 1024:,.2f} GB" if value >= 1024 else f"{value:,.0f} MB"


def times(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}x"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    """What the numbers were measured on, for the results file."""
    import dagster
    import duckdb

    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            or "unknown"
        )
    except OSError:
        commit = "unknown"
    return {
        "commit": commit,
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "load average (1, 5, 15 min) at the end": load,
    }


def progress(message: str) -> None:
    """In a measured child: note how far it got (reported if it is stopped)."""
    path = os.environ.get("BENCH_PROGRESS_FILE")
    if path:
        with open(path, "a") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {message}\n")
