"""What each driver dialect adds when the password is an IAM token (pure logic).

PostgreSQL takes the token as a password; MySQL drivers must use cleartext authentication,
which is only acceptable over TLS: always encrypted, verified against ``iam_ssl_ca`` when one
is given, and whatever TLS settings the application passed win."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from aws_wrapper.drivers import adriver_dialect_for, driver_dialect_for


@pytest.mark.parametrize("world", ["async", "sync"])
def test_psycopg_adds_nothing(world: str) -> None:
    dialect = (adriver_dialect_for if world == "async" else driver_dialect_for)("psycopg", None)
    assert dialect.token_login_params({}, None) == {}


@pytest.mark.parametrize(
    ("factory", "name"), [(adriver_dialect_for, "aiomysql"), (driver_dialect_for, "pymysql")]
)
def test_pymysql_family_encrypts_without_verifying_by_default(factory: object, name: str) -> None:
    dialect = factory(name, None)  # type: ignore[operator]
    params = dialect.token_login_params({}, None)
    context = params["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(
    ("factory", "name"), [(adriver_dialect_for, "aiomysql"), (driver_dialect_for, "pymysql")]
)
def test_pymysql_family_verifies_with_a_ca(factory: object, name: str, tmp_path: Path) -> None:
    ca = _self_signed_ca(tmp_path)
    dialect = factory(name, None)  # type: ignore[operator]
    context = dialect.token_login_params({}, str(ca))["ssl"]
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(
    ("factory", "name"), [(adriver_dialect_for, "aiomysql"), (driver_dialect_for, "pymysql")]
)
def test_application_tls_settings_win(factory: object, name: str) -> None:
    dialect = factory(name, None)  # type: ignore[operator]
    assert dialect.token_login_params({"ssl": {"ca": "/x"}}, None) == {}
    assert dialect.token_login_params({"ssl_ca": "/x"}, None) == {}


@pytest.mark.parametrize("factory", [adriver_dialect_for, driver_dialect_for])
def test_mysql_connector_uses_the_cleartext_plugin_over_tls(factory: object) -> None:
    dialect = factory("mysql-connector", None)  # type: ignore[operator]
    params = dialect.token_login_params({}, None)
    assert params == {"auth_plugin": "mysql_clear_password", "ssl_disabled": False}
    verified = dialect.token_login_params({}, "/ca.pem")
    assert verified["ssl_ca"] == "/ca.pem" and verified["ssl_verify_identity"] is True


def _self_signed_ca(directory: Path) -> Path:
    from aws_wrapper_devcluster.fake_idp import LocalCA

    ca = LocalCA(directory)
    return Path(ca.ca_file)
