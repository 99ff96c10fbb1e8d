"""Run the diff and send assets of every sync in a syncs file, in a process of its own, so a
test can SIGKILL it at any point and run it again (``python -m
iterable_sync_tests.resilience.runner --help``).

The API key comes from ``ITERABLE_API_KEY`` only (a Dagster ``EnvVar``, as the product reads
it): never argv, where ``ps`` would show it.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import dagster as dg

from iterable_sync import sync_assets
from iterable_sync.iterable_resource import IterableResource
from iterable_sync.sync import sending
from iterable_sync.sync.config import Budget, parse_syncs
from iterable_sync.warehouse_resource import DuckDBWarehouse


def small_batches(size: int) -> None:
    """Send ``size`` rows a request instead of 1,000: many more calls for the faults and the
    kills to land between, at a size a test can afford."""
    build = sending.build_destination

    def build_small(*args: Any, **kwargs: Any) -> Any:
        destination = build(*args, **kwargs)
        destination.batch_size = size
        return destination

    sending.build_destination = build_small  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", required=True, help="DuckDB file")
    parser.add_argument("--syncs", required=True, help="a syncs.yaml")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--project-type", default="email")
    parser.add_argument("--batch-size", type=int, default=0, help="0: the product's")
    parser.add_argument("--max-attempts", type=int, default=10)
    args = parser.parse_args(argv)
    if args.batch_size:
        small_batches(args.batch_size)
    syncs = parse_syncs(Path(args.syncs).read_text()).syncs
    budget = Budget()
    assets = []
    for sync in syncs:
        assets.append(sync_assets.build_diff_asset(sync, "duckdb", args.project_type, budget))
        assets.append(sync_assets.build_sync_asset(sync, args.project_type, budget))
    iterable = IterableResource(
        api_key=dg.EnvVar("ITERABLE_API_KEY"),
        base_url=args.base_url,
        project_type=args.project_type,
        max_attempts=args.max_attempts,
        retry_backoff_s=0.05,
        # The emulator's own limits are what is under test, not the client's pacing.
        rate_limit_scale=100.0,
    )
    result = dg.materialize(
        assets,
        resources={"warehouse": DuckDBWarehouse(path=args.warehouse), "iterable": iterable},
        raise_on_error=False,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
