"""Run the emulator as a subprocess on 127.0.0.1 — for tests and for product runs without
``ITERABLE_API_KEY``::

    with EmulatorProcess(api_key, project_type="email", state_dir=tmp) as emu:
        httpx.post(f"{emu.base_url}/api/users/update", headers={"Api-Key": api_key}, ...)

The key travels in the child's environment, never argv. The child binds the port it is
given (0: the OS picks a free one and the child reports it through a ready file), and the
launcher waits, bounded, until ``/_emulator/health`` answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from iterable_sync.emulator.admin_client import AdminClient
from iterable_sync.emulator.config import default_api_key, default_state_dir

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # so the child imports this checkout


class EmulatorStartError(RuntimeError):
    pass


class EmulatorProcess:
    host = "127.0.0.1"

    def __init__(
        self,
        api_key: str | None = None,
        project_type: str = "email",
        state_dir: str | Path | None = None,
        port: int = 0,
        rate_limits: str = "real",
        faults: dict[str, Any] | None = None,
        latency_ms: float = 0.0,
        *,
        rate_limit_overrides: dict[str, dict[str, Any]] | None = None,
        unknown_fields: str = "allow",
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.api_key = api_key or default_api_key()
        self.project_type = project_type
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.port = port
        self.rate_limits = rate_limits
        self.faults = faults
        self.latency_ms = latency_ms
        self.rate_limit_overrides = rate_limit_overrides
        self.unknown_fields = unknown_fields
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._admin: AdminClient | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"EmulatorProcess(project_type={self.project_type!r}, port={self.port})"

    @property
    def base_url(self) -> str:
        if not self.running:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def log_path(self) -> Path:
        return self.state_dir / "emulator.log"

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.base_url, self.api_key)
        return self._admin

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` on the emulator with the key header set (close it)."""
        headers = {"Api-Key": self.api_key, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    def _command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "iterable_sync.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--project-type",
            self.project_type,
            "--state-dir",
            str(self.state_dir),
            "--rate-limits",
            self.rate_limits,
            "--latency-ms",
            str(self.latency_ms),
        ]
        if self.faults:
            cmd += ["--faults", json.dumps(self.faults)]
        if self.rate_limit_overrides:
            cmd += ["--rate-limit-overrides", json.dumps(self.rate_limit_overrides)]
        if self.unknown_fields != "allow":
            cmd += ["--unknown-fields", self.unknown_fields]
        return cmd

    def start(self) -> EmulatorProcess:
        if self.running:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ready = self.state_dir / f".ready-{uuid.uuid4().hex}.json"
        env = dict(os.environ)
        env["ITERABLE_API_KEY"] = self.api_key
        env["ITERABLE_EMULATOR_READY_FILE"] = str(ready)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p
        )
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            self._wait_ready(ready)
        except BaseException:
            self.stop()
            raise
        finally:
            ready.unlink(missing_ok=True)
        return self

    def _wait_ready(self, ready: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmulatorStartError(
                    f"emulator exited with {self._proc.returncode}: {self._log_tail()}"
                )
            if ready.exists():
                with contextlib.suppress(ValueError, OSError):
                    self.port = int(json.loads(ready.read_text())["port"])
                    response = httpx.get(
                        f"http://{self.host}:{self.port}/_emulator/health",
                        headers={"Api-Key": self.api_key},
                        timeout=2.0,
                    )
                    if response.status_code == 200:
                        return
            time.sleep(0.05)
        raise EmulatorStartError(
            f"emulator not ready after {self.startup_timeout:g}s: {self._log_tail()}"
        )

    def _log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(self.stop_timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> EmulatorProcess:
        """Stop and start again on the same port and state directory."""
        self.stop()
        return self.start()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
