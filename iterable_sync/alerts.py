"""Where alerts go: a JSON-lines file under ITERABLE_SYNC_HOME, the Dagster log, and a
webhook when ``ITERABLE_SYNC_ALERT_WEBHOOK`` is set (Slack-compatible ``{"text": ...}``)."""

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from iterable_sync import settings

WEBHOOK_ENV = "ITERABLE_SYNC_ALERT_WEBHOOK"
log = logging.getLogger(__name__)


def alerts_file() -> Path:
    return settings.home() / "alerts.jsonl"


def send_alert(kind: str, sync: str, message: str, details: dict[str, Any] | None = None) -> dict:
    alert = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": kind,
        "sync": sync,
        "message": message,
        "details": details or {},
    }
    with alerts_file().open("a") as handle:
        handle.write(json.dumps(alert, default=str) + "\n")
    log.warning("iterable_sync alert [%s] %s: %s", kind, sync, message)
    url = os.environ.get(WEBHOOK_ENV)
    if url:
        try:
            httpx.post(url, json={"text": f"[{kind}] {sync}: {message}"}, timeout=10)
        except httpx.HTTPError as exc:  # an alert channel being down must not fail the run
            log.error("alert webhook failed: %s", type(exc).__name__)
    return alert


def read_alerts() -> list[dict[str, Any]]:
    path = alerts_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
