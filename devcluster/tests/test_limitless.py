"""Aurora Limitless in the devcluster (``up --limitless N``): the DB shard group endpoint
resolving round-robin to the transaction routers, each its own name and fault proxy in front
of the writer; ``aurora_limitless_router_endpoints()`` answering the routers and their load
live; router faults, add, remove; IAM tokens for the router names; on real servers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from typing import Any

import psycopg
import pytest

import aws_wrapper
from aws_wrapper.aws.sigv4 import generate_rds_auth_token
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.client import DevclusterError
from aws_wrapper_devcluster.iam_verifier import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from aws_wrapper_devcluster.names import HostsFileResolver
from aws_wrapper_devcluster.pytest_plugin import LIMITLESS_ROUTERS

ROUTERS_SQL = "SELECT router_endpoint, load FROM pg_catalog.aurora_limitless_router_endpoints()"


def connect(cluster: Cluster, host: str, **extra: Any) -> Any:
    params = {**cluster.conn_params(), "host": host, "connect_timeout": 2, **extra}
    return aws_wrapper.connect(**params)


def routers_rows(cluster: Cluster, host: str | None = None) -> dict[str, float]:
    conn = connect(cluster, host or cluster.cluster_host)
    try:
        cur = conn.cursor()
        cur.execute(ROUTERS_SQL)
        return {str(h): float(load) for h, load in cur.fetchall()}
    finally:
        conn.close()


def test_shard_group_resolves_round_robin_to_routers_reaching_the_writer(
    devcluster_pg_limitless: Cluster,
) -> None:
    cluster = devcluster_pg_limitless
    status = cluster.limitless_status()
    assert status is not None and status["shard_group_host"] == cluster.shard_group_host
    assert ".shardgrp-" in cluster.shard_group_host
    routers = status["routers"]
    assert len(routers) == LIMITLESS_ROUTERS
    by_address = {r["address"]: r["id"] for r in routers}
    resolver = HostsFileResolver([cluster.hosts_file])
    answers = [resolver(cluster.shard_group_host) for _ in range(3 * LIMITLESS_ROUTERS)]
    # round-robin: each router once per turn, in a fixed order
    assert Counter(answers) == {a: 3 for a in by_address}
    assert answers[:LIMITLESS_ROUTERS] == answers[LIMITLESS_ROUTERS : 2 * LIMITLESS_ROUTERS]
    for r in routers:
        assert resolver(r["host"]) == r["address"]
    # every router reaches the same data: the writer's
    writer = connect(cluster, cluster.cluster_host)
    cur = writer.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS lim_t (v int)")
    cur.execute("DELETE FROM lim_t")
    cur.execute("INSERT INTO lim_t VALUES (42)")
    writer.commit()
    writer.close()
    for r in routers:
        conn = connect(cluster, r["host"])
        c = conn.cursor()
        c.execute("SELECT v, pg_is_in_recovery(), aurora_db_instance_identifier() FROM lim_t")
        assert c.fetchall() == [(42, False, cluster.writer)]
        conn.close()
    # the shard group endpoint, by name, through the wrapper
    conn = connect(cluster, cluster.shard_group_host)
    conn.cursor().execute("SELECT 1")
    conn.close()


def test_router_rows_and_load_are_live(devcluster_pg_limitless: Cluster) -> None:
    cluster = devcluster_pg_limitless
    hosts = {r["id"]: r["host"] for r in cluster.limitless_status()["routers"]}  # type: ignore[index]
    first, second = sorted(hosts)[:2]
    conn = connect(cluster, hosts[first])  # one session sees the change: read on every call
    cur = conn.cursor()
    cur.execute(ROUTERS_SQL)
    assert dict(cur.fetchall()) == {h: 0.0 for h in hosts.values()}
    cluster.limitless_load(second, 0.75)
    cur.execute(ROUTERS_SQL)
    rows = dict(cur.fetchall())
    assert rows[hosts[second]] == 0.75 and rows[hosts[first]] == 0.0
    conn.close()
    # every instance answers them (a reader too)
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    assert routers_rows(cluster, cluster.instance_host(reader))[hosts[second]] == 0.75
    with pytest.raises(DevclusterError, match=r"between 0\.0 and 1\.0"):
        cluster.limitless_load(second, 1.5)
    with pytest.raises(DevclusterError, match="no transaction router"):
        cluster.limitless_load("nope", 0.5)


def test_blackholed_router_leaves_rows_and_hangs_connects(devcluster_pg_limitless: Cluster) -> None:
    cluster = devcluster_pg_limitless
    routers = cluster.limitless_status()["routers"]  # type: ignore[index]
    victim = routers[0]
    cluster.blackhole(victim["id"])
    assert victim["host"] not in routers_rows(cluster)
    started = time.monotonic()
    with pytest.raises(aws_wrapper.OperationalError):
        connect(cluster, victim["host"], connect_timeout=1)
    assert time.monotonic() - started >= 0.9  # hung until the timeout, not refused
    cluster.reject(victim["id"])
    started = time.monotonic()
    with pytest.raises(aws_wrapper.OperationalError):
        connect(cluster, victim["host"], connect_timeout=5)
    assert time.monotonic() - started < 2.0  # refused at once
    cluster.heal(victim["id"])
    assert victim["host"] in routers_rows(cluster)
    connect(cluster, victim["host"]).close()
    status = cluster.limitless_status()["routers"]  # type: ignore[index]
    assert all(r["listed"] and r["fault"] == "none" for r in status)


def test_add_remove_and_reset(devcluster_pg_limitless: Cluster) -> None:
    cluster = devcluster_pg_limitless
    added = cluster.limitless_add(load=0.3)
    assert added["id"] == f"{cluster.name}-router-{LIMITLESS_ROUTERS + 1}"
    assert routers_rows(cluster)[added["host"]] == 0.3
    connect(cluster, added["host"]).close()
    resolver = HostsFileResolver([cluster.hosts_file])
    assert added["address"] in resolver.addresses(cluster.shard_group_host)
    gone = cluster.router_ids()[0]
    gone_host = cluster.router_host(gone)
    cluster.limitless_remove(gone)
    assert gone not in cluster.router_ids()
    assert gone_host not in routers_rows(cluster)
    resolver = HostsFileResolver([cluster.hosts_file])
    assert resolver.addresses(gone_host) == ()
    assert len(resolver.addresses(cluster.shard_group_host)) == LIMITLESS_ROUTERS
    cluster.reset()
    assert sorted(cluster.router_ids()) == sorted(
        f"{cluster.name}-router-{k}" for k in range(1, LIMITLESS_ROUTERS + 1)
    )
    assert set(routers_rows(cluster).values()) == {0.0}


def test_routers_follow_the_writer_after_failover(devcluster_pg_limitless: Cluster) -> None:
    cluster = devcluster_pg_limitless
    old = cluster.writer
    result = cluster.failover()
    cluster.wait_rejoins()
    host = cluster.limitless_status()["routers"][0]["host"]  # type: ignore[index]
    conn = connect(cluster, host)
    cur = conn.cursor()
    cur.execute("SELECT aurora_db_instance_identifier(), pg_is_in_recovery()")
    assert cur.fetchone() == (result["new_writer"], False)
    conn.close()
    assert result["old_writer"] == old


def test_iam_token_for_a_router_name(devcluster_pg_limitless: Cluster) -> None:
    cluster = devcluster_pg_limitless
    cluster.create_iam_user("lim_iam")
    router = cluster.limitless_status()["routers"][1]  # type: ignore[index]
    for host in (router["host"], cluster.shard_group_host):
        token = generate_rds_auth_token(
            host, cluster.port, "lim_iam", "us-east-1", ACCESS_KEY_ID, SECRET_ACCESS_KEY
        )
        conn = psycopg.connect(
            host=host,
            hostaddr=router["address"],
            port=cluster.port,
            user="lim_iam",
            password=token,
            dbname="app",
            connect_timeout=5,
        )
        conn.close()
    # a token for another router's name is refused on this one
    other = cluster.limitless_status()["routers"][0]  # type: ignore[index]
    token = generate_rds_auth_token(
        "elsewhere.example.com",
        cluster.port,
        "lim_iam",
        "us-east-1",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
    )
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host=other["host"],
            hostaddr=other["address"],
            port=cluster.port,
            user="lim_iam",
            password=token,
            dbname="app",
            connect_timeout=5,
        )


def test_mysql_and_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match=r"PostgreSQL only.*mysql engine"):
        Cluster.up("mysql", name="h20-never", limitless=2)
    with pytest.raises(ValueError, match="1 to 16"):
        Cluster.up("postgresql", name="h20-never", limitless=40)
    with pytest.raises(ValueError, match="global database"):
        Cluster.up("postgresql", name="h20-never", limitless=2, regions="us-east-1,us-west-2")


def test_cli_help_and_engine_error() -> None:
    run = [sys.executable, "-m", "aws_wrapper_devcluster"]
    out = subprocess.run([*run, "limitless", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for action in ("load", "add", "remove", "status"):
        assert action in out.stdout
    out = subprocess.run([*run, "up", "--help"], capture_output=True, text=True)
    assert "--limitless" in out.stdout
    out = subprocess.run(
        [*run, "--name", "h20-never", "up", "--engine", "mysql", "--limitless", "2"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "mysql engine" in out.stderr and "PostgreSQL" in out.stderr
