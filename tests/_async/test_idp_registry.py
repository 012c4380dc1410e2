"""Identity providers registered in ``aws_wrapper.federated_auth`` and named by ``idp_name``,
end to end on the devcluster's PostgreSQL (IAM verifier, STS on moto, the local HTTPS Okta
fake with a CA made for the run), both trees.

The user-defined provider here ("corp_sso") is written as an application would write one for
its own single sign-on: it speaks to the fake Okta server by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aws_wrapper import aio as aw
from aws_wrapper import federated_auth as fa
from aws_wrapper._async.plugins.auth import SECRETS
from aws_wrapper._async.plugins.federated import SAML_CREDENTIALS
from aws_wrapper._compat import AIO
from aws_wrapper.aws import saml
from aws_wrapper.aws.credentials import clear_sessions, set_credentials_provider
from aws_wrapper.aws.iam import TOKENS
from aws_wrapper.plugins.federated import APP_ID
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.aws_stack import MotoServer
from aws_wrapper_devcluster.fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta

WORLD = "aio" if AIO else "sync"
OTHER_WORLD = "sync" if AIO else "aio"

SIGN_INS: list[fa.SignInRequest] = []


def in_world(func: Any, world: str = WORLD) -> dict[str, Any]:
    """``aio=func`` in async code, ``sync=func`` in blocking code."""
    return {world: func}


async def corp_sso(http: httpx.AsyncClient, request: fa.SignInRequest) -> str:
    """A user-written sign-in: Okta's two steps, by hand."""
    SIGN_INS.append(request)
    authn = await http.post(
        f"{request.base_url}/api/v1/authn",
        json={"username": request.username, "password": request.password},
    )
    token = authn.json().get("sessionToken") if authn.status_code == 200 else None
    if not token:
        raise request.refused(f"HTTP {authn.status_code}")
    app_id = request.props.get(APP_ID)
    page = await http.get(
        f"{request.base_url}/app/amazon_aws/{app_id}/sso/saml", params={"onetimetoken": token}
    )
    assertion = saml.saml_response(page.text)
    if assertion is None:
        raise request.refused("no assertion")
    return assertion


async def not_an_assertion(http: httpx.AsyncClient, request: fa.SignInRequest) -> Any:
    return 42


@pytest.fixture(autouse=True)
def fresh_caches(fake_aws_env: dict[str, str]) -> Iterator[None]:
    TOKENS.clear()
    SECRETS.clear()
    SAML_CREDENTIALS.clear()
    clear_sessions()
    set_credentials_provider(None)
    SIGN_INS.clear()
    yield
    for name in ("corp_sso", "half", "broken", "crashing"):
        fa.unregister_idp(name)


@pytest.fixture
def cluster(devcluster_pg: Cluster, moto_server: MotoServer) -> Iterator[Cluster]:
    devcluster_pg.create_iam_user("fed_app")
    devcluster_pg.set_iam_sts_lookup(moto_server.sts_lookup_url)
    yield devcluster_pg
    devcluster_pg.set_iam_sts_lookup(None)


def federated(cluster: Cluster, idp: FakeOkta | FakeAdfs, **extra: Any) -> dict[str, Any]:
    user = OKTA_USER if isinstance(idp, FakeOkta) else ADFS_USER
    props = dict(cluster.conn_params())
    props.pop("password", None)
    props.update(
        plugins="federated_auth",
        user="fed_app",
        idp_endpoint=f"127.0.0.1:{idp.port}",
        idp_username=user.username,
        idp_password=user.password,
        iam_role_arn=user.role_arn,
        iam_idp_arn=idp.idp_arn,
        idp_ssl_ca=idp.ca_file,
    )
    props.update(extra)
    return props


async def current_user(conn: aw.AsyncAwsWrapperConnection) -> str:
    cur = await conn.execute("SELECT current_user")
    row = await cur.fetchone()
    assert row is not None
    return str(row[0])


def test_builtin_providers_are_registered() -> None:
    assert {"adfs", "okta"} <= set(fa.idp_names())


async def test_a_user_registered_idp_signs_in_through_idp_name(
    cluster: Cluster, fake_okta: FakeOkta
) -> None:
    fa.register_idp("corp_sso", **in_world(corp_sso))
    props = federated(cluster, fake_okta, idp_name="corp_sso", app_id=fake_okta.app_id)
    async with await aw.connect(**props) as conn:
        assert await current_user(conn) == "fed_app"
    assert len(SIGN_INS) == 1
    request = SIGN_INS[0]
    assert request.idp_name == "corp_sso"
    assert request.plugin_code == "federated_auth"
    assert request.base_url == f"https://127.0.0.1:{fake_okta.port}"
    assert request.username == OKTA_USER.username
    assert OKTA_USER.password not in repr(request)
    paths = [r.path for r in fake_okta.requests]
    assert "/api/v1/authn" in paths
    assert any(p.endswith("/sso/saml") for p in paths)
    assert any("accepted" in line and "assumed-role" in line for line in cluster.iam_log())


async def test_okta_by_idp_name_with_federated_auth(cluster: Cluster, fake_okta: FakeOkta) -> None:
    props = federated(cluster, fake_okta, idp_name="okta", app_id=fake_okta.app_id)
    async with await aw.connect(**props) as conn:
        assert await current_user(conn) == "fed_app"


async def test_adfs_stays_the_default(cluster: Cluster, fake_adfs: FakeAdfs) -> None:
    async with await aw.connect(**federated(cluster, fake_adfs)) as conn:
        assert await current_user(conn) == "fed_app"
    assert any("IdpInitiatedSignOn" in r.path for r in fake_adfs.requests)


async def test_a_user_idp_that_refuses_is_an_auth_error(
    cluster: Cluster, fake_okta: FakeOkta
) -> None:
    fa.register_idp("corp_sso", **in_world(corp_sso))
    props = federated(
        cluster, fake_okta, idp_name="corp_sso", app_id=fake_okta.app_id, idp_password="nope-42x"
    )
    with pytest.raises(aw.AwsAuthError, match="refused user") as info:
        await aw.connect(**props)
    assert "nope-42x" not in str(info.value)


async def crashing(http: httpx.AsyncClient, request: fa.SignInRequest) -> str:
    """A sign-in whose own code fails (and would quote the password)."""
    raise KeyError(f"no field for {request.password}")


async def test_a_sign_in_that_crashes_is_an_auth_error_naming_the_idp(
    cluster: Cluster, fake_okta: FakeOkta
) -> None:
    fa.register_idp("crashing", **in_world(crashing))
    props = federated(cluster, fake_okta, idp_name="crashing", idp_password="pw-77zq")
    with pytest.raises(aw.AwsAuthError, match="identity provider 'crashing' failed: KeyError") as e:
        await aw.connect(**props)
    assert "pw-77zq" not in str(e.value)


async def test_unknown_idp_name_lists_the_registered(cluster: Cluster, fake_okta: FakeOkta) -> None:
    with pytest.raises(aw.PropertyError, match=r"idp_name.*'corp_sso'.*adfs, .*okta") as info:
        await aw.connect(**federated(cluster, fake_okta, idp_name="corp_sso"))
    assert info.value.prop == "idp_name"


async def test_an_idp_of_the_other_world_only_is_a_clear_error(
    cluster: Cluster, fake_okta: FakeOkta
) -> None:
    # named, not given: a function's kind is checked at registration, a name's when used
    fa.register_idp("half", **in_world("json:dumps", OTHER_WORLD))
    with pytest.raises(aw.ConfigurationError, match="'half' has no sign-in function"):
        await aw.connect(**federated(cluster, fake_okta, idp_name="half"))


async def test_a_sign_in_that_returns_no_assertion(cluster: Cluster, fake_okta: FakeOkta) -> None:
    fa.register_idp("broken", **in_world(not_an_assertion))
    with pytest.raises(aw.AwsAuthError, match="returned int, not a SAML assertion"):
        await aw.connect(**federated(cluster, fake_okta, idp_name="broken"))


def test_registration_errors() -> None:
    with pytest.raises(aw.ConfigurationError, match="aio= must be a coroutine function"):
        fa.register_idp("corp_plain", aio=lambda http, request: "x")
    with pytest.raises(aw.ConfigurationError, match="at least one world"):
        fa.register_idp("corp_sso")
    with pytest.raises(aw.ConfigurationError, match="not 'module:attribute'"):
        fa.register_idp("corp_sso", sync="no_colon")
    fa.register_idp("corp_sso", **in_world(corp_sso))
    with pytest.raises(aw.ConfigurationError, match="already registered"):
        fa.register_idp("corp_sso", **in_world(not_an_assertion))
    fa.register_idp("corp_sso", **in_world(not_an_assertion), replace=True)
    spec = fa.find_idp("corp_sso")
    assert spec is not None and spec.sign_in(WORLD) is not_an_assertion
