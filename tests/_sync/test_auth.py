# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_auth.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Authentication plugins end to end on the devcluster's PostgreSQL, both trees.

The devcluster lets members of ``rds_iam`` in only with an IAM token whose signature, user,
host/port, region and expiry verify (its IAM verifier); Secrets Manager and STS are moto on
loopback; ADFS and Okta are local HTTPS fakes with a CA made for the run."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import gather
from aws_wrapper._sync.plugins.auth import SECRETS
from aws_wrapper._sync.plugins.federated import SAML_CREDENTIALS
from aws_wrapper.aws.credentials import (
    AwsCredentials,
    clear_sessions,
    set_credentials_provider,
)
from aws_wrapper.aws.iam import TOKENS, TokenTarget
from aws_wrapper.aws.sigv4 import generate_rds_auth_token
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.aws_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MotoServer
from aws_wrapper_devcluster.fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def fresh_caches(fake_aws_env: dict[str, str]) -> Iterator[None]:
    """Every test starts without cached tokens, secrets or credentials, with the fake AWS
    environment (the devcluster's key pair, moto as the endpoint, no ~/.aws)."""
    TOKENS.clear()
    SECRETS.clear()
    SAML_CREDENTIALS.clear()
    clear_sessions()
    set_credentials_provider(None)
    yield
    set_credentials_provider(None)


@pytest.fixture
def cluster(devcluster_pg: Cluster) -> Cluster:
    return devcluster_pg


@pytest.fixture
def iam_user(cluster: Cluster) -> str:
    cluster.create_iam_user("iam_app")
    return "iam_app"


def params(cluster: Cluster, **props: Any) -> dict[str, Any]:
    out = dict(cluster.conn_params())
    out.pop("password", None)
    out.update(props)
    return out


def current_user(conn: aw.AwsWrapperConnection) -> str:
    cur = conn.execute("SELECT current_user")
    row = cur.fetchone()
    assert row is not None
    return str(row[0])


def target_for(cluster: Cluster, user: str) -> TokenTarget:
    return TokenTarget(cluster.cluster_host, cluster.port, user, REGION)


def verdicts(cluster: Cluster, since: int) -> list[str]:
    return cluster.iam_log()[since:]


# -- iam ---------------------------------------------------------------------------------------


def test_iam_login_and_token_cache(cluster: Cluster, iam_user: str) -> None:
    signed = TOKENS.signed
    with aw.connect(**params(cluster, user=iam_user, plugins="iam")) as conn:
        assert current_user(conn) == iam_user
    assert TOKENS.signed == signed + 1
    for _ in range(3):  # cache hits: nothing signed again
        with aw.connect(**params(cluster, user=iam_user, plugins="iam")) as conn:
            assert current_user(conn) == iam_user
    assert TOKENS.signed == signed + 1


def test_iam_with_failover_monitors_logs_them_in(cluster: Cluster, iam_user: str) -> None:
    """The topology monitor's own connections log in with tokens for each instance."""
    start = len(cluster.iam_log())
    with aw.connect(
        **params(cluster, user=iam_user, plugins="iam,failover_v2,host_monitoring_v2")
    ) as conn:
        assert conn.current_host is not None and conn.current_host.host_id == cluster.writer
        conn.execute("SELECT pg_sleep(0.05)")
    lines = verdicts(cluster, start)
    assert lines and all("accepted" in line for line in lines), lines


@pytest.mark.parametrize(
    ("prop", "value", "reason"),
    [
        ("iam_region", "eu-west-1", "wrong region"),
        ("iam_default_port", 1234, "wrong host/port"),
        ("iam_host", "elsewhere.cluster-abc.us-east-1.rds.amazonaws.com", "wrong host/port"),
    ],
)
def test_iam_wrong_target_is_refused_by_the_server(
    cluster: Cluster, iam_user: str, prop: str, value: Any, reason: str
) -> None:
    start = len(cluster.iam_log())
    with pytest.raises(aw.LoginError) as info:
        aw.connect(**params(cluster, user=iam_user, plugins="iam", **{prop: value}))
    text = str(info.value)
    assert cluster.cluster_host in text and "X-Amz" not in text
    lines = verdicts(cluster, start)
    assert lines and all(reason in line for line in lines), lines
    assert len(lines) == 2  # one refresh, then the error


@pytest.mark.parametrize("wrong", ["user", "expired"])
def test_a_bad_cached_token_is_refused_then_refreshed(
    cluster: Cluster, iam_user: str, wrong: str
) -> None:
    """A token the server refuses (here: put in the cache by hand) is dropped and a new one
    signed: the server must have refused the bad one for the log to show it."""
    target = target_for(cluster, iam_user)
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    bad = generate_rds_auth_token(
        cluster.cluster_host,
        cluster.port,
        "someone_else" if wrong == "user" else iam_user,
        REGION,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        now=past if wrong == "expired" else None,
    )
    TOKENS._tokens[(target, ("profile", None))] = (bad, float("inf"))
    start = len(cluster.iam_log())
    with aw.connect(**params(cluster, user=iam_user, plugins="iam")) as conn:
        assert current_user(conn) == iam_user
    lines = verdicts(cluster, start)
    assert "wrong user" in lines[0] if wrong == "user" else "expired" in lines[0], lines
    assert "accepted" in lines[1]


def test_iam_without_credentials_is_a_clear_error(cluster: Cluster, iam_user: str) -> None:
    with pytest.raises(aw.AwsAuthError, match="profile 'no-such-profile'"):
        aw.connect(**params(cluster, user=iam_user, plugins="iam", aws_profile="no-such-profile"))


def test_iam_credentials_hook(cluster: Cluster, iam_user: str) -> None:
    calls: list[str | None] = []

    def hook(profile: str | None) -> AwsCredentials:
        calls.append(profile)
        return AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)

    set_credentials_provider(hook)
    with aw.connect(**params(cluster, user=iam_user, plugins="iam")) as conn:
        assert current_user(conn) == iam_user
    assert calls == [None]
    TOKENS.clear()
    set_credentials_provider(lambda profile: AwsCredentials("AKIAUNKNOWNKEY000000", "x" * 40))
    with pytest.raises(aw.LoginError):
        aw.connect(**params(cluster, user=iam_user, plugins="iam"))


def test_no_token_or_secret_in_logs_or_errors(
    cluster: Cluster, iam_user: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with aw.connect(
        **params(cluster, user=iam_user, plugins="iam,failover_v2", wrapper_logger_level="DEBUG")
    ) as conn:
        conn.execute("SELECT 1")
        assert "X-Amz" not in repr(conn)
    with pytest.raises(aw.LoginError) as info:
        aw.connect(**params(cluster, user=iam_user, plugins="iam", iam_region="eu-west-1"))
    seen = caplog.text + str(info.value) + repr(info.value)
    assert "X-Amz-Signature" not in seen and SECRET_ACCESS_KEY not in seen


# -- aws_secrets_manager -------------------------------------------------------------------------


@pytest.fixture
def secret_user(cluster: Cluster) -> Iterator[tuple[str, str]]:
    name = "sm_app"
    password = f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(
        **cluster.direct_params(cluster.writer, admin=True), autocommit=True
    ) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {name}")
        admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    yield name, password


def set_password(cluster: Cluster, user: str, password: str) -> None:
    with psycopg.connect(
        **cluster.direct_params(cluster.writer, admin=True), autocommit=True
    ) as admin:
        admin.execute(f"ALTER ROLE {user} PASSWORD '{password}'")


def test_secrets_manager_login_and_cache(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    user, password = secret_user
    moto_server.create_secret("app/db", user, password)
    props = params(cluster, plugins="aws_secrets_manager", secrets_manager_secret_id="app/db")
    props.pop("user", None)
    fetches = SECRETS.fetches
    for _ in range(3):
        with aw.connect(**props) as conn:
            assert current_user(conn) == user
    assert SECRETS.fetches == fetches + 1


def test_secrets_manager_rotation_recovers_with_one_refresh(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    user, password = secret_user
    arn = moto_server.create_secret("app/rotating", user, password)
    props = params(cluster, plugins="aws_secrets_manager", secrets_manager_secret_id=arn)
    with aw.connect(**props) as conn:
        assert current_user(conn) == user
    fetches = SECRETS.fetches
    new = f"pw-{uuid.uuid4().hex}"
    moto_server.rotate_secret(arn, new)
    set_password(cluster, user, new)  # the old password is revoked
    with aw.connect(**props) as conn:
        assert current_user(conn) == user
    assert SECRETS.fetches == fetches + 1


def test_secrets_manager_errors_are_clear(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    props = params(cluster, plugins="aws_secrets_manager", secrets_manager_secret_id="nope")
    with pytest.raises(aw.AwsAuthError, match="secret 'nope' not found"):
        aw.connect(**props)
    moto_server.create_secret("app/odd", "x", "y", description=None)
    props["secrets_manager_secret_id"] = "app/odd"
    props["secrets_manager_secret_password_key"] = "pass"
    with pytest.raises(aw.AwsAuthError, match="no string 'pass' key"):
        aw.connect(**props)
    with pytest.raises(aw.PropertyError, match="secrets_manager_secret_id"):
        aw.connect(**params(cluster, plugins="aws_secrets_manager"))


def test_secrets_manager_wrong_secret_is_a_login_error(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    user, _ = secret_user
    moto_server.create_secret("app/stale", user, "not-the-password")
    props = params(cluster, plugins="aws_secrets_manager", secrets_manager_secret_id="app/stale")
    with pytest.raises(aw.LoginError) as info:
        aw.connect(**props)
    assert "not-the-password" not in str(info.value)


# -- federated_auth (ADFS) and okta ----------------------------------------------------------------


def federated(
    cluster: Cluster, idp: FakeAdfs | FakeOkta, plugin: str, **extra: Any
) -> dict[str, Any]:
    user = ADFS_USER if plugin == "federated_auth" else OKTA_USER
    props = params(
        cluster,
        plugins=plugin,
        user="fed_app",
        idp_endpoint=f"127.0.0.1:{idp.port}",
        idp_username=user.username,
        idp_password=user.password,
        iam_role_arn=user.role_arn,
        iam_idp_arn=idp.idp_arn,
        idp_ssl_ca=idp.ca_file,
    )
    if plugin == "okta":
        props["app_id"] = idp.app_id  # type: ignore[union-attr]
    props.update(extra)
    return props


@pytest.fixture
def sts_lookup(cluster: Cluster, moto_server: MotoServer) -> Iterator[None]:
    cluster.create_iam_user("fed_app")
    cluster.set_iam_sts_lookup(moto_server.sts_lookup_url)
    yield
    cluster.set_iam_sts_lookup(None)


@pytest.mark.parametrize("plugin", ["federated_auth", "okta"])
def test_federated_login_through_sts(
    cluster: Cluster,
    sts_lookup: None,
    fake_adfs: FakeAdfs,
    fake_okta: FakeOkta,
    plugin: str,
) -> None:
    idp: FakeAdfs | FakeOkta = fake_adfs if plugin == "federated_auth" else fake_okta
    sign_ins = SAML_CREDENTIALS.sign_ins
    for _ in range(2):
        with aw.connect(**federated(cluster, idp, plugin)) as conn:
            assert current_user(conn) == "fed_app"
    assert SAML_CREDENTIALS.sign_ins == sign_ins + 1  # the second connect used the cache
    assert any("accepted" in line and "assumed-role" in line for line in cluster.iam_log())


@pytest.mark.parametrize("plugin", ["federated_auth", "okta"])
def test_federated_wrong_password_is_a_clear_error(
    cluster: Cluster, sts_lookup: None, fake_adfs: FakeAdfs, fake_okta: FakeOkta, plugin: str
) -> None:
    idp: FakeAdfs | FakeOkta = fake_adfs if plugin == "federated_auth" else fake_okta
    with pytest.raises(aw.AwsAuthError, match="refused user") as info:
        aw.connect(**federated(cluster, idp, plugin, idp_password="wrong-pa$$word"))
    assert "wrong-pa$$word" not in str(info.value)


@pytest.mark.parametrize("plugin", ["federated_auth", "okta"])
def test_federated_untrusted_certificate(
    cluster: Cluster, sts_lookup: None, fake_adfs: FakeAdfs, fake_okta: FakeOkta, plugin: str
) -> None:
    idp: FakeAdfs | FakeOkta = fake_adfs if plugin == "federated_auth" else fake_okta
    props = federated(cluster, idp, plugin)
    del props["idp_ssl_ca"]
    with pytest.raises(aw.AwsAuthError, match="TLS certificate not trusted"):
        aw.connect(**props)
    props["ssl_secure"] = False  # the AWS wrappers' default: no verification
    with aw.connect(**props) as conn:
        assert current_user(conn) == "fed_app"


def test_federated_missing_property(cluster: Cluster, fake_adfs: FakeAdfs) -> None:
    props = federated(cluster, fake_adfs, "federated_auth")
    del props["iam_role_arn"]
    with pytest.raises(aw.PropertyError, match="iam_role_arn"):
        aw.connect(**props)


# -- concurrency, hooks, aliases -----------------------------------------------------------------


@pytest.mark.parametrize("plugin", ["federated_auth", "okta"])
def test_concurrent_cold_connects_sign_in_once(
    cluster: Cluster, sts_lookup: None, fake_adfs: FakeAdfs, fake_okta: FakeOkta, plugin: str
) -> None:
    idp: FakeAdfs | FakeOkta = fake_adfs if plugin == "federated_auth" else fake_okta
    sign_ins = SAML_CREDENTIALS.sign_ins
    props = federated(cluster, idp, plugin)

    def one() -> str:
        with aw.connect(**props) as conn:
            return current_user(conn)

    assert gather(*[one for _ in range(6)]) == ["fed_app"] * 6
    assert SAML_CREDENTIALS.sign_ins == sign_ins + 1


def test_concurrent_cold_connects_read_the_secret_once(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    user, password = secret_user
    moto_server.create_secret("app/busy", user, password)
    props = params(cluster, plugins="aws_secrets_manager", secrets_manager_secret_id="app/busy")
    fetches = SECRETS.fetches

    def one() -> str:
        with aw.connect(**props) as conn:
            return current_user(conn)

    assert gather(*[one for _ in range(5)]) == [user] * 5
    assert SECRETS.fetches == fetches + 1


def test_secrets_manager_uses_the_credentials_hook_and_upstream_key_names(
    cluster: Cluster, moto_server: MotoServer, secret_user: tuple[str, str]
) -> None:
    user, password = secret_user
    moto_server.create_secret("app/custom", "ignored", "ignored", login=user, secret=password)
    calls: list[str | None] = []

    def hook(profile: str | None) -> AwsCredentials:
        calls.append(profile)
        return AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)

    set_credentials_provider(hook)
    props = params(
        cluster,
        plugins="aws_secrets_manager",
        secrets_manager_secret_id="app/custom",
        secrets_manager_secret_username="login",  # aws-advanced-python-wrapper's spelling
        secrets_manager_secret_password_key="secret",  # ours
    )
    with aw.connect(**props) as conn:
        assert current_user(conn) == user
    assert calls, "the Secrets Manager client was made without the hook's credentials"
