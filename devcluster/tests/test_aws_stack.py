"""The local AWS stack: moto (Secrets Manager, STS), the fake AD FS and Okta, and temporary
STS credentials logging in to the devcluster's PostgreSQL as members of ``rds_iam``.

The identity provider clients here are written by hand with urllib, parsing the pages the
way the AWS wrappers' ``federated_auth`` (ADFS) and ``okta`` plugins do (the same regular
expressions), so the fakes are checked against what those plugins expect.
"""

from __future__ import annotations

import base64
import html
import json
import re
import socket
import ssl
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import (
    HTTPCookieProcessor,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    build_opener,
)

import boto3
import psycopg
import pytest
from botocore.exceptions import ClientError

from aws_wrapper.aws.sigv4 import generate_rds_auth_token, verify_rds_auth_token
from aws_wrapper_devcluster import Cluster, DevclusterError, HostsFileResolver
from aws_wrapper_devcluster.aws_stack import (
    ACCESS_KEY_ID,
    NO_AWS_CONFIG_FILE,
    REGION,
    SECRET_ACCESS_KEY,
    MotoServer,
    fake_aws_environment,
)
from aws_wrapper_devcluster.fake_idp import (
    ADFS_USER,
    DEFAULT_ROLE_ARN,
    OKTA_USER,
    FakeAdfs,
    FakeOkta,
    IdpUser,
    LocalCA,
    saml_response,
)
from aws_wrapper_devcluster.iam_verifier import (
    IamVerifier,
    bind_dn,
    fetch_sts_credentials,
    simple_bind,
)

IAM_USER = "saml_user"

# What the AWS wrappers' ADFS and Okta credential providers match (aws-advanced-python-wrapper).
INPUT_TAG = re.compile(r"<input(.+?)/>", re.DOTALL)
FORM_ACTION = re.compile(r"<form.*?action=\"([^\"]+)\"")
ADFS_SAML = re.compile(r"\"SAMLResponse\" value=\"(?P<saml>[^\"]+)\"")
OKTA_SAML = re.compile(r"\"SAMLResponse\" .* value=\"(?P<saml>[^\"]+)\"")


def https(ca: LocalCA | None, *, cookies: bool = False) -> OpenerDirector:
    """A urllib opener that trusts ``ca`` only (None: the system's CAs), never uses a proxy."""
    context = ca.client_context() if ca is not None else ssl.create_default_context()
    handlers: list[Any] = [ProxyHandler({}), HTTPSHandler(context=context)]
    if cookies:
        handlers.append(HTTPCookieProcessor(CookieJar()))
    return build_opener(*handlers)


def fetch(opener: OpenerDirector, url: str, data: bytes | None = None, **headers: str) -> Any:
    """``(status, body text)``; HTTP errors are answers too."""
    request = Request(url, data=data, headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except HTTPError as e:
        return e.code, e.read().decode()


def _value(tag: str, key: str) -> str:
    match = re.search("(" + key + ')\\s*=\\s*"(.*?)"', tag)
    return html.unescape(match.group(2)) if match else ""


def adfs_form(body: str, username: str, password: str) -> tuple[str, dict[str, str]]:
    """The form's action and fields, filled in as the wrappers' ADFS provider does."""
    match = FORM_ACTION.search(body)
    action = html.unescape(match.group(1)) if match else ""
    fields: dict[str, str] = {}
    for tag in INPUT_TAG.findall(body):
        name, value = _value(tag, "name"), _value(tag, "value")
        low = name.lower()
        if "username" in low:
            fields[name] = username
        elif "authmethod" in low:
            if value:
                fields[name] = value
        elif "password" in low:
            fields[name] = password
        elif name:
            fields[name] = value
    return action, fields


def adfs_login(adfs: FakeAdfs, ca: LocalCA, username: str, password: str) -> tuple[int, str]:
    """Sign-in page, then the filled form posted to its action: ``(status, body)``."""
    opener = https(ca, cookies=True)
    status, page = fetch(opener, adfs.sign_in_url)
    assert status == 200
    action, fields = adfs_form(page, username, password)
    assert action.startswith("/")
    return fetch(opener, f"{adfs.base_url}{action}", urlencode(fields).encode())  # type: ignore[no-any-return]


def okta_session_token(okta: FakeOkta, ca: LocalCA, username: str, password: str) -> Any:
    body = json.dumps({"username": username, "password": password}).encode()
    status, text = fetch(
        https(ca),
        f"https://{okta.endpoint}/api/v1/authn",
        body,
        **{"Content-Type": "application/json", "Accept": "application/json"},
    )
    return status, json.loads(text)


def okta_saml(okta: FakeOkta, ca: LocalCA, session_token: str) -> tuple[int, str | None]:
    status, page = fetch(https(ca), f"{okta.saml_url}?{urlencode({'onetimetoken': session_token})}")
    match = OKTA_SAML.search(page)
    return status, html.unescape(match.group("saml")) if match else None


def saml_attributes(saml: str) -> dict[str, str]:
    ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    root = ET.fromstring(base64.b64decode(saml))
    return {
        a.attrib["Name"]: "".join(v.text or "" for v in a.findall("saml:AttributeValue", ns))
        for a in root.iterfind(".//saml:Attribute", ns)
    }


# --------------------------------------------------------------------------- environment


def test_fake_aws_env_hides_real_credentials(fake_aws_env: dict[str, str]) -> None:
    import os

    assert os.environ["AWS_ACCESS_KEY_ID"] == ACCESS_KEY_ID
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET_ACCESS_KEY
    assert os.environ["AWS_DEFAULT_REGION"] == REGION
    assert os.environ["AWS_CONFIG_FILE"] == NO_AWS_CONFIG_FILE
    assert not Path(os.environ["AWS_CONFIG_FILE"]).exists()
    assert not Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    assert "AWS_PROFILE" not in os.environ and "AWS_SESSION_TOKEN" not in os.environ
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert "127.0.0.1" in os.environ["NO_PROXY"].split(",")
    session = boto3.Session()
    credentials = session.get_credentials()
    assert credentials is not None and credentials.method == "env"
    assert credentials.access_key == ACCESS_KEY_ID
    assert session.region_name == REGION


def test_fake_aws_environment_sets_and_restores() -> None:
    env = {
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "real",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_ENDPOINT_URL_STS": "https://sts.example",
        "AWS_WRAPPER_PG_BINDIR": "/usr/lib/postgresql/15/bin",
        "NO_PROXY": "internal.example",
        "HOME": "/home/dev",
    }
    before = dict(env)
    with fake_aws_environment("http://127.0.0.1:1", environ=env) as applied:
        assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
        assert "AWS_ENDPOINT_URL_STS" not in env
        assert env["AWS_ACCESS_KEY_ID"] == ACCESS_KEY_ID
        assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
        assert env["AWS_WRAPPER_PG_BINDIR"] == "/usr/lib/postgresql/15/bin"  # ours: kept
        assert env["NO_PROXY"] == "127.0.0.1,localhost,::1,internal.example"
        assert env["HOME"] == "/home/dev"
        assert applied["AWS_REGION"] == REGION
        env["AWS_NEW"] = "x"
    assert env == before


# --------------------------------------------------------------------------- moto


def test_secrets_manager_round_trip(moto_server: MotoServer) -> None:
    arn = moto_server.create_secret("app/db", "app", "first-password", engine="postgres", port=5432)
    sm = boto3.client("secretsmanager")  # no endpoint_url: AWS_ENDPOINT_URL is moto's
    value = sm.get_secret_value(SecretId="app/db")
    assert value["ARN"] == arn
    assert json.loads(value["SecretString"]) == {
        "username": "app",
        "password": "first-password",
        "engine": "postgres",
        "port": 5432,
    }
    version = moto_server.rotate_secret(arn, "second-password")
    current = sm.get_secret_value(SecretId=arn)
    assert current["VersionId"] == version
    assert json.loads(current["SecretString"])["password"] == "second-password"
    assert moto_server.secret_value(arn, "AWSPREVIOUS")["password"] == "first-password"
    assert moto_server.secret_value(arn)["username"] == "app"


def test_moto_reset_forgets_everything(moto_server: MotoServer) -> None:
    moto_server.create_secret("gone", "u", "p")
    moto_server.reset()
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        moto_server.client("secretsmanager").get_secret_value(SecretId="gone")
    assert moto_server.issued_credentials() == []


def test_boto3_rds_tokens_are_for_the_database_not_the_endpoint_url(
    moto_server: MotoServer,
) -> None:
    """AWS_ENDPOINT_URL does not change what botocore's generate_db_auth_token signs."""
    host = "db.cluster-xyz.us-east-1.rds.amazonaws.com"
    token = boto3.client("rds").generate_db_auth_token(host, 5432, "u")
    assert token.startswith(f"{host}:5432/?Action=connect")
    reason = verify_rds_auth_token(
        token,
        expected_host_ports={(host, 5432)},
        region=REGION,
        user="u",
        secret_for_access_key={ACCESS_KEY_ID: SECRET_ACCESS_KEY}.get,
    )
    assert reason is None


def test_saml_response_is_what_sts_reads(moto_server: MotoServer) -> None:
    idp = "arn:aws:iam::123456789012:saml-provider/x"
    saml = saml_response(
        issuer="https://idp/", name_id="u@x", role_arn=DEFAULT_ROLE_ARN, idp_arn=idp,
        session_name="u-session", session_duration=900,
    )  # fmt: skip
    assert saml_attributes(saml) == {
        "https://aws.amazon.com/SAML/Attributes/Role": f"{DEFAULT_ROLE_ARN},{idp}",
        "https://aws.amazon.com/SAML/Attributes/RoleSessionName": "u-session",
        "https://aws.amazon.com/SAML/Attributes/SessionDuration": "900",
    }
    credentials = moto_server.assume_role_with_saml(saml, DEFAULT_ROLE_ARN, idp)
    assert credentials["AccessKeyId"].startswith("ASIA")
    (issued,) = moto_server.issued_credentials()
    assert issued["access_key_id"] == credentials["AccessKeyId"]
    assert issued["arn"].endswith(":assumed-role/devcluster-db-access/u-session")
    remaining = (credentials["Expiration"] - datetime.now(UTC)).total_seconds()
    assert 800 < remaining <= 900


# --------------------------------------------------------------------------- identity providers


def test_adfs_sign_in_page_is_what_the_plugins_parse(
    fake_adfs: FakeAdfs, local_ca: LocalCA
) -> None:
    status, page = fetch(https(local_ca), fake_adfs.sign_in_url)
    assert status == 200
    action, fields = adfs_form(page, "someone", "secret")
    assert action.startswith(
        "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&client-request-id="
    )
    assert fields == {
        "UserName": "someone",
        "Password": "secret",
        "AuthMethod": "FormsAuthentication",
    }
    assert "SAMLResponse" not in page
    status, _ = fetch(
        https(local_ca), f"{fake_adfs.base_url}/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:other"
    )
    assert status == 400
    assert fetch(https(local_ca), f"{fake_adfs.base_url}/elsewhere")[0] == 404


def test_adfs_login(fake_adfs: FakeAdfs, local_ca: LocalCA) -> None:
    status, page = adfs_login(fake_adfs, local_ca, ADFS_USER.username.upper(), ADFS_USER.password)
    assert status == 200
    match = ADFS_SAML.search(page)
    assert match is not None
    attributes = saml_attributes(match.group("saml"))
    assert attributes["https://aws.amazon.com/SAML/Attributes/Role"] == (
        f"{ADFS_USER.role_arn},{fake_adfs.idp_arn}"
    )
    assert attributes["https://aws.amazon.com/SAML/Attributes/RoleSessionName"] == "alice"
    get, post = fake_adfs.requests
    assert (get.method, get.outcome, post.method, post.outcome) == (
        "GET", "login form", "POST", "saml response"
    )  # fmt: skip
    assert post.query["loginToRp"] == "urn:amazon:webservices" and "client-request-id" in post.query
    assert post.form == {
        "UserName": ADFS_USER.username.upper(),
        "Password": "***",
        "AuthMethod": "FormsAuthentication",
    }
    assert ADFS_USER.password not in repr(fake_adfs.requests) + repr(fake_adfs.users)


def test_adfs_wrong_password_gets_the_form_again(fake_adfs: FakeAdfs, local_ca: LocalCA) -> None:
    for username, password in [
        (ADFS_USER.username, "wrong"),
        ("nobody@example.com", ADFS_USER.password),
        (ADFS_USER.username, ADFS_USER.password.upper()),
    ]:
        status, page = adfs_login(fake_adfs, local_ca, username, password)
        assert status == 200
        assert ADFS_SAML.search(page) is None and "SAMLResponse" not in page
        assert "Incorrect user ID or password" in page
        assert f'value="{html.escape(username)}"' in page  # the user name is kept
        assert adfs_form(page, "u", "p")[1]["AuthMethod"] == "FormsAuthentication"
    outcomes = [r.outcome for r in fake_adfs.requests if r.method == "POST"]
    assert outcomes == ["wrong credentials"] * 3
    # AuthMethod is required
    opener = https(local_ca)
    action, fields = adfs_form(
        fetch(opener, fake_adfs.sign_in_url)[1], ADFS_USER.username, ADFS_USER.password
    )
    del fields["AuthMethod"]
    page = fetch(opener, fake_adfs.base_url + action, urlencode(fields).encode())[1]
    assert "SAMLResponse" not in page


def test_adfs_redirect_after_login_needs_cookies(fake_adfs: FakeAdfs, local_ca: LocalCA) -> None:
    fake_adfs.redirect_after_login = True
    status, page = adfs_login(fake_adfs, local_ca, ADFS_USER.username, ADFS_USER.password)
    assert status == 200 and ADFS_SAML.search(page) is not None
    assert [r.outcome for r in fake_adfs.requests] == ["login form", "redirect", "saml response"]
    assert fake_adfs.requests[-1].headers["cookie"] == "***"
    # a client that drops the cookie across the redirect lands on the form again
    opener = https(local_ca)
    action, fields = adfs_form(
        fetch(opener, fake_adfs.sign_in_url)[1], ADFS_USER.username, ADFS_USER.password
    )
    page = fetch(opener, fake_adfs.base_url + action, urlencode(fields).encode())[1]
    assert "SAMLResponse" not in page and "loginForm" in page


def test_okta_session_token_then_saml_once(fake_okta: FakeOkta, local_ca: LocalCA) -> None:
    status, doc = okta_session_token(fake_okta, local_ca, OKTA_USER.username, OKTA_USER.password)
    assert status == 200 and doc["status"] == "SUCCESS"
    token = doc["sessionToken"]
    assert doc["_embedded"]["user"]["profile"]["login"] == OKTA_USER.username
    page_status, page = fetch(https(local_ca), f"{fake_okta.saml_url}?onetimetoken={token}")
    assert page_status == 200
    assert "&#x3d;" in page or "&#x2b;" in page or "&#x2f;" in page  # escaped as Okta does
    match = OKTA_SAML.search(page)
    assert match is not None
    saml = html.unescape(match.group("saml"))
    attributes = saml_attributes(saml)
    assert attributes["https://aws.amazon.com/SAML/Attributes/Role"] == (
        f"{OKTA_USER.role_arn},{fake_okta.idp_arn}"
    )
    assert okta_saml(fake_okta, local_ca, token) == (403, None)  # one time only
    authn = fake_okta.requests[0]
    assert authn.json == {"username": OKTA_USER.username, "password": "***"}
    assert authn.headers["content-type"] == "application/json"
    assert [r.outcome for r in fake_okta.requests] == [
        "session token", "saml response", "invalid one-time token"
    ]  # fmt: skip
    assert OKTA_USER.password not in repr(fake_okta.requests)


def test_okta_errors(fake_okta: FakeOkta, local_ca: LocalCA) -> None:
    status, doc = okta_session_token(fake_okta, local_ca, OKTA_USER.username, "wrong")
    assert status == 401 and doc["errorCode"] == "E0000004" and "sessionToken" not in doc
    status, doc = okta_session_token(fake_okta, local_ca, "nobody", OKTA_USER.password)
    assert status == 401 and doc["errorSummary"] == "Authentication failed"
    status, text = fetch(https(local_ca), fake_okta.authn_url, b"not json")
    assert status == 400 and json.loads(text)["errorCode"] == "E0000003"
    fake_okta.add_user(IdpUser("mfa@example.com", "pw", mfa_required=True))
    status, doc = okta_session_token(fake_okta, local_ca, "mfa@example.com", "pw")
    assert status == 200 and doc["status"] == "MFA_REQUIRED" and "sessionToken" not in doc
    assert okta_saml(fake_okta, local_ca, "forged") == (403, None)
    other_app = fake_okta.saml_url.replace(fake_okta.app_id, "0oaother")
    assert fetch(https(local_ca), f"{other_app}?onetimetoken=x")[0] == 404
    fake_okta.reset()
    assert [u.username for u in fake_okta.users] == [OKTA_USER.username]
    assert fake_okta.requests == []


def test_tls_needs_the_ca(fake_adfs: FakeAdfs, fake_okta: FakeOkta, local_ca: LocalCA) -> None:
    for url in (fake_adfs.sign_in_url, fake_okta.authn_url):
        with pytest.raises(URLError) as info:
            fetch(https(None), url)
        assert isinstance(info.value.reason, ssl.SSLCertVerificationError)
    assert fake_adfs.requests == [] and fake_okta.requests == []
    assert fake_adfs.tls_failures and "unknown ca" in fake_adfs.tls_failures[0]
    # with the CA: by address and by name, both in the certificate
    assert fetch(https(local_ca), fake_adfs.sign_in_url)[0] == 200
    by_name = fake_adfs.sign_in_url.replace("127.0.0.1", "localhost")
    assert fetch(https(local_ca), by_name)[0] == 200
    assert fake_adfs.ca_file == fake_okta.ca_file == local_ca.ca_file


def test_servers_stop_and_free_their_port(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "ca")
    with FakeOkta(ca=ca) as okta:
        port = okta.port
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # free again
    with FakeAdfs() as adfs:  # its own CA, removed on stop
        ca_dir = adfs.ca_file.parent
        assert ca_dir.exists()
    assert not ca_dir.exists()
    assert (tmp_path / "ca" / "ca.pem").exists()  # a CA given is left alone
    with MotoServer() as moto:
        endpoint = moto.endpoint
    with pytest.raises(RuntimeError):
        moto.endpoint  # noqa: B018
    port = int(endpoint.rsplit(":", 1)[1])
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


# ------------------------------------------------------------------- the IAM verifier STS lookup

DB_HOST = "c.cluster-xyz.us-east-1.rds.amazonaws.com"
DB_PORT = 4510


@pytest.fixture
def verifier(moto_server: MotoServer, tmp_path: Path) -> Iterator[IamVerifier]:
    v = IamVerifier(
        region=REGION,
        endpoints={"c-1": {(DB_HOST, DB_PORT)}},
        credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY},
        sts_lookup_url=moto_server.sts_lookup_url,
        log_path=tmp_path / "iam.log",
    )
    with v:
        yield v


def _temporary_credentials(moto: MotoServer, session_name: str = "carol") -> dict[str, Any]:
    idp = "arn:aws:iam::123456789012:saml-provider/test"
    saml = saml_response(
        issuer="https://idp/", name_id=session_name, role_arn=DEFAULT_ROLE_ARN, idp_arn=idp,
        session_name=session_name,
    )  # fmt: skip
    return moto.assume_role_with_saml(saml, DEFAULT_ROLE_ARN, idp)


def _db_token(credentials: dict[str, Any], **kw: Any) -> str:
    args: dict[str, Any] = {
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretAccessKey"],
        "session_token": credentials["SessionToken"],
    }
    args.update(kw)
    return generate_rds_auth_token(DB_HOST, DB_PORT, "u", REGION, **args)


def test_verifier_resolves_temporary_keys_at_the_sts_lookup_url(
    verifier: IamVerifier, moto_server: MotoServer
) -> None:
    credentials = _temporary_credentials(moto_server)
    dn = bind_dn("u", "c-1")
    assert simple_bind(verifier.address, dn, _db_token(credentials)) == (0, "")
    failed = "IAM authentication failed: "
    assert simple_bind(verifier.address, dn, _db_token(credentials, session_token=None)) == (
        49, failed + "no session token"
    )  # fmt: skip
    other = _temporary_credentials(moto_server, "dave")
    crossed = _db_token(credentials, session_token=other["SessionToken"])
    assert simple_bind(verifier.address, dn, crossed) == (49, failed + "wrong session token")
    assert simple_bind(verifier.address, dn, _db_token(other)) == (0, "")
    bad_secret = _db_token(credentials, secret_key="not-it")
    assert simple_bind(verifier.address, dn, bad_secret) == (49, failed + "bad signature")
    unknown = _db_token(credentials, access_key="ASIAUNKNOWNKEY000000")
    assert simple_bind(verifier.address, dn, unknown) == (49, failed + "unknown access key")
    # the fixed devcluster key still works, with or without a session token
    static = {"AccessKeyId": ACCESS_KEY_ID, "SecretAccessKey": SECRET_ACCESS_KEY}
    assert simple_bind(verifier.address, dn, _db_token({**static, "SessionToken": "x"})) == (0, "")
    assert verifier.describe()["sts_lookup"] == moto_server.sts_lookup_url
    assert verifier.access_keys == [ACCESS_KEY_ID]  # temporary keys are not listed
    assert verifier.log_path is not None
    log = verifier.log_path.read_text()
    assert "accepted; token: user 'u'" in log
    assert (
        "temporary key of arn:aws:sts::123456789012:assumed-role/devcluster-db-access/carol" in log
    )
    for secret in (
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
        other["SessionToken"],
    ):
        assert secret not in log


def test_verifier_sts_lookup_failures_and_settings(
    verifier: IamVerifier, moto_server: MotoServer
) -> None:
    credentials = _temporary_credentials(moto_server)
    token = _db_token(credentials)
    dn = bind_dn("u", "c-1")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    verifier.set_sts_lookup(f"http://127.0.0.1:{dead}/moto-api/data.json")
    code, diagnostic = simple_bind(verifier.address, dn, token)
    assert code == 49
    assert diagnostic.startswith(
        "IAM authentication failed: unknown access key; STS lookup failed:"
    )
    assert "(" not in diagnostic.split("failed: ", 1)[1]
    verifier.set_sts_lookup(None)
    assert simple_bind(verifier.address, dn, token)[1].endswith(": unknown access key")
    verifier.set_sts_lookup(moto_server.sts_lookup_url)
    assert simple_bind(verifier.address, dn, token) == (0, "")
    # found keys are remembered: the lookup URL is not needed again for them
    moto_server.reset()
    assert simple_bind(verifier.address, dn, token) == (0, "")
    for url in ("http://169.254.169.254/latest", "ftp://127.0.0.1/x", "http://example.com/x", "x"):
        with pytest.raises(ValueError):
            verifier.set_sts_lookup(url)
    assert verifier.sts_lookup_url == moto_server.sts_lookup_url
    assert fetch_sts_credentials(moto_server.sts_lookup_url) == {}


def test_verifier_sts_lookup_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/moto-api/data.json"
        v = IamVerifier(
            region=REGION,
            endpoints={"c-1": {(DB_HOST, DB_PORT)}},
            sts_lookup_url=url,
            sts_lookup_timeout=0.3,
        )
        token = generate_rds_auth_token(DB_HOST, DB_PORT, "u", REGION, "ASIAX", "s", "t")
        started = time.monotonic()
        reason = v.check(bind_dn("u", "c-1"), token)
        assert time.monotonic() - started < 2
    assert reason is not None and reason.startswith("unknown access key; STS lookup failed: ")
    assert "timed out" in reason


# --------------------------------------------------------------------------- on the devcluster


def _connect(cluster: Cluster, password: str, host: str | None = None) -> Any:
    host = host or cluster.cluster_host
    address = HostsFileResolver([cluster.hosts_file])(host)
    assert address is not None, host
    return psycopg.connect(
        host=host,
        hostaddr=address,
        port=cluster.port,
        user=IAM_USER,
        password=password,
        dbname="app",
        connect_timeout=5,
        autocommit=True,
    )


@pytest.fixture
def saml_cluster(devcluster_pg: Cluster, moto_server: MotoServer) -> Iterator[Cluster]:
    """The session's PostgreSQL devcluster with ``saml_user`` in ``rds_iam``, looking
    temporary keys up in moto."""
    devcluster_pg.create_iam_user(IAM_USER)
    described = devcluster_pg.set_iam_sts_lookup(moto_server.sts_lookup_url)
    assert described["sts_lookup"] == moto_server.sts_lookup_url
    try:
        yield devcluster_pg
    finally:
        devcluster_pg.set_iam_sts_lookup(None)


def _log_in_with(cluster: Cluster, credentials: Mapping[str, Any], host: str | None = None) -> Any:
    host = host or cluster.cluster_host
    token = generate_rds_auth_token(
        host,
        cluster.port,
        IAM_USER,
        REGION,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    with _connect(cluster, token, host) as conn:
        return conn.execute("SELECT current_user, aurora_db_instance_identifier()").fetchone()


def test_adfs_saml_to_sts_to_an_iam_login(
    saml_cluster: Cluster, moto_server: MotoServer, fake_adfs: FakeAdfs, local_ca: LocalCA
) -> None:
    c = saml_cluster
    status, page = adfs_login(fake_adfs, local_ca, ADFS_USER.username, ADFS_USER.password)
    match = ADFS_SAML.search(page)
    assert status == 200 and match is not None
    sts = boto3.client("sts")  # moto, through AWS_ENDPOINT_URL
    credentials = sts.assume_role_with_saml(
        RoleArn=ADFS_USER.role_arn,
        PrincipalArn=fake_adfs.idp_arn,
        SAMLAssertion=match.group("saml"),
    )["Credentials"]
    before = len(c.iam_log())
    assert _log_in_with(c, credentials) == (IAM_USER, c.writer)
    reader = _log_in_with(c, credentials, c.reader_host)
    assert reader is not None and reader[0] == IAM_USER
    lines = c.iam_log()[before:]
    assert len(lines) == 2 and all(": accepted; token: " in line for line in lines)
    assert "assumed-role/devcluster-db-access/alice" in lines[0]
    assert credentials["AccessKeyId"] in lines[0]
    # the temporary key without its session token does not get in
    token = generate_rds_auth_token(
        c.cluster_host, c.port, IAM_USER, REGION,
        credentials["AccessKeyId"], credentials["SecretAccessKey"],
    )  # fmt: skip
    with pytest.raises(psycopg.OperationalError, match="LDAP authentication failed"):
        _connect(c, token).close()
    assert "rejected (no session token)" in c.iam_log()[-1]
    text = "\n".join(c.iam_log())
    assert credentials["SecretAccessKey"] not in text and credentials["SessionToken"] not in text


def test_okta_saml_to_sts_to_an_iam_login(
    saml_cluster: Cluster, moto_server: MotoServer, fake_okta: FakeOkta, local_ca: LocalCA
) -> None:
    c = saml_cluster
    status, doc = okta_session_token(fake_okta, local_ca, OKTA_USER.username, OKTA_USER.password)
    assert status == 200
    status, saml = okta_saml(fake_okta, local_ca, doc["sessionToken"])
    assert status == 200 and saml is not None
    credentials = moto_server.assume_role_with_saml(saml, OKTA_USER.role_arn, fake_okta.idp_arn)
    assert _log_in_with(c, credentials) == (IAM_USER, c.writer)
    assert "assumed-role/devcluster-db-access/bob" in c.iam_log()[-1]
    # a wrong Okta password never gets as far as a token
    status, doc = okta_session_token(fake_okta, local_ca, OKTA_USER.username, "nope")
    assert status == 401 and "sessionToken" not in doc


def test_cluster_iam_client_methods(devcluster_pg: Cluster) -> None:
    c = devcluster_pg
    key = f"AKIACLIENT{time.monotonic_ns() % 10**10:010d}"
    described = c.add_iam_credentials(key, "client-secret")
    assert key in described["access_keys"] and "client-secret" not in str(described)
    assert c.set_iam_sts_lookup("http://localhost:1/x")["sts_lookup"] == "http://localhost:1/x"
    assert c.status()["iam"]["sts_lookup"] == "http://localhost:1/x"
    assert c.set_iam_sts_lookup(None)["sts_lookup"] is None
    with pytest.raises(DevclusterError, match="loopback"):
        c.set_iam_sts_lookup("https://sts.amazonaws.com/")
    assert isinstance(c.iam_log(), list)
    c.set_iam_sts_lookup("http://127.0.0.1:1/moto-api/data.json")
    c.reset()  # what devcluster_pg does before each test: no lookup left behind
    iam = c.status()["iam"]
    assert iam["sts_lookup"] is None and key in iam["access_keys"]


def test_demo_command_runs_the_stack_for_a_cluster(devcluster_pg: Cluster) -> None:
    import os
    import signal
    import subprocess
    import sys

    argv = [sys.executable, "-m", "aws_wrapper_devcluster.aws_stack", "--cluster"]
    proc = subprocess.Popen(
        [*argv, devcluster_pg.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not lines or not lines[-1].startswith("running; Ctrl-C stops them"):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no output"
            lines.append(line.rstrip("\n"))
            assert time.monotonic() < deadline
        text = "\n".join(lines)
        moto_url = lines[0].split()[1]
        assert moto_url.startswith("http://127.0.0.1:")
        assert devcluster_pg.status()["iam"]["sts_lookup"] == f"{moto_url}/moto-api/data.json"
        assert "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices" in text
        assert f"export AWS_ENDPOINT_URL={moto_url}" in text
        assert f"export AWS_ACCESS_KEY_ID={ACCESS_KEY_ID}" in text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert devcluster_pg.status()["iam"]["sts_lookup"] is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        devcluster_pg.set_iam_sts_lookup(None)
