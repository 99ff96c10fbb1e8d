"""Alerts on a sync's health: raised when it changes, not on every run.

A sync's health is the set of problems its latest run showed — ``failing`` (the run did
not deliver: an error, or a blocking check), ``rejected_rows`` (rejected + quarantined rows
past ``tolerances.rejected_rows_alert``), ``slow_run`` and ``small_model`` (measured against
the sync's recent runs in ``ITERABLE_SYNC.SYNC_RUNS``). :func:`transitions` compares it
with the health last seen: a problem that appears is one alert, a problem that goes away
is one recovery notice, a problem that persists is silence.

Where alerts go is configuration, read from the environment (never logged):

- always: appended to ``$ITERABLE_SYNC_HOME/alerts.jsonl`` and the log;
- ``ITERABLE_SYNC_ALERT_WEBHOOK``: POSTed as Slack-compatible ``{"text": ...}``;
- ``ITERABLE_SYNC_ALERT_EMAIL_TO`` (comma-separated) with ``ITERABLE_SYNC_SMTP_HOST``,
  ``_PORT`` (587), ``_USER``, ``_PASSWORD``, ``_FROM``, ``_SECURITY`` (``starttls`` |
  ``ssl`` | ``none``): e-mailed.

What counts as unusual: ``ITERABLE_SYNC_ALERT_SLOW_FACTOR`` (3: a run this many times the
median of the recent runs, and at least ``ITERABLE_SYNC_ALERT_SLOW_MIN_SECONDS``, 60),
``ITERABLE_SYNC_ALERT_SMALL_SHARE`` (0.5: a model below this share of the recent median),
over the last ``ITERABLE_SYNC_ALERT_RECENT_RUNS`` (10) runs, once there are at least 3.
"""

import json
import logging
import smtplib
import ssl
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from iterable_sync import settings

WEBHOOK_ENV = "ITERABLE_SYNC_ALERT_WEBHOOK"
EMAIL_TO_ENV = "ITERABLE_SYNC_ALERT_EMAIL_TO"
SMTP_ENV_PREFIX = "ITERABLE_SYNC_SMTP_"
SLOW_FACTOR_ENV = "ITERABLE_SYNC_ALERT_SLOW_FACTOR"
SLOW_MIN_SECONDS_ENV = "ITERABLE_SYNC_ALERT_SLOW_MIN_SECONDS"
SMALL_SHARE_ENV = "ITERABLE_SYNC_ALERT_SMALL_SHARE"
RECENT_RUNS_ENV = "ITERABLE_SYNC_ALERT_RECENT_RUNS"
#: Fewer earlier runs than this are no baseline: nothing is "usual" yet.
MIN_BASELINE_RUNS = 3

FAILING = "failing"
REJECTED_ROWS = "rejected_rows"
SLOW_RUN = "slow_run"
SMALL_MODEL = "small_model"
RECOVERED = "recovered"
#: Problems measured on a delivered run; a failed run leaves them as they were.
RUN_PROBLEMS = (REJECTED_ROWS, SLOW_RUN, SMALL_MODEL)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    """What makes a run unusual next to the sync's recent runs."""

    slow_factor: float = 3.0
    slow_min_seconds: float = 60.0
    small_share: float = 0.5
    recent_runs: int = 10

    @classmethod
    def from_env(cls) -> "Thresholds":
        current = settings.load()
        return cls(
            slow_factor=current.alert_slow_factor,
            slow_min_seconds=current.alert_slow_min_seconds,
            small_share=current.alert_small_share,
            recent_runs=max(current.alert_recent_runs, MIN_BASELINE_RUNS),
        )


@dataclass(frozen=True)
class RunFigures:
    """One delivered run of a sync, as SYNC_RUNS has it."""

    seconds: float
    queried: int
    sent: int = 0
    failed: int = 0
    quarantined: int = 0

    @property
    def rejected_share(self) -> float:
        total = self.sent + self.quarantined
        return (self.failed + self.quarantined) / total if total else 0.0


def run_problems(
    run: RunFigures,
    recent: Sequence[RunFigures],
    rejected_limit: float,
    thresholds: Thresholds,
) -> dict[str, str]:
    """The problems a delivered run shows, each with the sentence an alert carries.

    ``recent`` are the sync's earlier delivered runs, newest first.
    """
    problems: dict[str, str] = {}
    share = run.rejected_share
    if share > rejected_limit:
        problems[REJECTED_ROWS] = (
            f"{share:.1%} of rows rejected or quarantined (limit {rejected_limit:.0%})"
        )
    baseline = list(recent[: thresholds.recent_runs])
    if len(baseline) < MIN_BASELINE_RUNS:
        return problems
    usual_seconds = statistics.median(r.seconds for r in baseline)
    if (
        run.seconds >= thresholds.slow_min_seconds
        and run.seconds > thresholds.slow_factor * usual_seconds
    ):
        problems[SLOW_RUN] = (
            f"run took {run.seconds:,.0f} s, {run.seconds / max(usual_seconds, 1e-9):.1f} times "
            f"the median {usual_seconds:,.0f} s of the last {len(baseline)} runs"
        )
    usual_rows = statistics.median(r.queried for r in baseline)
    if usual_rows > 0 and run.queried < thresholds.small_share * usual_rows:
        problems[SMALL_MODEL] = (
            f"model has {run.queried:,} rows, {run.queried / usual_rows:.0%} of the median "
            f"{usual_rows:,.0f} of the last {len(baseline)} runs"
        )
    return problems


@dataclass(frozen=True)
class Notice:
    kind: str
    message: str


def transitions(previous: Mapping[str, str], current: Mapping[str, str]) -> list[Notice]:
    """One alert per problem that appeared, one recovery notice per problem that healed;
    nothing for a problem that persists (however many runs it lasts)."""
    notices = [Notice(kind, current[kind]) for kind in current if kind not in previous]
    notices += [
        Notice(RECOVERED, f"{kind.replace('_', ' ')} healed (was: {previous[kind]})")
        for kind in previous
        if kind not in current
    ]
    return notices


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    #: Never logged, never written anywhere.
    password: str | None = field(default=None, repr=False)
    security: str = "starttls"


@dataclass(frozen=True)
class Channels:
    """Where alerts go besides alerts.jsonl and the log."""

    webhook_url: str | None = field(default=None, repr=False)
    smtp: SmtpSettings | None = None

    @classmethod
    def from_env(cls) -> "Channels":
        current = settings.load()
        recipients = current.alert_recipients
        smtp = None
        if recipients and current.smtp_host:
            security = current.smtp_security
            smtp = SmtpSettings(
                host=current.smtp_host.strip(),
                port=current.smtp_port or (465 if security == "ssl" else 587),
                sender=(current.smtp_from or "").strip() or "iterable-sync@localhost",
                recipients=recipients,
                user=current.smtp_user,
                password=_revealed(current.smtp_password),
                security=security,
            )
        elif recipients:
            log.error(
                "%s is set but %sHOST is not: alerts are not e-mailed",
                EMAIL_TO_ENV,
                SMTP_ENV_PREFIX,
            )
        return cls(webhook_url=_revealed(current.alert_webhook), smtp=smtp)


def _revealed(secret: SecretStr | None) -> str | None:
    """The secret's value, only where it is used (held by ``repr=False`` fields)."""
    return secret.get_secret_value() if secret is not None else None


def alerts_file() -> Path:
    return settings.home() / "alerts.jsonl"


def _headline(alert: Mapping[str, Any]) -> str:
    return f"[{alert['kind']}] {alert['sync']}: {alert['message']}"


def _post_webhook(url: str, alert: Mapping[str, Any]) -> None:
    try:
        httpx.post(url, json={"text": _headline(alert)}, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:  # an alert channel being down must not fail the run
        log.error("alert webhook failed: %s", type(exc).__name__)


def _send_email(smtp: SmtpSettings, alert: Mapping[str, Any]) -> None:
    message = EmailMessage()
    message["Subject"] = f"iterable_sync {_headline(alert)}"[:200]
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.recipients)
    message.set_content(json.dumps(alert, indent=2, default=str))
    try:
        if smtp.security == "ssl":
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=10, context=context
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:  # never fail the sensor over the mail
        log.error("alert e-mail failed: %s", type(exc).__name__)


def send_alert(
    kind: str,
    sync: str,
    message: str,
    details: dict[str, Any] | None = None,
    channels: Channels | None = None,
) -> dict:
    """Record one alert and deliver it to every configured channel."""
    alert = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": kind,
        "sync": sync,
        "message": message,
        "details": details or {},
    }
    with alerts_file().open("a") as handle:
        handle.write(json.dumps(alert, default=str) + "\n")
    log.warning("iterable_sync alert %s", _headline(alert))
    channels = channels or Channels.from_env()
    if channels.webhook_url:
        _post_webhook(channels.webhook_url, alert)
    if channels.smtp:
        _send_email(channels.smtp, alert)
    return alert


def read_alerts() -> list[dict[str, Any]]:
    path = alerts_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
