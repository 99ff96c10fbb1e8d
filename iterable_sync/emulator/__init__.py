"""A local, faithful stand-in for Iterable's HTTP API.

It imports nothing from the rest of ``iterable_sync``: it plays Iterable, so it must not
share the client's assumptions. ``create_app(config)`` builds the ASGI app;
``EmulatorProcess`` runs it as a subprocess; ``AdminClient`` drives ``/_emulator/``.
"""

from iterable_sync.emulator.admin_client import AdminClient, AdminError
from iterable_sync.emulator.app import create_app
from iterable_sync.emulator.config import EmulatorConfig
from iterable_sync.emulator.launcher import EmulatorProcess, EmulatorStartError

__all__ = [
    "AdminClient",
    "AdminError",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorStartError",
    "create_app",
]
