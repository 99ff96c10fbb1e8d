"""``python -m iterable_sync.emulator``: serve the Iterable emulator with uvicorn.

The API key comes from ``ITERABLE_API_KEY`` (never argv, where ``ps`` would show it). When
``ITERABLE_EMULATOR_READY_FILE`` is set, the bound port is written there once the server
listens, which is how the launcher learns the port it asked the OS to choose (``--port 0``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from iterable_sync.emulator.app import create_app
from iterable_sync.emulator.config import EmulatorConfig, default_api_key, default_state_dir
from iterable_sync.emulator.store import StateConflictError

READY_FILE_ENV = "ITERABLE_EMULATOR_READY_FILE"


def _json_arg(text: str | None, what: str) -> dict[str, Any] | None:
    if not text:
        return None
    if text.startswith("@"):  # --faults @faults.json
        text = Path(text[1:]).read_text()
    value = json.loads(text)
    if not isinstance(value, dict):
        raise SystemExit(f"{what} must be a JSON object")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m iterable_sync.emulator",
        description="A local stand-in for Iterable's HTTP API (key from ITERABLE_API_KEY).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument(
        "--api-key", default=None, help="prefer the ITERABLE_API_KEY environment variable"
    )
    parser.add_argument("--project-type", choices=["email", "userId", "hybrid"], default="email")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="default: $ITERABLE_SYNC_HOME/emulator (.iterable_sync/emulator)",
    )
    parser.add_argument(
        "--rate-limits",
        choices=["real", "off"],
        default="real",
        help="'off' lifts every limit, the forget/unforget daily caps included",
    )
    parser.add_argument(
        "--rate-limit-overrides",
        default=None,
        help='JSON, e.g. {"POST /api/users/forget": {"rate": 3, "daily": 5}}',
    )
    parser.add_argument("--faults", default=None, help="fault-injection JSON (or @file)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--project-id", type=int, default=10_000)
    parser.add_argument(
        "--unknown-fields",
        choices=["allow", "drop"],
        default="allow",
        help="the project's setting for unrecognized fields (createNewFields not sent)",
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        api_key=args.api_key or default_api_key(),
        project_type=args.project_type,
        state_dir=args.state_dir or default_state_dir(),
        rate_limits=args.rate_limits,
        rate_limit_overrides=_json_arg(args.rate_limit_overrides, "--rate-limit-overrides") or {},
        faults=_json_arg(args.faults, "--faults"),
        latency_ms=args.latency_ms,
        project_id=args.project_id,
        unknown_fields=args.unknown_fields,
    )


class _Server(uvicorn.Server):
    """Announces the bound port once uvicorn is listening."""

    announce: Path | None = None
    port: int = 0

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.announce is not None:
            tmp = self.announce.with_suffix(".tmp")
            tmp.write_text(json.dumps({"port": self.port, "pid": os.getpid()}))
            tmp.replace(self.announce)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = config_from_args(args)
        app = create_app(config)
    except (ValueError, StateConflictError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    server = _Server(
        uvicorn.Config(
            app,
            log_level=args.log_level,
            access_log=False,  # access logs could leak query keys
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
    )
    server.port = sock.getsockname()[1]
    ready = os.environ.get(READY_FILE_ENV)
    server.announce = Path(ready) if ready else None
    print(
        f"Iterable emulator on http://{args.host}:{server.port} "
        f"(project type {config.project_type}, rate limits {config.rate_limits}, "
        f"state {config.state_dir})",
        file=sys.stderr,
        flush=True,
    )
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
