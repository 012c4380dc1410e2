"""RDS IAM auth tokens (aws_wrapper.aws.sigv4): the same bytes as botocore, and the verifier.

botocore (boto3 is a test dependency) is the reference: the RDS client's ``generate_db_auth_token``
with the clock frozen at the same instant must return exactly our token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest

from aws_wrapper.aws.sigv4 import (
    RdsAuthToken,
    generate_rds_auth_token,
    parse_rds_auth_token,
    verify_rds_auth_token,
)

HOST = "mydb.cluster-abc123.us-west-2.rds.amazonaws.com"
PORT = 5432
USER = "jane_doe"
REGION = "us-west-2"
KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION = "session/token+value="
NOW = datetime(2024, 1, 2, 3, 4, 5)  # naive: UTC, as botocore's clock
# generate_rds_auth_token(HOST, PORT, USER, REGION, KEY, SECRET, SESSION, now=NOW), identical
# to what botocore returns (checked by test_pinned_token_is_botocores)
PINNED = (
    "mydb.cluster-abc123.us-west-2.rds.amazonaws.com:5432/?Action=connect&DBUser=jane_doe"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-west-2%2Frds-db%2Faws4_request"
    "&X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
    "&X-Amz-Security-Token=session%2Ftoken%2Bvalue%3D"
    "&X-Amz-Signature=76b7c6280283d80172e2d7fea3ab001a8cc640b3d9d9146f2a4eefd20c7eb606"
)


def secrets(key: str) -> str | None:
    return {KEY: SECRET}.get(key)


def verify(token: str, **overrides: Any) -> str | None:
    args: dict[str, Any] = {
        "expected_host_ports": {(HOST, PORT)},
        "region": REGION,
        "user": USER,
        "secret_for_access_key": secrets,
        "now": NOW + timedelta(seconds=10),
    }
    args.update(overrides)
    return verify_rds_auth_token(token, **args)


def token(**overrides: Any) -> str:
    args: dict[str, Any] = {
        "host": HOST,
        "port": PORT,
        "user": USER,
        "region": REGION,
        "access_key": KEY,
        "secret_key": SECRET,
        "session_token": None,
        "now": NOW,
    }
    args.update(overrides)
    return generate_rds_auth_token(**args)


# --------------------------------------------------------------------------- botocore


@pytest.fixture
def botocore_token() -> Iterator[Callable[..., str]]:
    """``(host, port, user, region, session_token, now) -> token`` from botocore's RDS client,
    its clock frozen at ``now``."""
    pytest.importorskip("boto3")
    import boto3.session
    import botocore.auth

    def make(
        host: str, port: int, user: str, region: str, session_token: str | None, now: datetime
    ) -> str:
        client = boto3.session.Session(
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            aws_session_token=session_token,
            region_name="eu-central-1",  # the token's region is the explicit Region below
        ).client("rds")
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
            result: str = client.generate_db_auth_token(host, port, user, Region=region)
        return result

    yield make


CASES = [
    (HOST, 5432, "jane_doe", "us-west-2", None),
    (HOST, 5432, "jane_doe", "us-west-2", SESSION),
    ("Mixed.Case.Cluster-X.eu-west-1.rds.amazonaws.com", 3306, "app", "eu-west-1", None),
    ("db.example.com", 443, "u", "ap-southeast-2", None),  # the default port is not signed
    ("db.example.com", 1, "user.name+tag@corp/é %x~", "us-gov-west-1", "tok/+= en"),
    ("10.1.2.3", 65535, "admin", "cn-north-1", "x" * 700),
]


@pytest.mark.parametrize(("host", "port", "user", "region", "session_token"), CASES)
def test_same_token_as_botocore(
    botocore_token: Callable[..., str],
    host: str,
    port: int,
    user: str,
    region: str,
    session_token: str | None,
) -> None:
    for now in (NOW, datetime(2031, 12, 31, 23, 59, 59)):
        expected = botocore_token(host, port, user, region, session_token, now)
        ours = generate_rds_auth_token(
            host, port, user, region, KEY, SECRET, session_token, now=now
        )
        assert ours == expected
        ok = verify_rds_auth_token(
            expected,
            expected_host_ports={(host, port)},
            region=region,
            user=user,
            secret_for_access_key=secrets,
            now=now,
        )
        assert ok is None


def test_pinned_token_is_botocores(botocore_token: Callable[..., str]) -> None:
    assert botocore_token(HOST, PORT, USER, REGION, SESSION, NOW) == PINNED


def test_pinned_token() -> None:
    assert token(session_token=SESSION) == PINNED
    assert verify(PINNED) is None


def test_time_zones_and_default_clock() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert token(now=NOW.replace(tzinfo=plus2) + timedelta(hours=2)) == token()
    assert token(now=NOW.replace(tzinfo=UTC)) == token()
    before = datetime.now(UTC).replace(microsecond=0)
    parsed = parse_rds_auth_token(token(now=None))
    assert before <= parsed.issued <= datetime.now(UTC)


def test_parse() -> None:
    parsed = parse_rds_auth_token(PINNED)
    assert (parsed.host, parsed.port, parsed.user) == (HOST, PORT, USER)
    assert (parsed.access_key, parsed.region, parsed.service) == (KEY, REGION, "rds-db")
    assert parsed.issued == NOW.replace(tzinfo=UTC)
    assert parsed.expires == parsed.issued + timedelta(seconds=900)
    assert parsed.session_token == SESSION
    assert parsed.expires_in == 900
    assert "user 'jane_doe' at " + HOST in parsed.describe()


# --------------------------------------------------------------------------- verifying


def test_each_wrong_field_has_its_reason() -> None:
    assert verify(token()) is None
    assert verify(token(region="us-east-1")) == "wrong region"
    assert verify(token(user="john")) == "wrong user"
    assert verify(token(port=5433)) == "wrong host/port"
    assert verify(token(host="other.cluster-abc123.us-west-2.rds.amazonaws.com")) == (
        "wrong host/port"
    )
    assert verify(token(access_key="AKIDOTHER")) == "unknown access key"
    assert verify(token(secret_key="not-the-secret")) == "bad signature"
    assert verify(token(now=NOW - timedelta(minutes=16))) == "expired"
    assert verify(token(now=NOW + timedelta(hours=1))) == "not yet valid"
    assert verify("app-secret") == "malformed"


def test_host_names_compare_without_case_and_predicates_work() -> None:
    assert verify(token(host=HOST.upper())) is None
    assert verify(token(), expected_host_ports={(HOST.upper(), PORT)}) is None
    seen: list[tuple[str, int]] = []

    def allowed(host: str, port: int) -> bool:
        seen.append((host, port))
        return port == PORT

    assert verify(token(), expected_host_ports=allowed) is None
    assert verify(token(port=1), expected_host_ports=allowed) == "wrong host/port"
    assert seen == [(HOST, PORT), (HOST, 1)]
    assert verify(token(), expected_host_ports=set()) == "wrong host/port"


def test_lifetime() -> None:
    t = token()
    issued = NOW
    assert verify(t, now=issued) is None
    assert verify(t, now=issued + timedelta(seconds=900)) is None
    assert verify(t, now=issued + timedelta(seconds=901)) == "expired"
    short = token(expires_in=60)
    assert verify(short, now=issued + timedelta(seconds=60)) is None
    assert verify(short, now=issued + timedelta(seconds=61)) == "expired"
    long = token(expires_in=3600)  # RDS accepts a token for 15 minutes at most
    assert verify(long, now=issued + timedelta(seconds=900)) is None
    assert verify(long, now=issued + timedelta(seconds=901)) == "expired"
    assert verify(t, now=issued - timedelta(minutes=5)) is None  # clock skew
    assert verify(t, now=issued - timedelta(minutes=5, seconds=1)) == "not yet valid"
    minus5 = timezone(timedelta(hours=-5))
    aware = (issued + timedelta(seconds=901)).replace(tzinfo=UTC).astimezone(minus5)
    assert verify(t, now=aware) == "expired"
    assert verify(t, now=aware - timedelta(seconds=1)) is None


def _replace_param(t: str, name: str, value: str) -> str:
    head, _, query = t.partition("/?")
    pairs = [p.partition("=") for p in query.split("&")]
    return head + "/?" + "&".join(f"{k}={value if k == name else v}" for k, _, v in pairs)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("DBUser=jane_doe", "DBUser=jane_doe2"),
        lambda t: t.replace(HOST, "other." + HOST),
        lambda t: t.replace(f":{PORT}/", f":{PORT + 1}/"),
        lambda t: _replace_param(t, "X-Amz-Date", "20240102T030406Z"),
        lambda t: _replace_param(t, "X-Amz-Expires", "901"),
        lambda t: _replace_param(t, "X-Amz-Security-Token", "other"),
        lambda t: t.replace("&X-Amz-Security-Token=session%2Ftoken%2Bvalue%3D", ""),
        lambda t: t.replace("&X-Amz-Signature", "&extra=1&X-Amz-Signature"),
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
    ],
    ids=["user", "host", "port", "date", "expires", "session", "no-session", "extra", "sig"],
)
def test_tampered_tokens_have_a_bad_signature(tamper: Callable[[str], str]) -> None:
    tampered = tamper(PINNED)
    assert tampered != PINNED
    assert verify(tampered, expected_host_ports=lambda h, p: True) == "bad signature"


def test_encoding_variants_of_the_same_request_verify() -> None:
    # AWS canonicalizes the decoded query: "~" and "%7E" are the same character.
    t = token(user="a~b")
    assert "DBUser=a~b" in t
    assert verify(t.replace("DBUser=a~b", "DBUser=a%7Eb"), user="a~b") is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "password",
        f"{HOST}:{PORT}",
        f"{HOST}/?Action=connect",
        f"https://{HOST}:{PORT}/?Action=connect",
        PINNED.replace("Action=connect", "Action=describe"),
        PINNED.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        PINNED.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=host%3Bx-amz-date"),
        PINNED.replace("%2Faws4_request", "%2Faws5_request"),
        PINNED.replace("X-Amz-Date=20240102T030405Z", "X-Amz-Date=2024-01-02"),
        PINNED.replace("X-Amz-Date=20240102T030405Z", "X-Amz-Date=20240103T030405Z"),
        PINNED.replace("X-Amz-Expires=900", "X-Amz-Expires=-1"),
        PINNED.replace("X-Amz-Expires=900", "X-Amz-Expires=604801"),
        PINNED.replace("X-Amz-Signature=76", "X-Amz-Signature=7"),
        PINNED.replace("X-Amz-Signature=76", "X-Amz-Signature=7G"),
        PINNED.replace("DBUser=jane_doe", "DBUser=jane_doe&DBUser=x"),
        PINNED.replace("DBUser=jane_doe", "DBUser=%ff"),
        PINNED.replace("DBUser=jane_doe", "DBUser="),
        PINNED.replace("&X-Amz-Signature", "&&X-Amz-Signature"),
        PINNED.replace(":5432/", ":0/"),
        PINNED.replace(":5432/", ":port/"),
    ],
)
def test_malformed(bad: str) -> None:
    assert verify(bad) == "malformed"


def test_wrong_service() -> None:
    assert verify(PINNED.replace("%2Frds-db%2F", "%2Frds%2F")) == "wrong service"


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    parsed = parse_rds_auth_token(PINNED)
    text = repr(parsed) + str(parsed) + parsed.describe()
    assert SESSION not in text and "session%2F" not in text
    assert parsed.signature not in text
    assert isinstance(parsed, RdsAuthToken)
    for bad in (PINNED.replace("Action=connect", "Action=x"), PINNED[:-3] + "zzz", "p" + SECRET):
        with pytest.raises(ValueError) as info:
            parse_rds_auth_token(bad)
        message = str(info.value)
        assert SESSION not in message and "session" not in message
        assert SECRET not in message and "76b7c628" not in message
    with pytest.raises(ValueError) as info:
        token(access_key="")
    assert SECRET not in str(info.value)
    with pytest.raises(ValueError) as info:
        token(expires_in=0)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"host": ""},
        {"host": "a/b"},
        {"port": 0},
        {"port": 65536},
        {"user": ""},
        {"region": ""},
        {"secret_key": ""},
        {"expires_in": 604801},
    ],
)
def test_generate_rejects_bad_input(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        token(**overrides)
