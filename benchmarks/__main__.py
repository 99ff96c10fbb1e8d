"""``python -m benchmarks`` (``make bench``): every case, side by side with its anchors.

Planning (case 1) is measured against three anchors in the same run, each in its own bounded
process on the same rows and columns (``anchors.py``): DuckDB's native ``hash()`` + full
outer join (the floor), MD5 of the row's JSON + join, and vectorized pandas; the table
prints each of the product's ratios to them beside its target (``planning_rows.py``).

Environment:

- ``ROWS=N``: the large planning size (default 10,000,000); the small one and the rerun
  use N/10.
- ``BENCH_QUICK=1``: small sizes (5,000 rows at most, 3,000 users): a smoke run of the
  harness, not a measurement. Its table goes to ``results/<date>-quick.md``.
- ``BENCH_CASES=1,2,3``: run only these cases, in this order (the results file is rewritten
  after each, so a run cut short keeps what it measured). ``1a`` and ``1b`` are case 1 at
  its small and its large size alone: ``2,1a,3,1b`` runs the longest part last.
- ``BENCH_REPEATS`` (default 3; 1 with ``BENCH_QUICK``): how many times each planning run of
  the product is measured, each in a fresh process, the variants taking turns. The table
  shows the median run (by records + hash + diff + checks) and the notes every run; peak RSS
  is the largest of all runs. Here the 10M records statement took 7.5-12.7 s in back-to-back
  runs of the same code, and a 10M plan 20.3-41.0 s.
  The native-hash floor is measured as often, taking turns with the product.
- ``BENCH_TIMEOUT`` (s, default 900): bound of each measured product run;
  ``BENCH_BASELINE_TIMEOUT`` (s, default 900) and ``BENCH_BASELINE_MAX_RSS_GB`` (default 16)
  bound each anchor or baseline run, which is stopped and reported with what it reached.
- ``BENCH_PER_ROW=1``: also run the per-row Python baseline of earlier results (about 40 s
  per 1M rows; in the details only).
- ``BENCH_WORK_DIR``, ``BENCH_RESULTS_DIR``: where inputs are cached and results written;
  ``BENCH_RESULTS_NAME``: the results file's name (default ``<date>``, ``<date>-quick``).

It prints one markdown table and writes it, with the machine's description and each case's
details, to ``benchmarks/results/<date>.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from typing import Any

from benchmarks import _harness as h
from benchmarks import planning_rows as rows_
from benchmarks._harness import Measured, Row, megabytes, seconds, times


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value.replace("_", "")) if value else default


class Bench:
    def __init__(self) -> None:
        self.quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        large = _env_int("ROWS", 5_000 if self.quick else 10_000_000)
        self.sizes = [max(large // 10, 100), large]
        self.users = 3_000 if self.quick else 100_000
        self.rerun_rows = self.sizes[0]
        self.repeats = max(_env_int("BENCH_REPEATS", 1 if self.quick else 3), 1)
        cases = os.environ.get("BENCH_CASES", "1,2,3")
        # In the order given: "2,3,1" runs the short cases first.
        self.cases = list(dict.fromkeys(c.strip() for c in cases.split(",") if c.strip()))
        self.timeout = float(_env_int("BENCH_TIMEOUT", 900))
        self.baseline_timeout = float(_env_int("BENCH_BASELINE_TIMEOUT", 900))
        self.baseline_max_rss_mb = _env_int("BENCH_BASELINE_MAX_RSS_GB", 16) * 1024.0
        self.per_row = os.environ.get("BENCH_PER_ROW", "") not in ("", "0")
        self.results_name = os.environ.get("BENCH_RESULTS_NAME", "").strip()
        self.rows: list[Row] = []
        #: Planning measurements by size, kept across the "1a" and "1b" cases.
        self.planned: dict[int, dict[str, Any]] = {}
        self.notes: list[str] = []

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def measure(
        self,
        target: str,
        kwargs: dict[str, Any],
        baseline: bool = False,
        timeout_s: float | None = None,
    ) -> Measured:
        self.log(f"  {target.split(':')[1]}({', '.join(f'{k}={v}' for k, v in kwargs.items())})")
        measured = h.run_measured(
            target,
            kwargs,
            timeout_s=timeout_s or (self.baseline_timeout if baseline else self.timeout),
            max_rss_mb=self.baseline_max_rss_mb if baseline else None,
        )
        state = "ok" if measured.ok else f"stopped: {measured.failure}"
        self.log(
            f"    {state}; {measured.wall_s:.1f} s, peak RSS {megabytes(measured.peak_rss_mb)}"
        )
        return measured

    # ------------------------------------------------------------------ case 1

    def _reset_records(self, path: str) -> None:
        reset = self.measure("benchmarks.planning:reset_records", {"path": path})
        if not reset.ok:
            raise RuntimeError(f"resetting the records of {path}: {reset.failure}")

    def _prepare(self, target: str, kwargs: dict[str, Any], what: str) -> Measured:
        # Not measured: loosely bounded.
        prepared = self.measure(target, kwargs, timeout_s=3 * self.timeout)
        if not prepared.ok:
            raise RuntimeError(f"{what}: {prepared.failure}")
        return prepared

    def planning(self, sizes: list[int]) -> None:
        from benchmarks import anchors, planning
        from iterable_sync.sync.plan.state import STATE_COMPRESSED

        self.log(f"1 · planning at scale: {', '.join(f'{s:,}' for s in sizes)} rows")
        results: dict[int, dict[str, Any]] = {}
        for rows in sizes:
            path = str(planning.seeded_database(rows, self.log))
            prepared = self._prepare(
                "benchmarks.planning:prepare_state", {"path": path}, f"state for {rows:,} rows"
            )
            self._prepare(
                "benchmarks.anchors:prepare_anchors",
                {"path": path, "rows": rows},
                f"the anchors' previous hashes for {rows:,} rows",
            )
            # Taking turns, the product and the floor, so a slow spell of the machine falls
            # on both alike: the ratio of the two is what the targets judge.
            runs: dict[str, list[Measured]] = {"unchanged": [], "changed": []}
            floors: dict[str, list[Measured]] = {"unchanged": [], "changed": []}
            for _ in range(self.repeats):
                for variant, every in runs.items():
                    self._reset_records(path)
                    every.append(
                        self.measure(
                            "benchmarks.planning:plan_product", {"path": path, "variant": variant}
                        )
                    )
                    floors[variant].append(
                        self.measure(
                            "benchmarks.anchors:native_floor",
                            {"path": path, "variant": variant},
                            baseline=True,
                        )
                    )
            previous = str(anchors.pandas_previous_file(rows))
            measured: dict[str, Any] = {
                "runs": runs,
                "floor_runs": floors,
                "product": {v: rows_.median_run(r, rows_.planned_s) for v, r in runs.items()},
                "floor": {v: rows_.median_run(r, rows_.anchor_s) for v, r in floors.items()},
                "stable": {},
                "pandas": {},
                "prepared": prepared,
            }
            for variant in runs:
                measured["stable"][variant] = self.measure(
                    "benchmarks.anchors:stable_hash",
                    {"path": path, "variant": variant},
                    baseline=True,
                )
                measured["pandas"][variant] = self.measure(
                    "benchmarks.anchors:pandas_vectorized",
                    {"path": path, "variant": variant, "previous": previous},
                    baseline=True,
                )
            if self.per_row:
                measured["per_row"] = self._per_row_baseline(path, rows)
            measured["disk"] = self.measure("benchmarks.disk:table_bytes", {"path": path})
            measured["compression"] = self.measure(
                "benchmarks.disk:compression_compare",
                {"path": path, "table": planning.state_table_name(),
                 "zstd": list(STATE_COMPRESSED)},
            )  # fmt: skip
            if prepared.result.get("inference_s") is not None:
                self.notes.append(
                    f"Field-type inference, {rows:,} rows (a project's first run only; "
                    "later runs take the types from getFields, as the measured runs do): "
                    f"{seconds(prepared.result['inference_s'])}."
                )
            results[rows] = measured
        self._planning_rows(results)
        self.planned.update(results)
        if len(sizes) < len(self.sizes) and set(self.planned) == set(self.sizes):
            flat = rows_.flatness_row(self.planned)
            if flat:
                self.rows.append(flat)

    def _per_row_baseline(self, path: str, rows: int) -> dict[str, Measured]:
        """The per-row Python baseline (``BENCH_PER_ROW=1``), for comparison with earlier
        results: its previous snapshot made first (not measured), then each variant."""
        from benchmarks import planning

        snapshot_file = h.WORK / f"baseline-{rows}-seed{planning.SEED}.parquet"
        if not snapshot_file.exists():
            first = self.measure(
                "benchmarks.planning:plan_baseline",
                {"path": path, "variant": "unchanged", "previous": None,
                 "save": str(snapshot_file)},
                baseline=True,
            )  # fmt: skip
            if not first.ok:
                return {"unchanged": first, "changed": first}
        return {
            variant: self.measure(
                "benchmarks.planning:plan_baseline",
                {"path": path, "variant": variant, "previous": str(snapshot_file), "save": None},
                baseline=True,
            )
            for variant in ("unchanged", "changed")
        }

    def _planning_rows(self, results: dict[int, dict[str, Any]]) -> None:
        from benchmarks import planning

        largest = max(self.sizes)
        for rows, measured in results.items():
            big = rows == largest
            for variant, name in rows_.VARIANTS:
                self.rows += rows_.variant_rows(rows, variant, measured, big)
                self._variant_notes(rows, variant, name, measured)
            self.rows.append(rows_.rss_row(rows, measured))
            lines, notes = rows_.disk_rows(rows, measured["disk"], big)
            self.rows += lines
            self.notes += notes
            self.notes.append(
                rows_.compression_note(rows, planning.state_table_name(), measured["compression"])
            )
        if len(results) > 1:
            flat = rows_.flatness_row(results)
            if flat:
                self.rows.append(flat)

    def _variant_notes(self, rows: int, variant: str, name: str, measured: dict[str, Any]) -> None:
        product: Measured = measured["product"][variant]
        every = measured["runs"][variant]
        floors = measured["floor_runs"][variant]
        if len(every) > 1:
            self.notes.append(
                f"Planning {rows:,} rows, {name}, in each of {len(every)} runs, the product's "
                "records + hash + diff + checks: "
                + ", ".join(
                    seconds(rows_.planned_s(m)) if m.ok else f"stopped ({m.failure})" for m in every
                )
                + "; the floor's: "
                + ", ".join(
                    seconds(rows_.anchor_s(m)) if m.ok else f"stopped ({m.failure})" for m in floors
                )
                + "; the median runs are the ones in the table."
            )
        if product.ok:
            r, counts = product.result, product.result["counts"]
            self.notes.append(
                f"Planning {rows:,} rows, {name}: snapshot {seconds(r['snapshot_s'])}, "
                f"records + hash + diff {seconds(r['diff_s'])}, checks "
                f"{seconds(r['checks_s'])} (interpreter start and imports "
                f"{seconds(r['import_s'])}, not counted); {counts['records']:,} records, "
                f"{counts['added']:,} added, {counts['changed']:,} changed, "
                f"{counts['removed']:,} removed, {counts['invalid']:,} invalid; child "
                f"CPU {seconds(product.cpu_s)} over {seconds(product.wall_s)}, peak RSS "
                f"{megabytes(product.peak_rss_mb)}."
            )
        for who, key, parts in (
            ("the floor", "floor", ("hash_s", "join_s")),
            ("md5 + join", "stable", ("hash_s", "join_s")),
            ("pandas", "pandas", ("fetch_s", "hash_s", "merge_s")),
        ):
            run: Measured = measured[key][variant]
            if run.ok:
                self.notes.append(
                    f"Anchor {who}, {rows:,} rows, {name}: "
                    + ", ".join(f"{p[:-2]} {seconds(run.result[p])}" for p in parts)
                    + f"; changes {run.result['changes']}; child CPU {seconds(run.cpu_s)} over "
                    f"{seconds(run.wall_s)} (with interpreter start), peak RSS "
                    f"{megabytes(run.peak_rss_mb)}."
                )
            else:
                self.notes.append(
                    f"Anchor {who}, {rows:,} rows, {name}: {run.failure}; it reached: "
                    f"{run.reached or 'nothing reported'}."
                )
        per_row = measured.get("per_row")
        if per_row:
            b = per_row[variant]
            if b.ok and product.ok:
                total = b.result["pull_s"] + b.result["hash_s"] + b.result["compare_s"]
                self.notes.append(
                    f"Per-row Python baseline, {rows:,} rows, {name}: {seconds(total)} (pull "
                    f"{seconds(b.result['pull_s'])}, hash {seconds(b.result['hash_s'])}, "
                    f"compare {seconds(b.result['compare_s'])}), "
                    f"{times(total / rows_.end_to_end_s(product))} the product end to end."
                )
            else:
                self.notes.append(
                    f"Per-row Python baseline, {rows:,} rows, {name}: {b.failure} after "
                    f"{seconds(b.work_s)} of work; it reached: {b.reached or 'nothing'}."
                )

    # ------------------------------------------------------------------ case 2

    def sending(self) -> None:
        import tempfile

        from benchmarks import sending
        from iterable_sync.emulator import EmulatorProcess

        self.log(f"2 · sending {self.users:,} users")
        path = sending.prepare(self.users, self.log)
        outcome: dict[str, tuple[Measured, list[dict[str, Any]]]] = {}
        for who, target in (
            ("product", "benchmarks.sending:send_product"),
            ("baseline", "benchmarks.sending:send_baseline"),
        ):
            if who == "baseline":
                path = sending.prepare(self.users, self.log)  # the same diff, state untouched
            with (
                tempfile.TemporaryDirectory(prefix="bench-emulator-", dir=h.WORK) as state,
                EmulatorProcess(
                    sending.KEY, "email", state, rate_limits="real", latency_ms=50
                ) as emulator,
            ):
                measured = self.measure(
                    target, {"path": path, "base_url": emulator.base_url}, who == "baseline"
                )
                outcome[who] = (measured, sending.bulk_calls(emulator))
        self._sending_rows(outcome)

    def _sending_rows(self, outcome: dict[str, tuple[Measured, list[dict[str, Any]]]]) -> None:
        from benchmarks import sending

        (product, p_calls), (baseline, b_calls) = outcome["product"], outcome["baseline"]
        label = f"2 · send {self.users:,} users"
        if not product.ok:
            self.rows.append(Row(label, f"stopped: {product.failure}", "—", "—", "—", False))
            return
        p = product.result
        steady = sending.steady_rate(p_calls) or 0.0
        overall = p["accepted"] / p["wall_s"]
        b = baseline.result if baseline.ok else {}
        b_rate = b["accepted"] / b["wall_s"] if b else None
        self.rows.append(
            Row(
                f"{label}: throughput (real rate limits, 50 ms latency)",
                f"{steady:,.0f} users/s = {steady / sending.CEILING:.1%} of the ceiling "
                f"({overall:,.0f} users/s start to end)",
                f"≥ 90% of {sending.CEILING:,} users/s",
                f"{b_rate:,.0f} users/s" if b_rate else f"stopped: {baseline.failure}",
                times(steady / b_rate) if b_rate else "—",
                steady >= 0.9 * sending.CEILING,
            )
        )
        p_429 = sum(1 for c in p_calls if c["status"] == 429)
        b_429 = sum(1 for c in b_calls if c["status"] == 429)
        self.rows.append(
            Row(
                f"{label}: 429 responses",
                f"{p_429} of {len(p_calls)} calls",
                "0",
                f"{b_429} of {len(b_calls)} calls",
                "—",
                p_429 == 0,
            )
        )
        # CPU time over wall time flatters a client that the machine's load starves: slowed
        # down, it spends the same CPU over a longer wall. What it would need to keep up with
        # the ceiling does not depend on the load: its CPU seconds per user x users/s.
        p_need = p["cpu_s"] / p["accepted"] * sending.CEILING if p["accepted"] else float("inf")
        p_cpu = p["cpu_s"] / p["wall_s"]
        b_need = b["cpu_s"] / b["accepted"] * sending.CEILING if b and b["accepted"] else None
        self.rows.append(
            Row(
                f"{label}: client CPU at the ceiling (CPU s per user x {sending.CEILING:,}/s)",
                f"{p_need:.0%} of a core ({seconds(p['cpu_s'])} CPU; {p_cpu:.0%} of its "
                "wall time here)",
                "< 25% of a core",
                f"{b_need:.0%} of a core" if b_need is not None else "—",
                "—",
                p_need < 0.25,
            )
        )
        self.notes.append(
            f"Sending: the product sent {p['sent']:,} and Iterable accepted {p['accepted']:,} "
            f"in {seconds(p['wall_s'])} ({p['api_calls']} API calls); CPU "
            f"{seconds(p['cpu_s'])}. The baseline: "
            + (
                f"{b['accepted']:,} accepted in {seconds(b['wall_s'])}, {b['requests']} "
                f"requests of which {b['throttled']} got 429 and were retried a second later."
                if b
                else f"{baseline.failure} (reached {baseline.reached})."
            )
        )

    # ------------------------------------------------------------------ case 3

    def rerun(self) -> None:
        import tempfile

        from benchmarks import rerun
        from iterable_sync.emulator import EmulatorProcess

        rows = self.rerun_rows
        self.log(f"3 · no-change rerun, {rows:,} rows")
        path = rerun.prepare(rows, self.log)
        label = f"3 · no-change rerun, {rows_.label(rows)} rows"
        with (
            tempfile.TemporaryDirectory(prefix="bench-emulator-", dir=h.WORK) as state,
            EmulatorProcess(rerun.KEY, "email", state, rate_limits="off") as emulator,
        ):
            self.log("  the users the project already holds (not measured)")
            for users in rerun.existing_users(path):
                emulator.admin.seed_users(users)
            self.log("  the first run (unthrottled, not measured)")
            first = self.measure(
                "benchmarks.rerun:run_job",
                {"path": path, "base_url": emulator.base_url, "unthrottled": True},
            )
            if not first.ok or not first.result.get("success"):
                raise RuntimeError(f"the first run failed: {first.failure or first.result}")
            emulator.admin.set_limits("real")
            emulator.admin.set_faults(latency_ms=50)
            since = rerun.last_seq(emulator)
            second = self.measure(
                "benchmarks.rerun:run_job", {"path": path, "base_url": emulator.base_url}
            )
            writes = rerun.write_calls(emulator, since)
        ok = second.ok and bool(second.result.get("success"))
        self.rows.append(
            Row(f"{label}: write calls", str(writes), "0", "—", "—", ok and writes == 0)
        )
        self.rows.append(
            Row(
                f"{label}: total time (model snapshot, diff, checks, send)",
                seconds(second.result["wall_s"]) if ok else f"failed: {second.failure}",
                "—",
                "—",
                "—",
                None,
            )
        )
        f = first.result
        self.notes.append(
            f"Rerun: the first run sent {f.get('sent'):,} records in "
            f"{seconds(f['wall_s'])} (accepted: {f.get('accepted')}, not found in Iterable: "
            f"{f.get('not_found')}); the "
            f"rerun's checks {second.result.get('checks')}, peak RSS "
            f"{megabytes(second.peak_rss_mb)}, wall with interpreter start "
            f"{seconds(second.wall_s)}."
        )

    # ------------------------------------------------------------------ all

    def run(self) -> str:
        started = time.perf_counter()
        h.WORK.mkdir(parents=True, exist_ok=True)
        methods = {
            "1": lambda: self.planning(self.sizes),
            "1a": lambda: self.planning(self.sizes[:1]),
            "1b": lambda: self.planning(self.sizes[1:]),
            "2": self.sending,
            "3": self.rerun,
        }
        for n, case in enumerate(self.cases):
            methods[case]()
            if n < len(self.cases) - 1:
                # What is done so far, in case a later case is stopped or the run cut short.
                partial = h.markdown_table(self.rows)
                self._write(partial, time.perf_counter() - started, self.cases[: n + 1])
        table = h.markdown_table(self.rows)
        print(table)
        self._write(table, time.perf_counter() - started, self.cases)
        return table

    def _write(self, table: str, elapsed: float, done: list[str]) -> None:
        h.RESULTS.mkdir(parents=True, exist_ok=True)
        today = dt.date.today().isoformat()
        name = self.results_name or f"{today}{'-quick' if self.quick else ''}"
        path = h.RESULTS / f"{name}.md"
        machine = "\n".join(f"| {k} | {v} |" for k, v in h.machine_info().items())
        notes = "\n".join(f"- {n}" for n in self.notes)
        settings = (
            f"planning sizes {', '.join(f'{s:,}' for s in self.sizes)} rows; "
            f"sending {self.users:,} users; rerun {self.rerun_rows:,} rows; "
            f"cases {','.join(done)}"
            + ("" if done == self.cases else f" of {','.join(self.cases)}, the rest unfinished")
            + f"; bounds: each product run {self.timeout:.0f} s, each anchor or baseline run "
            f"{self.baseline_timeout:.0f} s and {self.baseline_max_rss_mb / 1024:.0f} GB RSS"
        )
        path.write_text(
            f"# Benchmarks, {today}\n\n"
            f"`python -m benchmarks` ({settings}; {elapsed / 60:.0f} min in all).\n\n"
            f"{table}\n\n## Machine\n\n| | |\n|---|---|\n{machine}\n\n"
            f"## Details\n\n{notes}\n"
        )
        self.log(f"written to {path}")


def main() -> int:
    Bench().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
