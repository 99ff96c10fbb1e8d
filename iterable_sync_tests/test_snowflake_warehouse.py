"""The Snowflake warehouse: its resource built from the environment (password or key pair,
no network) and its batched read, under fakesnow."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import fakesnow
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakesnow.cursor import FakeSnowflakeCursor
from snowflake.connector.errors import NotSupportedError

from iterable_sync import settings
from iterable_sync.snowflake_warehouse import snowflake_resource_from_env
from iterable_sync_tests.fixtures.warehouses import snowflake_warehouse_resource

AUTH = ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY_PATH")
PASSPHRASE = b"correct horse"


@pytest.fixture
def snowflake_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*AUTH, "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "SNOWFLAKE_ACCOUNT": "acme-eu1",
        "SNOWFLAKE_USER": "SYNC",
        "SNOWFLAKE_WAREHOUSE": "WH",
        "SNOWFLAKE_DATABASE": "ANALYTICS",
        "SNOWFLAKE_ROLE": "SYNCER",
    }.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    ).decode()


def _der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _connection_args() -> dict[str, Any]:
    """What dagster-snowflake would hand the connector, EnvVars resolved (no connection)."""
    resource = snowflake_resource_from_env().process_config_and_initialize()
    return dict(resource._connection_args)


def test_password_auth_passes_the_password(snowflake_env):
    snowflake_env.setenv("SNOWFLAKE_PASSWORD", "pw-from-env")
    args = _connection_args()
    assert args["password"] == "pw-from-env"
    assert "private_key" not in args
    assert (args["account"], args["user"], args["paramstyle"]) == ("acme-eu1", "SYNC", "qmark")


def test_key_pair_auth_passes_the_decrypted_key(snowflake_env, key):
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY", _pem(key))
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", PASSPHRASE.decode())
    args = _connection_args()
    assert args["private_key"] == _der(key)
    assert "password" not in args


def test_key_pair_auth_reads_the_key_file(snowflake_env, key, tmp_path):
    path = tmp_path / "rsa_key.p8"
    path.write_text(_pem(key))
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(path))
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", PASSPHRASE.decode())
    assert _connection_args()["private_key"] == _der(key)


def test_the_credentials_stay_environment_variables(snowflake_env, key):
    """The definitions hold the variables' names, not the key (Dagster reads it at run time)."""
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY", _pem(key))
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", PASSPHRASE.decode())
    fields = snowflake_resource_from_env()._get_non_default_public_field_values()
    assert "PRIVATE KEY" not in repr(fields)
    assert isinstance(fields["private_key"], dg.EnvVar)
    assert fields["private_key"].env_var_name == "SNOWFLAKE_PRIVATE_KEY"
    assert fields["private_key_password"].env_var_name == "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"


def test_no_way_to_authenticate_is_refused_naming_the_variables(snowflake_env):
    with pytest.raises(settings.SettingsError) as refused:
        snowflake_resource_from_env()
    assert all(name in str(refused.value) for name in AUTH)


def test_a_password_and_a_key_together_are_refused(snowflake_env, key):
    snowflake_env.setenv("SNOWFLAKE_PASSWORD", "pw")
    snowflake_env.setenv("SNOWFLAKE_PRIVATE_KEY", _pem(key))
    with pytest.raises(settings.SettingsError, match="more than one"):
        snowflake_resource_from_env()


# ------------------------------------------------------------------- the batched read

ROWS = 2_500
QUERY = "SELECT id, 'name-' || id AS name FROM S.NUMBERS ORDER BY id"


@pytest.fixture
def fake_snowflake() -> Iterator[None]:
    with fakesnow.patch(), snowflake_warehouse_resource().session() as session:
        session.execute_native("CREATE SCHEMA S")
        session.execute_native("CREATE TABLE S.NUMBERS (id INTEGER)")
        session.execute_native(f"INSERT INTO S.NUMBERS SELECT range FROM range({ROWS})")
        yield


def _read(batch_rows: int) -> list[pa.RecordBatch]:
    with snowflake_warehouse_resource().session() as session:
        return list(session.iter_arrow(QUERY, batch_rows=batch_rows))


def _check(batches: list[pa.RecordBatch], batch_rows: int) -> None:
    assert all(0 < batch.num_rows <= batch_rows for batch in batches)
    table = pa.Table.from_batches(batches)
    assert table.column_names == ["ID", "NAME"]
    assert table.column("ID").to_pylist() == list(range(ROWS))
    assert table.column("NAME").to_pylist()[7] == "name-7"


def _arrow_chunks(self: FakeSnowflakeCursor, **kwargs: Any) -> Iterator[pa.Table]:
    """fetch_arrow_batches as the connector gives it: the result in chunks of the server's
    size (here uneven: 1,000 then 1,500), lower-case names as a quoted alias would have."""
    assert kwargs == {"force_microsecond_precision": True}
    table = self._arrow_table.rename_columns([n.lower() for n in self._arrow_table.column_names])
    return iter([table.slice(0, 1_000), table.slice(1_000).combine_chunks()])


def test_a_cursor_without_arrow_batches_is_read_by_rows(fake_snowflake):
    assert not hasattr(FakeSnowflakeCursor, "fetch_arrow_batches")
    batches = _read(batch_rows=600)
    assert [b.num_rows for b in batches] == [600, 600, 600, 600, 100]
    _check(batches, 600)


def test_arrow_batches_are_read_and_cut_to_the_batch_size(fake_snowflake, monkeypatch):
    monkeypatch.setattr(FakeSnowflakeCursor, "fetch_arrow_batches", _arrow_chunks, raising=False)
    batches = _read(batch_rows=600)
    # Cut within each of the connector's chunks (1,000 and 1,500 rows): the read by rows
    # would have given 600, 600, 600, 600, 100.
    assert [b.num_rows for b in batches] == [600, 400, 600, 600, 300]
    _check(batches, 600)


def test_a_result_not_in_arrow_falls_back_to_rows(fake_snowflake, monkeypatch):
    def json_result(self: FakeSnowflakeCursor, **kwargs: Any) -> Iterator[pa.Table]:
        raise NotSupportedError("result came as JSON")

    monkeypatch.setattr(FakeSnowflakeCursor, "fetch_arrow_batches", json_result, raising=False)
    _check(_read(batch_rows=1_000), 1_000)
