"""Command line: ``python -m iterable_sync seed|demo|history``."""

import argparse
import os
import sys
from collections.abc import Sequence

from iterable_sync import settings


def _seed(args: argparse.Namespace) -> int:
    from iterable_sync.seed import seed_contacts
    from iterable_sync.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(settings.duckdb_path()))
    with warehouse.session() as session:
        summary = seed_contacts(session.conn, rows=args.rows, seed=args.seed)  # type: ignore[attr-defined]
    print(f"seeded {settings.duckdb_path()}: {summary}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from iterable_sync.demo import run_demo

    return run_demo(rows=args.rows, seed=args.seed)


def _history(args: argparse.Namespace) -> int:
    from iterable_sync.history import print_history

    return print_history(args.sync, args.primary_key)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iterable_sync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    seed = sub.add_parser("seed", help="(re)create the synthetic contacts in the DuckDB warehouse")
    seed.add_argument("--rows", type=int, default=20_000)
    seed.add_argument("--seed", type=int, default=42)
    seed.set_defaults(func=_seed)

    demo = sub.add_parser(
        "demo", help="seed if empty, then run the daily job on the embedded defaults"
    )
    demo.add_argument("--rows", type=int, default=20_000, help="rows to seed when empty")
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(func=_demo)

    history = sub.add_parser("history", help="what happened to one record, run by run")
    history.add_argument("sync")
    history.add_argument("primary_key")
    history.set_defaults(func=_history)

    args = parser.parse_args(argv)
    os.environ.setdefault(settings.HOME_ENV, str(settings.home()))
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
