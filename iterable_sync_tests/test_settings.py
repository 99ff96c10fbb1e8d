"""The one settings object: every variable the package reads, validated, secrets hidden."""

import re
from pathlib import Path

import pytest

from iterable_sync import settings
from iterable_sync.sync.plan import locks
from iterable_sync.warehouse_resource import DEFAULT_MEMORY_LIMIT

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "iterable_sync"
TABLE = re.compile(r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", re.S)
#: A variable named where the package reads one: os.environ / getenv / Dagster's EnvVar,
#: or a ``*_ENV = "..."`` constant.
READ = re.compile(
    r"""(?:environ(?:\.get|\.pop|\.setdefault)?\(|getenv\(|EnvVar\(|_ENV\s*=\s*)\s*["']([A-Z][A-Z0-9_]+)["']"""
)


@pytest.fixture
def clean_env(monkeypatch):
    for field in settings.Settings.model_fields:
        monkeypatch.delenv(settings.env_name(field), raising=False)
    return monkeypatch


def test_readme_table_is_the_models():
    """After changing a field: paste ``settings.markdown_table()`` between the markers."""
    found = TABLE.search((ROOT / "README.md").read_text())
    assert found, "README.md lacks the settings-table markers"
    assert found.group(1) == settings.markdown_table()


def test_every_variable_the_package_reads_is_a_field():
    """A variable read anywhere in the package (the emulator keeps its own) is in the model,
    hence in the README's table."""
    fields = {settings.env_name(f) for f in settings.Settings.model_fields}
    read = {
        name
        for path in PACKAGE.rglob("*.py")
        if "emulator" not in path.relative_to(PACKAGE).parts
        for name in READ.findall(path.read_text())
    }
    assert read, "the pattern finds nothing: it is broken"
    assert read - fields == set()


def test_defaults_match_the_modules_that_use_them():
    defaults = settings.Settings.model_fields
    assert defaults["lock_lease_s"].default == locks.DEFAULT_LEASE_S
    assert defaults["duckdb_memory_limit"].default == DEFAULT_MEMORY_LIMIT


def test_unset_and_empty_variables_give_the_defaults(clean_env):
    clean_env.setenv("ITERABLE_SYNC_SMTP_PORT", "")
    current = settings.load()
    assert (current.warehouse, current.iterable_project_type) == ("duckdb", "email")
    assert current.smtp_port is None and current.iterable_api_key is None


def test_a_bad_value_is_refused_naming_its_variable(clean_env):
    clean_env.setenv("ITERABLE_SYNC_LOCK_LEASE_S", "soon")
    with pytest.raises(settings.SettingsError, match=r"ITERABLE_SYNC_LOCK_LEASE_S.*'soon'"):
        settings.load()


def test_each_bad_value_is_named(clean_env):
    clean_env.setenv("ITERABLE_SYNC_SMTP_SECURITY", "tls")
    clean_env.setenv("ITERABLE_BASE_URL", "api.iterable.com")
    with pytest.raises(settings.SettingsError) as refused:
        settings.load()
    assert "ITERABLE_SYNC_SMTP_SECURITY" in str(refused.value)
    assert "ITERABLE_BASE_URL" in str(refused.value)


def test_secrets_are_never_shown(clean_env):
    clean_env.setenv("ITERABLE_API_KEY", "k3y-value")
    clean_env.setenv("SNOWFLAKE_PASSWORD", "pa55-value")
    clean_env.setenv("ITERABLE_SYNC_SMTP_PASSWORD", "smtp-value")
    clean_env.setenv("ITERABLE_SYNC_ALERT_WEBHOOK", "https://hooks.example.com/s3cret")
    current = settings.load()
    shown = f"{current!r} {current}"
    for secret in ("k3y-value", "pa55-value", "smtp-value", "s3cret"):
        assert secret not in shown
    assert current.iterable_api_key is not None
    assert current.iterable_api_key.get_secret_value() == "k3y-value"


def test_settings_follow_the_environment_when_it_changes(clean_env):
    clean_env.setenv("ITERABLE_PROJECT_TYPE", "userId")
    assert settings.project_type() == "userId"
    clean_env.setenv("ITERABLE_PROJECT_TYPE", "hybrid")
    assert settings.project_type() == "hybrid"
