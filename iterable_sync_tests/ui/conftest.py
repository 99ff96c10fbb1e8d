"""The real ``dagster dev`` (webserver + daemon) for this project, once per test session.

It runs from the project root exactly as ``make ui`` does (``[tool.dagster]`` and
workspace.yaml pick the code location), on 127.0.0.1 and a free port, against throw-away
state: ``DAGSTER_HOME`` holds a copy of the repo's dagster.yaml (so the QueuedRunCoordinator
and the daemon that dequeues are the real ones) and ``ITERABLE_SYNC_HOME`` holds a small
seeded DuckDB warehouse. Without ``ITERABLE_API_KEY`` every run starts the embedded Iterable
emulator, whose state (under ``ITERABLE_SYNC_HOME``) is given the users that "already exist in
Iterable" first, as ``make demo`` does, so an update-mode send has users to update.

The server runs in its own process group; teardown signals the whole group and then checks
that nothing it started (including run workers and emulators) is left.
"""

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from dagster_graphql import DagsterGraphQLClient

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SEED_ROWS = 3000
READY_TIMEOUT_S = 90.0
#: A run of daily_sync_job (9 syncs, in-process) takes ~75 s on a busy 2-core machine.
RUN_TIMEOUT_S = 240.0
POLL_S = 1.0
STOP_TIMEOUT_S = 45.0
#: ITERABLE_PROJECT_TYPE is unset for the server, so its runs use the default.
PROJECT_TYPE = "email"
#: Run config that runs every step in the run worker: a step process of the default
#: (multiprocess) executor costs a full import of the definitions, ~10 s on this machine.
IN_PROCESS: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
TERMINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}

RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message stepKey }
        ... on ExecutionStepFailureEvent { error { message } }
        ... on EngineEvent { error { message } }
        ... on RunFailureEvent { error { message } }
      }
    }
  }
}
"""

WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""


def configured_location_name() -> str:
    """``[tool.dagster] code_location_name`` from pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["tool"]["dagster"]["code_location_name"])


@dataclasses.dataclass(frozen=True)
class DagsterServer:
    """A running ``dagster dev`` and what the tests need to talk to it."""

    host: str
    port: int
    dagster_home: Path
    iterable_sync_home: Path
    log_path: Path
    location_name: str = ""
    repository_name: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self) -> DagsterGraphQLClient:
        return DagsterGraphQLClient(self.host, port_number=self.port, timeout=60)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST /graphql; fails the test on a transport or GraphQL error."""
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            pytest.fail(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def launch(
        self,
        job_name: str,
        asset_selection: Sequence[Sequence[str]] | None = None,
        run_config: dict[str, Any] | None = None,
    ) -> str:
        """Submit a job run through ``DagsterGraphQLClient`` (the daemon dequeues it)."""
        return self.client().submit_job_execution(
            job_name,
            repository_location_name=self.location_name,
            repository_name=self.repository_name,
            run_config=run_config,
            asset_selection=[list(key) for key in asset_selection] if asset_selection else None,
        )

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT_S) -> None:
        """Poll the run's status through ``DagsterGraphQLClient`` (bounded in time) and fail
        the test, with the run's errors and the server's log, unless it succeeded."""
        client = self.client()
        started = time.monotonic()
        status = client.get_run_status(run_id)
        while status.value not in TERMINAL_STATUSES and time.monotonic() - started < timeout:
            time.sleep(POLL_S)
            status = client.get_run_status(run_id)
        if status.value != "SUCCESS":
            self.fail_run(run_id, f"is {status.value} after {time.monotonic() - started:.0f}s")

    def fail_run(self, run_id: str, what: str) -> NoReturn:
        pytest.fail(
            f"run {run_id} {what}\nerrors: {self.run_errors(run_id)}\n"
            f"--- dagster dev log (tail) ---\n{self.log_tail()}"
        )

    def run_errors(self, run_id: str) -> list[str]:
        data = self.graphql(RUN_ERRORS_QUERY, {"runId": run_id})
        events = data["logsForRun"].get("events", [])
        return [
            f"{e.get('stepKey') or '-'}: {e['error']['message'].strip()[:800]}"
            for e in events
            if e.get("error")
        ]

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _server_env(dagster_home: Path, iterable_sync_home: Path) -> dict[str, str]:
    """The caller's environment without inherited ITERABLE_*/DAGSTER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ITERABLE_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(dagster_home)
    env["ITERABLE_SYNC_HOME"] = str(iterable_sync_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _default_signals() -> None:
    """In the child: undo an inherited SIG_IGN (nohup, a background shell job) so that
    SIGTERM/SIGINT reach dagster dev's own shutdown handling."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _dagster_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "dagster"
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "dagster"]
    return [*launcher, "dev", "-h", HOST, "-p", str(port)]


def _seed_emulator_users(iterable_sync_home: Path) -> int:
    """Give the embedded emulator's state the users that already exist in Iterable."""
    from iterable_sync.demo import EXISTING_USERS_SQL
    from iterable_sync.emulator.launcher import EmulatorProcess
    from iterable_sync.iterable_resource import EMULATOR_KEY
    from iterable_sync.warehouse_resource import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(iterable_sync_home / "warehouse.duckdb"))
    with warehouse.session() as session:
        users = [
            {"email": r["EMAIL"], "userId": r["USER_ID"]}
            for batch in session.iter_batches(EXISTING_USERS_SQL)
            for r in batch
        ]
    with EmulatorProcess(
        api_key=EMULATOR_KEY,
        project_type=PROJECT_TYPE,
        state_dir=iterable_sync_home / "emulator",
        rate_limits="off",
    ) as emulator:
        emulator.admin.seed_users(users)
    return len(users)


def _our_processes(pgid: int, marker: bytes) -> list[tuple[int, str]]:
    """Live processes in the server's group or carrying its DAGSTER_HOME (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            state, pgrp = fields[0], int(fields[2])
        except (OSError, ValueError, IndexError):
            continue
        if state in {"Z", "X"}:
            continue
        ours = pgrp == pgid
        if not ours:
            with contextlib.suppress(OSError):
                ours = marker in (entry / "environ").read_bytes().split(b"\0")
        if ours:
            with contextlib.suppress(OSError):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append((int(entry.name), cmd.strip()[:160]))
    return found


def _wait_gone(pgid: int, marker: bytes, timeout: float) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = _our_processes(pgid, marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = _our_processes(pgid, marker)
    return left


def _stop(proc: subprocess.Popen[bytes], marker: bytes) -> None:
    """SIGTERM the whole group, wait, SIGKILL what is left; then verify nothing remains."""
    pgid = proc.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        warnings.warn(
            f"dagster dev did not stop within {STOP_TIMEOUT_S:.0f}s of SIGTERM; killing its group",
            stacklevel=1,
        )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=15)
    left = _wait_gone(pgid, marker, timeout=15)
    if left:
        warnings.warn(f"still running after dagster dev stopped, killing: {left}", stacklevel=1)
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        left = _wait_gone(pgid, marker, timeout=10)
    assert not left, f"processes left behind by the UI tests' dagster dev: {left}"


@pytest.fixture(scope="session")
def dagster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    """``dagster dev`` (webserver + daemon) for this project on 127.0.0.1:<free port>."""
    base = tmp_path_factory.mktemp("ui")
    dagster_home = base / "dagster_home"
    iterable_sync_home = base / "iterable_sync_home"
    dagster_home.mkdir()
    iterable_sync_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    env = _server_env(dagster_home, iterable_sync_home)

    port = _free_port()
    server = DagsterServer(
        host=HOST,
        port=port,
        dagster_home=dagster_home,
        iterable_sync_home=iterable_sync_home,
        log_path=base / "dagster-dev.log",
    )
    marker = f"DAGSTER_HOME={dagster_home}".encode()
    with server.log_path.open("wb") as log:
        proc = subprocess.Popen(
            _dagster_command(port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_signals,  # only resets two signal dispositions
        )
    try:
        # While the webserver boots (nothing in it opens the warehouse before a run): seed the
        # warehouse small, then give the emulator the users that already exist in Iterable.
        seeded = subprocess.run(
            [sys.executable, "-m", "iterable_sync", "seed", "--rows", str(SEED_ROWS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert seeded.returncode == 0, f"seeding failed:\n{seeded.stdout}\n{seeded.stderr}"
        _seed_emulator_users(iterable_sync_home)
        server = _wait_ready(server, proc)
        yield server
    finally:
        _stop(proc, marker)


def _wait_ready(server: DagsterServer, proc: subprocess.Popen[bytes]) -> DagsterServer:
    """Poll /server_info, then the workspace, until the code location has loaded."""
    wanted = configured_location_name()
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/server_info", timeout=2).status_code == 200:
                entries = server.graphql(WORKSPACE_QUERY)["workspaceOrError"]
                for entry in entries.get("locationEntries", []):
                    location = entry.get("locationOrLoadError") or {}
                    if location.get("__typename") == "PythonError":
                        pytest.fail(f"code location {entry['name']}: {location['message']}")
                    if entry["name"] == wanted and entry["loadStatus"] == "LOADED" and location:
                        return dataclasses.replace(
                            server,
                            location_name=location["name"],
                            repository_name=location["repositories"][0]["name"],
                        )
                last = f"workspace: {entries}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(
        f"dagster dev not ready on {server.url} after {READY_TIMEOUT_S:.0f}s ({last})\n"
        f"{server.log_tail()}"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the GraphQL tests before the browser test on the shared server: they assert the
    first send from a fresh state (every valid record added and sent), which the browser's
    run would otherwise have made first. The browser test holds in either order."""
    order = {"test_graphql.py": 0, "test_browser.py": 1}
    ui_dir = Path(__file__).parent

    def key(item: pytest.Item) -> int:
        path = Path(str(item.fspath))
        return order.get(path.name, 2) if path.parent == ui_dir else -1

    ui_items = [i for i in items if key(i) >= 0]
    if not ui_items:
        return
    first = items.index(ui_items[0])
    rest = [i for i in items if key(i) < 0]
    items[:] = rest[:first] + sorted(ui_items, key=key) + rest[first:]
