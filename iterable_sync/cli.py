"""Command line: ``python -m iterable_sync seed|demo|history|calls|rebind``."""

import argparse
import os
import sys
from collections.abc import Sequence

from iterable_sync import settings


def _seed(args: argparse.Namespace) -> int:
    from iterable_sync.seed import seed_contacts
    from iterable_sync.warehouse_resource import DuckDBWarehouse

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


def _calls(args: argparse.Namespace) -> int:
    from iterable_sync.calls import print_calls

    return print_calls(args.sync, args.run, args.record, args.last)


def _rebind(args: argparse.Namespace) -> int:
    """Bind syncs' state to the destination the environment names (same project, new key)."""
    from iterable_sync.iterable_resource import current_destination
    from iterable_sync.resources import build_warehouse
    from iterable_sync.sync import binding
    from iterable_sync.sync.config import load_syncs

    known = [s.name for s in load_syncs(settings.syncs_file()).syncs]
    if args.all == bool(args.sync):
        print("rebind: name one sync, or --all", file=sys.stderr)
        return 2
    if args.sync and args.sync not in known:
        print(f"rebind: no sync {args.sync!r} in {settings.syncs_file()}", file=sys.stderr)
        return 2
    try:
        destination = current_destination()
    except ValueError as exc:
        print(f"rebind: {exc}", file=sys.stderr)
        return 2
    with build_warehouse().session() as session:
        for name in known if args.all else [args.sync]:
            print(binding.rebind_cli(session, name, destination))
    return 0


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

    calls = sub.add_parser(
        "calls",
        help="the request debugger: a sync's captured calls with their request and response "
        "bodies (its latest run, one run, or one record's calls); needs `debugger: "
        "{capture: true}` in the sync's entry",
    )
    calls.add_argument("sync")
    which = calls.add_mutually_exclusive_group()
    which.add_argument("--run", help="the calls of this Dagster run id")
    which.add_argument("--record", help="the calls that carried this primary key")
    calls.add_argument("--last", type=int, default=20, help="at most this many, the latest")
    calls.set_defaults(func=_calls)

    rebind = sub.add_parser(
        "rebind",
        help="keep a sync's state and bind it to the current ITERABLE_BASE_URL/ITERABLE_API_KEY "
        "(same Iterable project under a rotated key); for a new project run the sync with "
        "full_resync instead",
    )
    rebind.add_argument("sync", nargs="?", help="the sync's name in syncs.yaml")
    rebind.add_argument("--all", action="store_true", help="every sync in syncs.yaml")
    rebind.set_defaults(func=_rebind)

    args = parser.parse_args(argv)
    os.environ.setdefault(settings.HOME_ENV, str(settings.home()))
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
