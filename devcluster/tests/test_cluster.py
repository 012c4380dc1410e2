"""The devcluster as a whole: metadata conformance on every instance, failovers, faults, DNS.

Both engines; connections go through the instances' proxies by their RDS-shaped names (the
hosts file), as an application's would.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

import aws_wrapper
from aws_wrapper import aurora_queries as q
from aws_wrapper_devcluster import Cluster

ENGINES = ["pg", "mysql"]
DRIVER = {"pg": "psycopg", "mysql": "pymysql"}


@pytest.fixture(params=ENGINES)
def cluster(request: pytest.FixtureRequest) -> Cluster:
    name = "devcluster_pg" if request.param == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


def connect(cluster: Cluster, endpoint: str = "cluster", **extra: Any) -> Any:
    driver = "psycopg" if cluster.engine.value == "postgresql" else "pymysql"
    params = {**cluster.conn_params(endpoint), **extra}
    return aws_wrapper.connect(driver=driver, plugins="", **params)


def fetch(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
    conn.rollback()
    return [tuple(r) for r in rows]


def queries(cluster: Cluster) -> tuple[q.MetadataQuery, ...]:
    return q.AURORA_PG_QUERIES if cluster.engine.value == "postgresql" else q.AURORA_MYSQL_QUERIES


def check_conformance(cluster: Cluster) -> None:
    """Every contract query, on every instance, as the app user, against the real state."""
    status = cluster.status(check=True)
    writer = status["writer"]
    running = [i["id"] for i in status["instances"] if i["state"] == "running"]
    for check in status["check"].values():
        assert check["replicating"] in (None, True), status["check"]
    for instance in running:
        with connect(cluster, instance) as conn:
            answers = {}
            for query in queries(cluster):
                rows = fetch(conn, query.sql)
                if query.columns > 0:
                    assert all(len(r) == query.columns for r in rows), (query.name, rows)
                answers[query.name] = rows
        if cluster.engine.value == "postgresql":
            assert answers[q.PG_IS_AURORA.name] == [(True,)]
            # rds_tools may be listed too (as on Aurora); aurora_stat_utils makes it Aurora
            assert [row[1] for row in answers[q.PG_IS_RDS.name]] == [True]
            assert answers[q.PG_HAS_REPLICA_STATUS.name] == [(1,)]
            assert answers[q.PG_HOST_ID.name] == [(instance,)]
            assert answers[q.PG_IS_READER.name] == [(instance != writer,)]
            topology = answers[q.PG_TOPOLOGY.name]
        else:
            ((name, version),) = answers[q.MYSQL_IS_AURORA.name]
            assert name == "aurora_version" and version
            assert answers[q.MYSQL_HOST_ID.name] == [(instance,)]
            assert [int(v) for (v,) in answers[q.MYSQL_IS_READER.name]] == [int(instance != writer)]
            topology = answers[q.MYSQL_TOPOLOGY.name]
        writers = [row[0] for row in topology if row[1]]
        assert writers == [writer], (instance, topology)
        assert sorted(row[0] for row in topology) == sorted(running), (instance, topology)


def eventually_conformant(cluster: Cluster, within_s: float = 5.0) -> None:
    """check_conformance, allowing the few seconds after a failover in which a reader may
    still report the topology from before the old writer rejoined (as on Aurora; see the
    metadata contract): the first check may run while the daemon rewrites it."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            check_conformance(cluster)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_conformance_before_and_after_failover(cluster: Cluster) -> None:
    check_conformance(cluster)
    result = cluster.failover()
    print(f"failover ({cluster.engine.value}): {result}")
    eventually_conformant(cluster)
    cluster.wait_rejoins()
    check_conformance(cluster)
    cluster.failover(crash=True)
    cluster.wait_rejoins()
    check_conformance(cluster)


def test_readers_are_read_only_and_replicate(cluster: Cluster) -> None:
    status = cluster.status()
    readers = [i["id"] for i in status["instances"] if i["role"] == "reader"]
    marker = f"m{time.monotonic_ns()}"
    with connect(cluster) as conn:
        conn.autocommit = True
        conn.execute("CREATE TABLE IF NOT EXISTS dc_marks (v VARCHAR(40))")
        conn.execute("INSERT INTO dc_marks VALUES (%s)", (marker,))
    for reader in readers:
        with connect(cluster, reader) as conn:
            deadline = time.monotonic() + 10
            while not fetch(conn, f"SELECT v FROM dc_marks WHERE v = '{marker}'"):
                assert time.monotonic() < deadline, f"{marker} never reached {reader}"
                time.sleep(0.05)
            with pytest.raises(Exception, match=r"(?i)read.only|recovery"):
                conn.execute("INSERT INTO dc_marks VALUES ('nope')")


def test_no_committed_row_lost_across_clean_failover(cluster: Cluster) -> None:
    with connect(cluster) as conn:
        conn.autocommit = True
        conn.execute("CREATE TABLE IF NOT EXISTS dc_rows (id INT PRIMARY KEY)")
        conn.execute("DELETE FROM dc_rows")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO dc_rows VALUES (%s)", [(i,) for i in range(500)])
    old = cluster.writer
    cluster.failover()
    assert cluster.writer != old
    with connect(cluster) as conn:  # the cluster endpoint follows the new writer
        assert fetch(conn, "SELECT COUNT(*) FROM dc_rows") == [(500,)]
        conn.autocommit = True
        conn.execute("INSERT INTO dc_rows VALUES (500)")  # and accepts writes


def test_ten_failovers_leave_a_healthy_cluster(cluster: Cluster) -> None:
    timings = []
    for n in range(10):
        result = cluster.failover(crash=n % 2 == 1)
        timings.append(result["total_s"])
    cluster.wait_rejoins()
    status = cluster.status(check=True)
    assert all(i["state"] == "running" for i in status["instances"]), status
    for instance, check in status["check"].items():
        if instance == status["writer"]:
            assert check["role"] == "writer"
        else:
            assert check == {"role": "reader", "replicating": True}, (instance, check)
    print(f"10 failovers ({cluster.engine.value}): {sorted(timings)}")
    check_conformance(cluster)


def _connect_outcome(address: str, port: int, timeout: float) -> str:
    try:
        with socket.create_connection((address, port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = s.recv(1)  # the server greets first in both protocols (pg: after startup)
            return "greeted" if data else "closed"
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"


def test_blackhole_times_out_and_heal_restores(cluster: Cluster) -> None:
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    address = cluster.address_of(reader)
    cluster.blackhole(reader)
    start = time.monotonic()
    with pytest.raises(aws_wrapper.ConnectError):
        extra = {"connect_timeout": 1}
        connect(cluster, reader, **extra)
    assert time.monotonic() - start >= 0.9  # it waited: not refused
    assert _connect_outcome(address, cluster.port, 1.0) == "timeout"
    cluster.heal(reader)
    with connect(cluster, reader) as conn:
        assert fetch(conn, "SELECT 1") == [(1,)]


def test_reject_refuses(cluster: Cluster) -> None:
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    cluster.reject(reader)
    assert _connect_outcome(cluster.address_of(reader), cluster.port, 1.0) == "refused"
    cluster.heal(reader)


def test_dns_lag_keeps_the_cluster_endpoint_on_the_old_writer(cluster: Cluster) -> None:
    old = cluster.writer
    result = cluster.failover(dns=False)
    cluster.wait_rejoins()
    new = result["new_writer"]
    with connect(cluster) as conn:  # the cluster name still leads to the old writer...
        host_id = q.PG_HOST_ID if cluster.engine.value == "postgresql" else q.MYSQL_HOST_ID
        assert fetch(conn, host_id.sql) == [(old,)]
    with connect(cluster, new) as conn:  # ...which is now a reader; the writer is elsewhere
        assert fetch(conn, host_id.sql) == [(new,)]
    cluster.freeze_dns(False)
    with connect(cluster) as conn:
        assert fetch(conn, host_id.sql) == [(new,)]


def test_reader_endpoint_leads_to_readers(cluster: Cluster) -> None:
    is_reader = q.PG_IS_READER if cluster.engine.value == "postgresql" else q.MYSQL_IS_READER
    host_id = q.PG_HOST_ID if cluster.engine.value == "postgresql" else q.MYSQL_HOST_ID
    seen = set()
    for _ in range(24):  # random among two readers: both seen but with odds of 2**-23
        with connect(cluster, "reader") as conn:
            assert int(fetch(conn, is_reader.sql)[0][0]) == 1
            seen.add(fetch(conn, host_id.sql)[0][0])
    assert cluster.writer not in seen and len(seen) == 2  # both readers, at random


def test_latency_slows_round_trips(cluster: Cluster) -> None:
    with connect(cluster) as conn:
        fetch(conn, "SELECT 1")
        cluster.latency(cluster.writer, 100)
        start = time.monotonic()
        fetch(conn, "SELECT 1")
        assert time.monotonic() - start >= 0.2  # 100 ms each way
        cluster.heal()


@pytest.fixture
def fresh_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    logs: list[str] = []
    cluster = Cluster.up(
        "postgresql", readers=2, name="tstart", log=logs.append, tie_to_this_process=True
    )
    try:
        yield cluster
    finally:
        cluster.down()


def test_start_and_failover_durations_are_reported(fresh_cluster: Cluster) -> None:
    log = (fresh_cluster.state_dir / "daemon.log").read_text()
    assert "up in" in log
    result = fresh_cluster.failover()
    assert 0 < result["total_s"] < 10
    print(f"start: {[line for line in log.splitlines() if 'up in' in line]}; failover {result}")


def topology_rows(cluster: Cluster, instance: str) -> list[tuple[Any, ...]]:
    query = q.PG_TOPOLOGY if cluster.engine.value == "postgresql" else q.MYSQL_TOPOLOGY
    with connect(cluster, instance) as conn:
        return fetch(conn, query.sql)


def test_topology_edits(cluster: Cluster) -> None:
    """Stale rows, lag, missing rows, two writers and per-instance views, as the dialect's
    topology query (with its 300 s rule) sees them."""
    writer = cluster.writer
    r1, r2 = (i for i in cluster.instance_ids if i != writer)
    # a stale reader row is dropped by the 300 s rule; a stale writer row is kept
    cluster.edit_topology(instance=r1, age_s=400)
    cluster.edit_topology(instance=writer, age_s=400)
    ids = sorted(row[0] for row in topology_rows(cluster, r2))
    assert ids == sorted([writer, r2])
    cluster.edit_topology(clear=True)
    # lag
    cluster.edit_topology(instance=r1, lag_ms=1234)
    lags = {row[0]: float(row[3] or 0) for row in topology_rows(cluster, writer)}
    assert lags[r1] == 1234 and lags[r2] == 0
    # a missing row, and a second row claiming writer
    cluster.edit_topology(instance=r2, missing=True)
    cluster.edit_topology(instance=r1, writer=True)
    rows = topology_rows(cluster, writer)
    assert sorted(row[0] for row in rows) == sorted([writer, r1])
    assert sorted(row[0] for row in rows if row[1]) == sorted([writer, r1])
    cluster.edit_topology(clear=True)
    # one instance reports a view of its own (e.g. stale after a failover)
    cluster.edit_topology(
        instance=r2,
        view=[{"server_id": r2, "session_id": "MASTER_SESSION_ID"}, {"server_id": writer}],
    )
    assert [row[0] for row in topology_rows(cluster, r2) if row[1]] == [r2]
    assert [row[0] for row in topology_rows(cluster, r1) if row[1]] == [writer]
    cluster.reset()  # clears every edit
    assert len(topology_rows(cluster, r2)) == 3
