"""Blue/green deployments in the devcluster: ``bg create`` / ``bg status`` / ``bg delete``,
on real servers (both engines), reached by their RDS-shaped names through the hosts file."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

import aws_wrapper
from aws_wrapper import aurora_queries as q
from aws_wrapper.aws.sigv4 import generate_rds_auth_token
from aws_wrapper_devcluster import Cluster, DevclusterError, HostsFileResolver
from aws_wrapper_devcluster.bluegreen import ROLE_SOURCE, ROLE_TARGET
from aws_wrapper_devcluster.cluster import REGION
from aws_wrapper_devcluster.iam_verifier import ACCESS_KEY_ID, IAM_ROLE, SECRET_ACCESS_KEY


@pytest.fixture(params=["pg", "mysql"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    name = "devcluster_pg" if request.param == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


def pg(cluster: Cluster) -> bool:
    return cluster.engine.value == "postgresql"


def bg_query(cluster: Cluster) -> str:
    return (q.PG_BLUE_GREEN if pg(cluster) else q.MYSQL_BLUE_GREEN).sql


def connect(cluster: Cluster, host: str, **extra: Any) -> Any:
    params = {**cluster.conn_params(), "host": host, **extra}
    driver = "psycopg" if pg(cluster) else "pymysql"
    return aws_wrapper.connect(driver=driver, plugins="", **params)


def fetch(cluster: Cluster, host: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(cluster, host) as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = [tuple(r) for r in cur.fetchall()]
        conn.rollback()
        return rows


def eventually(cluster: Cluster, host: str, sql: str, want: set[tuple[Any, ...]]) -> None:
    """``sql`` on ``host`` answers the rows ``want`` within 10 s (MariaDB: the status rows
    arrive by replication)."""
    deadline = time.monotonic() + 10
    while True:
        rows = fetch(cluster, host, sql)
        if len(rows) == len(want) and set(rows) == want:
            return
        assert time.monotonic() < deadline, (host, rows)
        time.sleep(0.05)


def write_marker(cluster: Cluster) -> str:
    marker = f"m{time.monotonic_ns()}"
    with connect(cluster, cluster.cluster_host) as conn:
        conn.autocommit = True
        conn.execute("CREATE TABLE IF NOT EXISTS bg_marks (v VARCHAR(40))")
        conn.execute("INSERT INTO bg_marks VALUES (%s)", (marker,))
    return marker


def wait_for_marker(cluster: Cluster, host: str, marker: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    sql = f"SELECT v FROM bg_marks WHERE v = '{marker}'"
    while True:
        try:
            if fetch(cluster, host, sql):
                return
        except aws_wrapper.Error:  # the table itself may not have arrived yet
            pass
        assert time.monotonic() < deadline, f"{marker} never reached {host}"
        time.sleep(0.05)


def expected_rows(deployment: dict[str, Any], port: int) -> set[tuple[Any, ...]]:
    rows = set()
    for side, role in (("blue", ROLE_SOURCE), ("green", ROLE_TARGET)):
        names = deployment[side]
        hosts = [names["cluster_host"], names["reader_host"]]
        hosts += [i["host"] for i in names["instances"]]
        rows |= {("1.0", host, port, role, "AVAILABLE") for host in hosts}
    return rows


def refused(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return False
    except ConnectionRefusedError:
        return True


def test_create_status_delete(cluster: Cluster) -> None:
    host_id = (q.PG_HOST_ID if pg(cluster) else q.MYSQL_HOST_ID).sql
    topology = (q.PG_TOPOLOGY if pg(cluster) else q.MYSQL_TOPOLOGY).sql
    assert cluster.bg_status() is None
    before = write_marker(cluster)  # in the base backup
    deployment = cluster.bg_create()
    try:
        # names: -green-<6 lowercase alnum> on the first label of every green endpoint
        suffix = deployment["suffix"]
        assert re.fullmatch(r"-green-[a-z0-9]{6}", suffix)
        rds = f"{cluster.spec.rds_id}.{REGION}.rds.amazonaws.com"
        green = deployment["green"]
        assert green["cluster"] == f"{cluster.name}{suffix}"
        assert green["cluster_host"] == f"{cluster.name}{suffix}.cluster-{rds}"
        assert green["reader_host"] == f"{cluster.name}{suffix}.cluster-ro-{rds}"
        assert [i["id"] for i in green["instances"]] == [
            f"{i}{suffix}" for i in cluster.instance_ids
        ]
        assert [i["host"] for i in green["instances"]] == [
            f"{i}{suffix}.{rds}" for i in cluster.instance_ids
        ]
        assert green["writer"] == f"{cluster.writer}{suffix}"
        assert [i["source"] for i in green["instances"]] == cluster.instance_ids
        assert deployment["blue"]["cluster_host"] == cluster.cluster_host
        assert deployment["status"] == "AVAILABLE" and deployment["id"].startswith("bgd-")
        assert cluster.status()["blue_green"] == cluster.bg_status()

        # the hosts file sends green names to green's proxies (own addresses, shared port)
        resolver = HostsFileResolver([cluster.hosts_file])
        blue_addresses = {cluster.address_of(i) for i in cluster.instance_ids}
        by_id = {i["id"]: i for i in green["instances"]}
        for item in green["instances"]:
            assert resolver.addresses(item["host"]) == (item["address"],)
            assert item["address"] not in blue_addresses and item["port"] == cluster.port
        assert resolver.addresses(green["cluster_host"]) == (by_id[green["writer"]]["address"],)
        readers = {i["address"] for i in green["instances"] if i["role"] == "reader"}
        assert set(resolver.addresses(green["reader_host"])) == readers
        for item in green["instances"]:  # the name leads to that green instance
            assert fetch(cluster, item["host"], host_id) == [(item["id"],)]
        green_topology = fetch(cluster, green["cluster_host"], topology)
        assert sorted(r[0] for r in green_topology) == sorted(by_id)
        assert [r[0] for r in green_topology if r[1]] == [green["writer"]]

        # green replicates blue: what was there before, what is written after; read-only
        after = write_marker(cluster)
        for item in green["instances"]:
            wait_for_marker(cluster, item["host"], before)
            wait_for_marker(cluster, item["host"], after)
            with (
                connect(cluster, item["host"]) as conn,
                pytest.raises(aws_wrapper.Error, match=r"(?i)read.only|recovery"),
            ):
                conn.execute("INSERT INTO bg_marks VALUES ('nope')")
        check = cluster.status(check=True)["check"]
        for item in green["instances"]:
            assert check[item["id"]] == {"role": "reader", "replicating": True}

        # the status rows, as the app user, on every instance of both sides
        want = expected_rows(deployment, cluster.port)
        assert len(want) == 2 * (2 + len(cluster.instance_ids))
        assert {
            (r["version"], r["endpoint"], r["port"], r["role"], r["status"])
            for r in deployment["rows"]
        } == want
        hosts = [cluster.instance_host(i) for i in cluster.instance_ids]
        hosts += [i["host"] for i in green["instances"]]
        hosts += [cluster.cluster_host, green["cluster_host"], green["reader_host"]]
        for host in hosts:
            eventually(cluster, host, bg_query(cluster), want)

        # a second deployment is refused while this one exists
        with pytest.raises(DevclusterError, match="exists already"):
            cluster.bg_create()
    finally:
        deleted = cluster.bg_delete()
    assert deleted["deleted"] == deployment["id"]

    # delete: no deployment, no green names, no rows, green's proxies and servers gone
    assert cluster.bg_status() is None and cluster.status()["blue_green"] is None
    text = cluster.hosts_file.read_text()
    assert suffix not in text
    assert HostsFileResolver([cluster.hosts_file]).addresses(green["cluster_host"]) == ()
    for item in green["instances"]:
        assert refused(item["address"], cluster.port)
        assert refused("127.0.0.1", item["server_port"])
        assert not (cluster.state_dir / "instances" / item["id"]).exists()
    for instance in cluster.instance_ids:
        eventually(cluster, cluster.instance_host(instance), bg_query(cluster), set())
    assert set(cluster.status(check=True)["check"]) == set(cluster.instance_ids)
    assert cluster.bg_delete() == {"deleted": None}  # idempotent


def test_green_follows_blue_failover_and_reset_deletes_green(cluster: Cluster) -> None:
    deployment = cluster.bg_create(suffix="-green-t0f41l")
    green = deployment["green"]
    for crash in (False, True):
        cluster.failover(crash=crash)
        cluster.wait_rejoins()
        marker = write_marker(cluster)  # on blue's new writer
        for item in green["instances"]:
            wait_for_marker(cluster, item["host"], marker)
        check = cluster.status(check=True)["check"]
        assert all(check[i["id"]]["replicating"] for i in green["instances"]), check
    cluster.reset()
    assert cluster.bg_status() is None
    assert "-green-t0f41l" not in cluster.hosts_file.read_text()


def test_bad_suffix_is_refused(devcluster_pg: Cluster) -> None:
    for bad in ("-green-ABC123", "-blue-abc123", "abc12", "-green-abc1234"):
        with pytest.raises(DevclusterError, match="-green- and 6 lowercase"):
            devcluster_pg.bg_create(suffix=bad)
    assert devcluster_pg.bg_status() is None


def test_iam_tokens_for_green_names(devcluster_pg: Cluster) -> None:
    cluster = devcluster_pg
    user = "bg_iam_user"
    cluster.create_iam_user(user)
    deployment = cluster.bg_create()
    green = deployment["green"]
    item = green["instances"][-1]

    def token(host: str) -> str:
        return generate_rds_auth_token(
            host=host,
            port=cluster.port,
            user=user,
            region=REGION,
            access_key=ACCESS_KEY_ID,
            secret_key=SECRET_ACCESS_KEY,
        )

    def login(host: str, password: str) -> Any:
        return psycopg.connect(
            host=host,
            hostaddr=item["address"],
            port=cluster.port,
            user=user,
            password=password,
            dbname="app",
            connect_timeout=5,
        )

    for host in (item["host"], green["cluster_host"], green["reader_host"]):
        with login(host, token(host)) as conn:
            row = conn.execute("SELECT current_user, aurora_db_instance_identifier()").fetchone()
            assert row == (user, item["id"]), host
    with pytest.raises(psycopg.OperationalError, match="LDAP authentication failed"):
        login(cluster.cluster_host, token(cluster.cluster_host)).close()  # blue's name
    assert IAM_ROLE  # the user is a member of it (create_iam_user)


def test_cli_bg(devcluster_pg: Cluster) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aws_wrapper_devcluster", "--name", devcluster_pg.name, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    assert "bg" in cli("--help").stdout
    for action in ("create", "status", "delete"):
        assert action in cli("bg", "--help").stdout
    assert "--suffix" in cli("bg", "create", "--help").stdout
    assert "no blue/green deployment" in cli("bg", "status").stdout
    created = cli("bg", "create", "--suffix", "c11c11").stdout
    assert "created in" in created and ROLE_TARGET in created and ROLE_SOURCE in created
    assert f"{devcluster_pg.name}-green-c11c11.cluster-" in created
    status = json.loads(cli("bg", "status", "--json").stdout)
    assert status["suffix"] == "-green-c11c11" and len(status["rows"]) == 10
    assert "blue/green:" in cli("status").stdout
    assert "deleted" in cli("bg", "delete").stdout
    assert "no blue/green deployment" in cli("bg", "delete").stdout
    assert devcluster_pg.bg_status() is None
