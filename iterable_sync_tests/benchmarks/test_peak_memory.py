"""The benchmark harness reports each measured process's own peak RSS.

Linux carries a process's RSS high-water mark into a child across fork and exec, so
``ru_maxrss`` from ``wait4`` reported a planning child at the 1.67 GB its parent had reached
seeding 10M rows, where ``/usr/bin/time`` measured the child itself at 854 MB.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import _harness as h

PARENT_MB = 600
CHILD_MB = 150


def allocate(mb: int) -> dict[str, int]:
    """(In the measured child.) Touch ``mb`` MiB, so its own peak RSS is at least that."""
    block = b"\x01" * (mb * 1024 * 1024)
    return {"allocated": len(block)}


def _parent_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


@pytest.fixture
def work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(h, "WORK", tmp_path)
    return tmp_path


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_a_child_started_from_a_large_parent_reports_its_own_peak(work_dir: Path) -> None:
    ballast = b"\x01" * (PARENT_MB * 1024 * 1024)  # the parent's high-water mark, as seeding
    assert _parent_peak_mb() >= PARENT_MB
    measured = h.run_measured(
        f"{__name__}:allocate", {"mb": CHILD_MB}, timeout_s=120, max_rss_mb=None
    )
    del ballast
    assert measured.ok, measured.failure
    # Its own: the 150 MiB it touched plus an interpreter, far under the parent's 600 MiB.
    assert CHILD_MB <= measured.peak_rss_mb < PARENT_MB - 200


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_a_child_that_grows_past_its_parent_reports_that_peak(work_dir: Path) -> None:
    parent = _parent_peak_mb()
    grown = int(parent) + 200
    measured = h.run_measured(f"{__name__}:allocate", {"mb": grown}, timeout_s=120)
    assert measured.ok, measured.failure
    assert measured.peak_rss_mb >= grown


def test_a_stopped_child_reports_the_peak_it_reached(work_dir: Path) -> None:
    measured = h.run_measured(
        f"{__name__}:allocate_and_wait", {"mb": CHILD_MB}, timeout_s=60, max_rss_mb=CHILD_MB
    )
    assert not measured.ok
    assert measured.failure is not None and "RSS" in measured.failure
    assert measured.peak_rss_mb > CHILD_MB


def allocate_and_wait(mb: int) -> dict[str, int]:
    """(In the measured child.) Touch ``mb`` MiB, then wait to be stopped at its bound."""
    import time

    block = b"\x01" * (mb * 1024 * 1024)
    time.sleep(60)
    return {"allocated": len(block)}
