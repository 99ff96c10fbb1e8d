"""Alerts fire when a sync's health changes, once, and a recovery notice when it heals."""

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import dagster as dg
import pyarrow as pa
import pytest

from iterable_sync import alerts
from iterable_sync.alerts import read_alerts, send_alert
from iterable_sync.sensors import build_health_sensor
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan.ledgers import WRITE_BACK_DDL
from iterable_sync.sync.plan.tables import RUNS_TABLE
from iterable_sync_tests.fixtures.contacts import SOURCE_TABLE, contact, create_contacts, now
from iterable_sync_tests.sync.harness import Harness, make_sync


class SensorDriver:
    """Materializes a sync on one Dagster instance and ticks its health sensor after each
    run, carrying the cursor from tick to tick as the daemon does."""

    def __init__(self, harness: Harness, instance: dg.DagsterInstance) -> None:
        self.harness = harness
        self.instance = instance
        self.sensor = build_health_sensor(harness.sync)
        self.cursor: str | None = None

    def run(self) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            self.harness.assets(),
            resources={"warehouse": self.harness.warehouse, "iterable": self.harness.iterable()},
            instance=self.instance,
            raise_on_error=False,
        )

    def tick(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"warehouse": self.harness.warehouse},
        )
        self.cursor = self.sensor.evaluate_tick(context).cursor


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def driver_for(warehouse, emulator, instance, rows, sync: SyncConfig | None = None):
    with warehouse.session() as session:
        create_contacts(session, rows)
    harness = Harness(warehouse=warehouse, emulator=emulator, sync=sync or make_sync())
    return SensorDriver(harness, instance)


def kinds() -> list[str]:
    return [a["kind"] for a in read_alerts()]


def seed_run_history(warehouse, sync: str, seconds: float, queried: int, runs: int = 5) -> None:
    """Earlier delivered runs of the sync, a day apart, in SYNC_RUNS."""
    started = [now() - timedelta(days=i + 1) for i in range(runs)]
    with warehouse.session() as session:
        session.execute("CREATE SCHEMA IF NOT EXISTS ITERABLE_SYNC")
        for ddl in WRITE_BACK_DDL:
            session.execute(ddl)
        session.append(
            RUNS_TABLE,
            pa.table(
                {
                    "RUN_ID": [f"earlier-{i}" for i in range(runs)],
                    "SYNC": [sync] * runs,
                    "STARTED_AT": started,
                    "FINISHED_AT": started,
                    "DRY_RUN": [False] * runs,
                    "QUERIED": [queried] * runs,
                    "SENT": [0] * runs,
                    "FAILED": [0] * runs,
                    "QUARANTINED": [0] * runs,
                    "SECONDS": [float(seconds)] * runs,
                }
            ),
        )


def set_run_seconds(warehouse, run_id: str, seconds: float) -> None:
    """Pretend the run took this long (tests assert no timings of their own)."""
    with warehouse.session() as session:
        session.execute(f"UPDATE {RUNS_TABLE} SET SECONDS = ? WHERE RUN_ID = ?", [seconds, run_id])


def test_a_failing_sync_alerts_once_over_three_runs_and_once_when_it_heals(
    home, warehouse, shared_emulator, instance
):
    rows = [contact(i) for i in range(100)]
    for row in rows[:10]:
        row["EMAIL"] = None  # 10% without email: identifiers_valid blocks the send
    driver = driver_for(warehouse, shared_emulator, instance, rows)
    for _ in range(3):
        assert not driver.run().success
        driver.tick()
    assert kinds() == ["failing"]
    assert "blocked by check identifiers_valid" in read_alerts()[0]["message"]

    with warehouse.session() as session:
        session.execute(
            f"UPDATE {SOURCE_TABLE} SET EMAIL = LOWER(CONTACT_ID) || '@example.com'"
            " WHERE EMAIL IS NULL"
        )
    assert driver.run().success
    driver.tick()
    driver.tick()  # a tick with no new run says nothing
    assert kinds() == ["failing", "recovered"]
    assert "failing healed" in read_alerts()[1]["message"]


def test_runs_that_fail_between_two_ticks_are_one_alert(home, warehouse, shared_emulator, instance):
    rows = [{**contact(i), "EMAIL": None} for i in range(20)]
    driver = driver_for(warehouse, shared_emulator, instance, rows)
    for _ in range(2):
        driver.run()
    driver.tick()
    assert kinds() == ["failing"]


def test_a_slow_run_alerts_once_and_recovers(home, warehouse, shared_emulator, instance):
    driver = driver_for(warehouse, shared_emulator, instance, [contact(i) for i in range(100)])
    seed_run_history(warehouse, "contacts", seconds=100, queried=100)
    for _ in range(2):  # two slow runs in a row: one alert
        result = driver.run()
        set_run_seconds(warehouse, result.run_id, 1000)
        driver.tick()
    assert kinds() == ["slow_run"]
    assert "10.0 times the median 100 s" in read_alerts()[0]["message"]
    driver.run()  # this one keeps its own (short) time
    driver.tick()
    assert kinds() == ["slow_run", "recovered"]


def test_a_much_smaller_model_alerts_once(home, warehouse, shared_emulator, instance):
    driver = driver_for(warehouse, shared_emulator, instance, [contact(i) for i in range(100)])
    seed_run_history(warehouse, "contacts", seconds=1, queried=1000)
    for _ in range(2):
        assert driver.run().success
        driver.tick()
    assert kinds() == ["small_model"]
    assert "model has 100 rows, 10% of the median 1,000" in read_alerts()[0]["message"]


def test_many_rejected_rows_alert_once(home, warehouse, shared_emulator, instance):
    rows = [contact(i) for i in range(100)]
    for row in rows[:6]:
        row["EMAIL"] = "not-an-email"  # 6%: warned by the check (tolerance raised to 10%)
    sync = make_sync(tolerances={"missing_identifiers": 0.10, "rejected_rows_alert": 0.05})
    driver = driver_for(warehouse, shared_emulator, instance, rows, sync)
    for _ in range(2):
        assert driver.run().success
        driver.tick()
    alerts_seen = read_alerts()
    assert [(a["kind"], a["sync"]) for a in alerts_seen] == [("rejected_rows", "contacts")]
    assert "6.0% of rows" in alerts_seen[0]["message"]


def test_a_problem_that_persists_is_silent():
    assert alerts.transitions({"failing": "run a"}, {"failing": "run b"}) == []


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib to hand over one message."""

    messages: ClassVar[list[str]] = []

    def handle(self) -> None:
        self.connection.settimeout(5)
        self.wfile.write(b"220 localhost\r\n")
        for _ in range(200):  # bounded: one short conversation
            line = self.rfile.readline().decode().strip()
            verb = line.split(" ", 1)[0].upper()
            if not line or verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            if verb == "DATA":
                self.wfile.write(b"354 end with .\r\n")
                body = []
                for _ in range(10_000):
                    text = self.rfile.readline().decode()
                    if text.rstrip("\r\n") == ".":
                        break
                    body.append(text)
                type(self).messages.append("".join(body))
            self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def listeners() -> Iterator[tuple[str, int]]:
    """A webhook and an SMTP server on 127.0.0.1, stopped after the test."""
    _Webhook.received, _Smtp.messages = [], []
    web = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    mail = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (web, mail)]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{web.server_address[1]}/hook", mail.server_address[1]
    finally:
        for server in (web, mail):
            server.shutdown()
            server.server_close()


def test_alerts_go_to_the_webhook_and_email_the_environment_names(home, monkeypatch, listeners):
    webhook, smtp_port = listeners
    monkeypatch.setenv(alerts.WEBHOOK_ENV, webhook)
    monkeypatch.setenv(alerts.EMAIL_TO_ENV, "ops@example.com, oncall@example.com")
    monkeypatch.setenv("ITERABLE_SYNC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ITERABLE_SYNC_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("ITERABLE_SYNC_SMTP_SECURITY", "none")
    monkeypatch.setenv("ITERABLE_SYNC_SMTP_FROM", "sync@example.com")
    send_alert("failing", "contacts", "run abc did not deliver")
    assert _Webhook.received == [{"text": "[failing] contacts: run abc did not deliver"}]
    (message,) = _Smtp.messages
    assert "Subject: iterable_sync [failing] contacts: run abc did not deliver" in message
    assert "To: ops@example.com, oncall@example.com" in message
    assert kinds() == ["failing"]


def test_a_step_that_raises_is_named_in_the_alert(home, warehouse, shared_emulator, instance):
    sync = make_sync(mapping=[{"column": "NO_SUCH_COLUMN", "field": "gone"}])
    driver = driver_for(warehouse, shared_emulator, instance, [contact(1)], sync)
    driver.run()
    driver.tick()
    (alert,) = read_alerts()
    assert alert["kind"] == "failing"
    assert "step contacts_diff failed" in alert["message"]
    assert "NO_SUCH_COLUMN" in alert["message"]
