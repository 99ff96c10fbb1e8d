"""Every environment variable the project honours, read into one typed object.

:func:`load` builds :class:`Settings` from the environment each time it is called (nothing
is cached: a test or a long-lived process that changes the environment sees the change).
Values are validated when they are read; a bad one fails with the variable's name.
Secrets (the Iterable API key, the Snowflake password and private key, the SMTP password,
the alert webhook URL) are ``SecretStr``: printing the settings never shows them.

Everything the project writes on a laptop (the DuckDB warehouse, Dagster's storage, the
emulator's state) sits under one directory, ``ITERABLE_SYNC_HOME``, so that deleting it
starts over cleanly and nothing leaks into the source tree.

The README's table of variables is rendered from this model (:func:`markdown_table`); a
test compares the two. The emulator (``iterable_sync/emulator``) keeps its own variables:
it imports nothing of the package.
"""

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HOME_ENV = "ITERABLE_SYNC_HOME"
WAREHOUSE_ENV = "ITERABLE_SYNC_WAREHOUSE"
DUCKDB_PATH_ENV = "ITERABLE_SYNC_DUCKDB_PATH"
SYNCS_FILE_ENV = "ITERABLE_SYNC_SYNCS_FILE"

#: Schema that holds this project's own tables (model snapshots, state, ledgers).
SYNC_SCHEMA = "ITERABLE_SYNC"

PACKAGE_DIR = Path(__file__).resolve().parent


class SettingsError(ValueError):
    """An environment variable holds a value the project cannot use."""


def _env(name: str, description: str, **kwargs: Any) -> Any:
    """A field read from exactly the variable ``name`` (no prefix, case-sensitive)."""
    return Field(validation_alias=AliasChoices(name), description=description, **kwargs)


class Settings(BaseSettings):
    """The project's configuration, as the environment gives it."""

    # Empty counts as unset, as it always did here (``FOO= make demo``).
    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True
    )

    # --- where things are --------------------------------------------------------------
    home: Path = _env(
        HOME_ENV,
        "Local state: DuckDB file, Dagster storage, emulator state, alerts.jsonl.",
        default=Path(".iterable_sync"),
    )
    warehouse: Literal["duckdb", "snowflake"] = _env(
        WAREHOUSE_ENV, "`duckdb` (embedded) or `snowflake`.", default="duckdb"
    )
    duckdb_path: Path | None = _env(
        DUCKDB_PATH_ENV,
        "The embedded warehouse file (default: `warehouse.duckdb` in the home).",
        default=None,
    )
    duckdb_memory_limit: str = _env(
        "ITERABLE_SYNC_DUCKDB_MEMORY_LIMIT",
        "DuckDB's memory limit; it spills to disk past it.",
        default="512MB",
        min_length=1,
    )
    syncs_file: Path | None = _env(
        SYNCS_FILE_ENV,
        "syncs.yaml (default: the working directory's, else the project's).",
        default=None,
    )
    lock_lease_s: float = _env(
        "ITERABLE_SYNC_LOCK_LEASE_S",
        "Seconds a run's hold on a sync lasts without renewal.",
        default=900.0,
        gt=0,
    )
    dagster_home: Path | None = _env(
        "DAGSTER_HOME",
        "Dagster's instance directory (Dagster's own variable); unset: an ephemeral instance.",
        default=None,
    )

    # --- Iterable ------------------------------------------------------------------------
    iterable_api_key: SecretStr | None = _env(
        "ITERABLE_API_KEY",
        "Server-side API key; unset (with no base URL): the embedded emulator.",
        default=None,
    )
    iterable_base_url: str | None = _env(
        "ITERABLE_BASE_URL",
        "Iterable's host, e.g. `https://api.eu.iterable.com` (default with a key: US).",
        default=None,
    )
    iterable_project_type: Literal["email", "userId", "hybrid"] = _env(
        "ITERABLE_PROJECT_TYPE", "The Iterable project's type.", default="email"
    )

    # --- Snowflake (ITERABLE_SYNC_WAREHOUSE=snowflake) -------------------------------------
    snowflake_account: str | None = _env("SNOWFLAKE_ACCOUNT", "Account identifier.", default=None)
    snowflake_user: str | None = _env("SNOWFLAKE_USER", "User name.", default=None)
    snowflake_password: SecretStr | None = _env(
        "SNOWFLAKE_PASSWORD", "Password (or a private key below; exactly one).", default=None
    )
    snowflake_private_key: SecretStr | None = _env(
        "SNOWFLAKE_PRIVATE_KEY", "Key-pair auth: the PEM private key (or its base64).", default=None
    )
    snowflake_private_key_path: Path | None = _env(
        "SNOWFLAKE_PRIVATE_KEY_PATH",
        "Key-pair auth: a file holding the PEM private key.",
        default=None,
    )
    snowflake_private_key_passphrase: SecretStr | None = _env(
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
        "The private key's passphrase, if encrypted.",
        default=None,
    )
    snowflake_warehouse: str | None = _env(
        "SNOWFLAKE_WAREHOUSE", "Virtual warehouse.", default=None
    )
    snowflake_database: str | None = _env("SNOWFLAKE_DATABASE", "Database.", default=None)
    snowflake_role: str | None = _env("SNOWFLAKE_ROLE", "Role.", default=None)

    # --- alerts --------------------------------------------------------------------------
    alert_webhook: SecretStr | None = _env(
        "ITERABLE_SYNC_ALERT_WEBHOOK", 'Alerts POSTed here as `{"text": ...}`.', default=None
    )
    alert_email_to: str | None = _env(
        "ITERABLE_SYNC_ALERT_EMAIL_TO", "Comma-separated recipients of alert e-mails.", default=None
    )
    smtp_host: str | None = _env("ITERABLE_SYNC_SMTP_HOST", "SMTP server.", default=None)
    smtp_port: int | None = _env(
        "ITERABLE_SYNC_SMTP_PORT",
        "SMTP port (default 587; 465 with `ssl`).",
        default=None,
        gt=0,
        lt=65536,
    )
    smtp_security: Literal["starttls", "ssl", "none"] = _env(
        "ITERABLE_SYNC_SMTP_SECURITY", "`starttls`, `ssl` or `none`.", default="starttls"
    )
    smtp_user: str | None = _env("ITERABLE_SYNC_SMTP_USER", "SMTP login.", default=None)
    smtp_password: SecretStr | None = _env(
        "ITERABLE_SYNC_SMTP_PASSWORD", "SMTP password.", default=None
    )
    smtp_from: str | None = _env(
        "ITERABLE_SYNC_SMTP_FROM", "Sender (default `iterable-sync@localhost`).", default=None
    )
    alert_slow_factor: float = _env(
        "ITERABLE_SYNC_ALERT_SLOW_FACTOR",
        "A run this many times the recent median is slow.",
        default=3.0,
        gt=0,
    )
    alert_slow_min_seconds: float = _env(
        "ITERABLE_SYNC_ALERT_SLOW_MIN_SECONDS",
        "A slow run also lasts at least this long.",
        default=60.0,
        ge=0,
    )
    alert_small_share: float = _env(
        "ITERABLE_SYNC_ALERT_SMALL_SHARE",
        "A model below this share of the recent median is small.",
        default=0.5,
        ge=0,
    )
    alert_recent_runs: int = _env(
        "ITERABLE_SYNC_ALERT_RECENT_RUNS", "Recent runs compared (at least 3).", default=10, gt=0
    )

    @field_validator("warehouse", "smtp_security", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("iterable_project_type", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("iterable_base_url")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be a URL such as https://api.iterable.com")
        return value.strip()

    @property
    def alert_recipients(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in (self.alert_email_to or "").split(",") if a.strip())


def _secret(name: str) -> bool:
    field = Settings.model_fields[name]
    return field.annotation in (SecretStr, SecretStr | None)


def env_name(field_name: str) -> str:
    """The environment variable a field is read from."""
    alias = Settings.model_fields[field_name].validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


def load() -> Settings:
    """The settings, read from the environment now. A bad value raises :class:`SettingsError`
    naming its variable (a secret's value is never repeated)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = next(
                (env_name(f) for f in Settings.model_fields if field in (f, env_name(f))), field
            )
            secret = any(env_name(f) == name and _secret(f) for f in Settings.model_fields)
            shown = "" if secret else f", got {error.get('input')!r}"
            problems.append(f"{name}: {error['msg']}{shown}")
        raise SettingsError("; ".join(problems)) from None


def markdown_table() -> str:
    """The README's table of variables, one row per field of :class:`Settings`."""
    rows = ["| Variable | Default | Secret | Meaning |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default is None else f"`{default}`"
        secret = "yes" if _secret(name) else ""
        rows.append(f"| `{env_name(name)}` | {shown} | {secret} | {field.description} |")
    return "\n".join(rows) + "\n"


def home() -> Path:
    """The local state directory, created on first use."""
    path = load().home.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def duckdb_path() -> Path:
    """The embedded warehouse file."""
    explicit = load().duckdb_path
    return explicit.expanduser().resolve() if explicit else home() / "warehouse.duckdb"


def warehouse_kind() -> str:
    """``duckdb`` (embedded default) or ``snowflake``."""
    return load().warehouse


def syncs_file() -> Path:
    """syncs.yaml: explicit path, else the working directory's, else the project's."""
    explicit = load().syncs_file
    if explicit:
        return explicit.expanduser().resolve()
    local = Path.cwd() / "syncs.yaml"
    return local if local.exists() else PACKAGE_DIR.parent / "syncs.yaml"


def project_type() -> str:
    """The Iterable project's type: email, userId or hybrid."""
    return load().iterable_project_type


def real_destination() -> bool:
    """Whether runs call a real Iterable: ``ITERABLE_API_KEY`` or ``ITERABLE_BASE_URL`` is
    set. Neither set: the embedded emulator, where example syncs (``live: false``) run."""
    current = load()
    return bool(current.iterable_api_key or current.iterable_base_url)
