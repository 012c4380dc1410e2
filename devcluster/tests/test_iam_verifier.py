"""IAM database authentication on the devcluster: the LDAP verifier alone, then PostgreSQL.

Members of ``rds_iam`` get in only with a valid RDS IAM auth token for the endpoint, port,
region and user they log in with; everyone else keeps password authentication. The
end-to-end tests connect with raw psycopg through the instances' proxies by their RDS names
(``hostaddr`` from the devcluster's hosts file), as the wrapper would.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aws_wrapper.aws.sigv4 import generate_rds_auth_token
from aws_wrapper_devcluster import Cluster, HostsFileResolver
from aws_wrapper_devcluster.cluster import REGION, ClusterSpec
from aws_wrapper_devcluster.iam_verifier import (
    ACCESS_KEY_ID,
    IAM_ROLE,
    LOG_FILE,
    SECRET_ACCESS_KEY,
    IamVerifier,
    bind_dn,
    hba_rules,
    simple_bind,
)
from aws_wrapper_devcluster.model import Engine, InstanceSpec
from aws_wrapper_devcluster.pg import _with_iam_rules

CLUSTER = "c.cluster-xyz.us-east-1.rds.amazonaws.com"
READER = "c.cluster-ro-xyz.us-east-1.rds.amazonaws.com"
PORT = 4510


def inst(i: int) -> str:
    return f"c-{i}.xyz.us-east-1.rds.amazonaws.com"


# --------------------------------------------------------------------------- the verifier


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[IamVerifier]:
    shared = {(CLUSTER, PORT), (READER, PORT)}
    v = IamVerifier(
        region="us-east-1",
        endpoints={"c-1": shared | {(inst(1), PORT)}, "c-2": shared | {(inst(2), PORT)}},
        credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY},
        log_path=tmp_path / LOG_FILE,
    )
    with v:
        yield v


def tok(host: str = CLUSTER, port: int = PORT, user: str = "u", **kw: Any) -> str:
    args: dict[str, Any] = {
        "region": "us-east-1",
        "access_key": ACCESS_KEY_ID,
        "secret_key": SECRET_ACCESS_KEY,
    }
    args.update(kw)
    return generate_rds_auth_token(host, port, user, **args)


def test_bind_accepts_valid_tokens_and_says_why_others_fail(verifier: IamVerifier) -> None:
    addr = verifier.address
    assert addr[0] == "127.0.0.1" and addr[1] > 0
    ok = (0, "")
    assert simple_bind(addr, bind_dn("u", "c-1"), tok()) == ok
    assert simple_bind(addr, bind_dn("u", "c-2"), tok(READER)) == ok
    assert simple_bind(addr, bind_dn("u", "c-1"), tok(inst(1))) == ok
    assert simple_bind(addr, "u", tok(inst(2))) == ok  # a bare DN: any endpoint of the cluster

    def reason(dn: str, password: str) -> str:
        code, diagnostic = simple_bind(addr, dn, password)
        assert code == 49, diagnostic
        assert password not in diagnostic
        prefix = "IAM authentication failed: "
        assert diagnostic.startswith(prefix)
        return diagnostic[len(prefix) :]

    dn = bind_dn("u", "c-1")
    assert reason(dn, tok(inst(2))) == "wrong host/port"  # another instance's endpoint
    assert reason(dn, tok(port=PORT + 1)) == "wrong host/port"
    assert reason(dn, tok("127.0.0.1")) == "wrong host/port"
    assert reason(dn, tok(region="us-west-2")) == "wrong region"
    assert reason(dn, tok(user="v")) == "wrong user"
    assert reason(bind_dn("v", "c-1"), tok()) == "wrong user"
    old = datetime.now(UTC) - timedelta(minutes=16)
    assert reason(dn, tok(now=old)) == "expired"
    assert reason(dn, tok(secret_key="x")) == "bad signature"
    assert reason(dn, tok(access_key="AKIAUNKNOWN")) == "unknown access key"
    assert reason(dn, "a-password") == "malformed"
    assert reason(bind_dn("u", "c-9"), tok()) == "unknown instance"
    assert reason(bind_dn("", "c-1"), tok()) == "no user name"


def test_log_says_why_without_secrets(verifier: IamVerifier) -> None:
    assert verifier.log_path is not None
    good, bad = tok(session_token="SESSION-SECRET"), tok(region="eu-west-3")
    simple_bind(verifier.address, bind_dn("u", "c-1"), good)
    simple_bind(verifier.address, bind_dn("u", "c-2"), bad)
    simple_bind(verifier.address, bind_dn("u", "c-2"), "hunter2")
    lines = verifier.log_path.read_text().splitlines()
    assert len(lines) == 3
    assert "c-1 user 'u': accepted; token: user 'u' at " + CLUSTER in lines[0]
    assert "c-2 user 'u': rejected (wrong region)" in lines[1] and "eu-west-3" in lines[1]
    assert "rejected (malformed); the password is not an RDS IAM auth token" in lines[2]
    text = "\n".join(lines)
    for secret in (good, bad, "SESSION-SECRET", SECRET_ACCESS_KEY, "hunter2"):
        assert secret not in text
    assert good.rsplit("=", 1)[1] not in text  # the signature
    assert SECRET_ACCESS_KEY not in repr(verifier) + str(verifier.describe())


def test_credentials_added_at_run_time(verifier: IamVerifier) -> None:
    dn = bind_dn("u", "c-1")
    other = tok(access_key="AKIAOTHER", secret_key="other-secret")
    assert simple_bind(verifier.address, dn, other)[0] == 49
    verifier.add_credentials("AKIAOTHER", "other-secret")
    assert simple_bind(verifier.address, dn, other) == (0, "")
    assert verifier.access_keys == sorted([ACCESS_KEY_ID, "AKIAOTHER"])
    with pytest.raises(ValueError):
        verifier.add_credentials("AKIAOTHER", "")


def test_clock_is_injectable(tmp_path: Path) -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    v = IamVerifier(
        region="us-east-1",
        endpoints={"c-1": {(CLUSTER, PORT)}},
        credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY},
        clock=lambda: now,
    )
    assert v.check(bind_dn("u", "c-1"), tok(now=now - timedelta(seconds=60))) is None
    assert v.check(bind_dn("u", "c-1"), tok()) == "not yet valid"  # issued years later


def test_for_cluster_knows_the_names_clients_use(tmp_path: Path) -> None:
    spec = ClusterSpec(
        name="dc",
        engine=Engine.POSTGRESQL,
        port=4000,
        slot=42,
        instances=tuple(
            InstanceSpec(f"dc-{i}", i, f"127.0.42.{i}", 4000, 50000 + i, tmp_path / str(i))
            for i in (1, 2)
        ),
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}
    v = IamVerifier.for_cluster(spec, environ=env)
    assert v.region == REGION
    assert v.endpoints["dc-1"] == {
        (spec.cluster_host, 4000),
        (spec.reader_host, 4000),
        (spec.instance_host("dc-1"), 4000),
    }
    assert (spec.instance_host("dc-2"), 4000) in v.endpoints["dc-2"]
    assert (spec.instance_host("dc-2"), 4000) not in v.endpoints["dc-1"]
    assert v.access_keys == sorted([ACCESS_KEY_ID, "AKIAENV"])
    assert IamVerifier.for_cluster(spec, environ={}).access_keys == [ACCESS_KEY_ID]


def _ber(tag: int, content: bytes) -> bytes:
    assert len(content) < 128
    return bytes([tag, len(content)]) + content


def _exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send ``data``, return what comes back until the server closes or goes quiet."""
    with socket.create_connection(address, timeout=2) as sock:
        sock.sendall(data)
        # the server sees the end and closes after answering; one that closed first (junk)
        # leaves nothing to shut down
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def test_ldap_protocol_corners(verifier: IamVerifier) -> None:
    addr = verifier.address
    msgid = _ber(0x02, b"\x07")

    def bind(version: int, auth: bytes) -> bytes:
        body = _ber(0x02, bytes([version])) + _ber(0x04, b"cn=u") + auth
        return _ber(0x30, msgid + _ber(0x60, body))

    def result_code(reply: bytes, response_tag: int) -> int:
        assert reply[0] == 0x30 and reply[2:5] == msgid
        assert reply[5] == response_tag
        assert reply[7:9] == b"\x0a\x01"
        return reply[9]

    # SASL: not supported; LDAPv2: protocol error; a search: refused with its own response
    sasl = bind(3, _ber(0xA3, _ber(0x04, b"PLAIN")))
    assert result_code(_exchange(addr, sasl), 0x61) == 7
    assert result_code(_exchange(addr, bind(2, _ber(0x80, b"pw"))), 0x61) == 2
    search = _ber(0x30, msgid + _ber(0x63, _ber(0x04, b"")))
    assert result_code(_exchange(addr, search), 0x65) == 53
    # several binds on one connection, abandon ignored, unbind closes it
    two = bind(3, _ber(0x80, b"pw")) + _ber(0x30, msgid + _ber(0x50, b"\x01"))
    two += bind(3, _ber(0x80, b"pw")) + _ber(0x30, msgid + b"\x42\x00")
    replies = _exchange(addr, two)
    assert replies.count(b"\x61") >= 2 and replies.count(b"\x0a\x01\x31") == 2
    # garbage, an indefinite length, an oversized message, an unknown operation: closed
    for junk in (b"GET / HTTP/1.0\r\n\r\n", b"\x30\x80", b"\x30\x84\x01\x00\x00\x00"):
        assert _exchange(addr, junk) == b""
    assert _exchange(addr, _ber(0x30, msgid + _ber(0x7F, b""))) == b""
    # the server still works
    assert simple_bind(addr, bind_dn("u", "c-1"), tok()) == (0, "")


def test_hba_rules() -> None:
    rule = hba_rules(("127.0.0.1", 4321), "dc-2")
    assert rule == (
        "host    all    +rds_iam    all    ldap ldapserver=127.0.0.1 ldapport=4321"
        ' ldapprefix="cn=" ldapsuffix=",ou=dc-2,o=devcluster"\n'
    )
    assert bind_dn("u", "dc-2") == "cn=u,ou=dc-2,o=devcluster"
    assert hba_rules(None, "dc-2") == "host    all    +rds_iam    all    reject\n"
    original = "# comment\nlocal all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    first = _with_iam_rules(original, rule)
    assert first.endswith(original)
    assert first.splitlines()[1] == rule.strip()
    again = _with_iam_rules(first, hba_rules(("127.0.0.1", 1), "dc-3"))
    assert again.endswith(original) and again.count("+rds_iam") == 1
    assert "ou=dc-3" in again and "ou=dc-2" not in again


# --------------------------------------------------------------------------- on PostgreSQL

IAM_USER = "iam_user"


def _connect(cluster: Cluster, host: str, password: str, user: str = IAM_USER) -> Any:
    address = HostsFileResolver([cluster.hosts_file])(host)
    assert address is not None, host
    return psycopg.connect(
        host=host,
        hostaddr=address,
        port=cluster.port,
        user=user,
        password=password,
        dbname="app",
        connect_timeout=5,
        autocommit=True,
    )


def _token(cluster: Cluster, host: str | None = None, **kw: Any) -> str:
    args: dict[str, Any] = {
        "host": host or cluster.cluster_host,
        "port": cluster.port,
        "user": IAM_USER,
        "region": REGION,
        "access_key": ACCESS_KEY_ID,
        "secret_key": SECRET_ACCESS_KEY,
    }
    args.update(kw)
    return generate_rds_auth_token(**args)


@pytest.fixture
def iam_cluster(devcluster_pg: Cluster) -> Cluster:
    """The session's PostgreSQL devcluster with the login role ``iam_user`` in ``rds_iam``
    on every instance."""
    cluster = devcluster_pg
    admin = cluster.conn_params(admin=True)
    with _connect(cluster, admin["host"], admin["password"], admin["user"]) as conn:
        conn.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{IAM_USER}')"
            f" THEN CREATE ROLE {IAM_USER} LOGIN; GRANT {IAM_ROLE} TO {IAM_USER}; END IF; END $$"
        )
    deadline = time.monotonic() + 10
    for instance in cluster.instance_ids:  # wait for the role to reach every reader
        while True:
            with _connect(
                cluster, cluster.instance_host(instance), admin["password"], admin["user"]
            ) as conn:
                query = "SELECT pg_has_role(%s, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s"
                if conn.execute(query, (IAM_USER, IAM_ROLE, IAM_USER)).fetchone() == (True,):
                    break
            assert time.monotonic() < deadline, f"{IAM_USER} did not reach {instance}"
            time.sleep(0.05)
    return cluster


def _log_size(cluster: Cluster) -> int:
    path = cluster.state_dir / LOG_FILE
    return path.stat().st_size if path.exists() else 0


def _rejected(cluster: Cluster, host: str, password: str) -> str:
    """Log in must fail; returns the verifier's reason."""
    offset = _log_size(cluster)
    with pytest.raises(psycopg.OperationalError, match="LDAP authentication failed"):
        _connect(cluster, host, password).close()
    with open(cluster.state_dir / LOG_FILE, "rb") as f:
        f.seek(offset)
        lines = f.read().decode().splitlines()
    assert len(lines) == 1, lines
    assert password not in lines[0]
    return lines[0].split("rejected (", 1)[1].split(")", 1)[0]


def _current_user(cluster: Cluster, host: str, password: str) -> tuple[Any, ...] | None:
    with _connect(cluster, host, password) as conn:
        row: tuple[Any, ...] | None = conn.execute(
            "SELECT current_user, aurora_db_instance_identifier()"
        ).fetchone()
        return row


def test_status_describes_iam(iam_cluster: Cluster) -> None:
    iam = iam_cluster.status()["iam"]
    assert iam["region"] == REGION and iam["role"] == IAM_ROLE
    assert ACCESS_KEY_ID in iam["access_keys"]
    assert iam["log"] == str(iam_cluster.state_dir / LOG_FILE)
    assert SECRET_ACCESS_KEY not in str(iam)


def test_valid_tokens_log_in_on_every_endpoint(iam_cluster: Cluster) -> None:
    c = iam_cluster
    writer = c.writer
    assert _current_user(c, c.cluster_host, _token(c)) == (IAM_USER, writer)
    reader_row = _current_user(c, c.reader_host, _token(c, c.reader_host))
    assert reader_row is not None and reader_row[0] == IAM_USER and reader_row[1] != writer
    for instance in c.instance_ids:
        host = c.instance_host(instance)
        assert _current_user(c, host, _token(c, host)) == (IAM_USER, instance)
        # the cluster endpoint's token is good on any instance (it may lead anywhere)
        assert _current_user(c, host, _token(c, c.cluster_host))


def test_wrong_tokens_are_rejected(iam_cluster: Cluster) -> None:
    c = iam_cluster
    host = c.cluster_host
    server_port = next(i for i in c.status()["instances"] if i["id"] == c.writer)["server_port"]
    other = next(i for i in c.instance_ids if i != c.writer)
    expired = datetime.now(UTC) - timedelta(minutes=15, seconds=5)
    cases = {
        "wrong region": _token(c, region="us-west-2"),
        "wrong host/port": _token(c, port=server_port),
        "wrong user": _token(c, user="app"),
        "expired": _token(c, now=expired),
        "unknown access key": _token(c, access_key="AKIANOTKNOWN"),
        "bad signature": _token(c, secret_key="wrong-secret"),
        "malformed": "app-secret",
    }
    for reason, password in cases.items():
        assert _rejected(c, host, password) == reason, reason
    assert _rejected(c, host, _token(c, port=5432)) == "wrong host/port"
    assert _rejected(c, host, _token(c, c.instance_host(other))) == "wrong host/port"
    assert _rejected(c, host, _token(c, c.address_of(c.writer))) == "wrong host/port"
    tampered = _token(c).replace(f"DBUser={IAM_USER}", "DBUser=app")
    assert _rejected(c, host, tampered) == "bad signature"
    # and through the reader endpoint / an instance endpoint, the same checks
    assert _rejected(c, c.reader_host, _token(c, c.reader_host, region="eu-west-1")) == (
        "wrong region"
    )


def test_password_users_are_unaffected(iam_cluster: Cluster) -> None:
    c = iam_cluster
    params = c.conn_params()
    with _connect(c, params["host"], params["password"], params["user"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app",)
    # a password user cannot use a token instead (password auth, no verifier involved)
    offset = _log_size(c)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(c, c.cluster_host, _token(c, user="app"), user="app").close()
    assert _log_size(c) == offset


def test_tokens_stay_out_of_the_logs(iam_cluster: Cluster) -> None:
    c = iam_cluster
    good, bad = _token(c), _token(c, region="sa-east-1")
    _current_user(c, c.cluster_host, good)
    _rejected(c, c.cluster_host, bad)
    logs = [c.state_dir / LOG_FILE, c.state_dir / "daemon.log"]
    logs += sorted((c.state_dir / "instances").glob("*/server.log"))
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in (good, bad, good.rsplit("=", 1)[1], SECRET_ACCESS_KEY):
            assert secret not in text, path


def test_each_instance_checks_its_own_endpoint_after_failover(iam_cluster: Cluster) -> None:
    """Rejoining copies another instance's pg_hba.conf (pg_rewind): the rules are rewritten."""
    c = iam_cluster
    c.failover()
    c.wait_rejoins()
    ids = c.instance_ids
    for instance in ids:
        host = c.instance_host(instance)
        assert _current_user(c, host, _token(c, host)) == (IAM_USER, instance)
        neighbour = c.instance_host(ids[(ids.index(instance) + 1) % len(ids)])
        assert _rejected(c, host, _token(c, neighbour)) == "wrong host/port"
    assert _current_user(c, c.cluster_host, _token(c)) == (IAM_USER, c.writer)


def test_credentials_can_be_added_to_a_running_cluster(iam_cluster: Cluster) -> None:
    c = iam_cluster
    key, secret = f"AKIATEST{time.monotonic_ns() % 10**12:012d}", "added-at-run-time"
    signed = _token(c, access_key=key, secret_key=secret)
    assert _rejected(c, c.cluster_host, signed) == "unknown access key"
    described = c.request("iam_credentials", access_key=key, secret_key=secret)
    assert key in described["access_keys"] and secret not in str(described)
    assert _current_user(c, c.cluster_host, signed) == (IAM_USER, c.writer)
