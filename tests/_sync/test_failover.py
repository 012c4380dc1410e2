# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_failover.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""failover_v2 on the devcluster: both engines, every driver, clean and crash failovers.

Written once as async code: tests/_sync/test_failover.py is generated from
tests/_async/test_failover.py.
"""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import gather, sleep, spawn
from aws_wrapper._sync.topology_monitor import monitors
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper.topology import writer_of
from aws_wrapper_devcluster import Cluster
from tests.helpers import first, live_workers

from .cluster import ENGINE_OF, instance_of


@pytest.fixture
def table(cluster: Cluster, driver: str) -> Any:
    name = f"fo_{uuid.uuid4().hex[:8]}"
    with connect(cluster, driver, plugins="") as conn:
        conn.set_autocommit(True)
        conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, worker INT)")
    return name


def connect(
    cluster: Cluster, driver: str, endpoint: str = "cluster", **props: Any
) -> AwsWrapperConnection:
    props.setdefault("plugins", "failover_v2")
    props.setdefault("failover_timeout_sec", 30)
    return aw.connect(driver=driver, **cluster.conn_params(endpoint), **props)


def count(conn: AwsWrapperConnection, table: str) -> int:
    cur = conn.execute(f"SELECT COUNT(*) FROM {table}")
    row = cur.fetchone()
    assert row is not None
    cur.fetchall()
    return int(row[0])


@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
def test_autocommit_writes_across_failover(
    cluster: Cluster, driver: str, table: str, crash: bool
) -> None:
    conn = connect(cluster, driver)
    try:
        conn.set_autocommit(True)
        conn.set_isolation_level("SERIALIZABLE")
        conn.set_schema("public" if driver == "psycopg" else "app")
        old = instance_of(conn, rollback=False)
        assert old == cluster.writer
        conn.execute(f"INSERT INTO {table} VALUES (1, 0)")
        result = cluster.failover(crash=crash)
        with pytest.raises(aw.FailoverSuccessError) as info:
            conn.execute(f"INSERT INTO {table} VALUES (2, 0)")
        assert result["new_writer"] in str(info.value)
        assert conn.current_host is not None
        assert conn.current_host.host_id == result["new_writer"]
        assert instance_of(conn, rollback=False) == result["new_writer"]
        assert conn.autocommit is True  # session state replayed
        assert conn.isolation_level == "SERIALIZABLE"
        isolation = "SHOW transaction_isolation" if driver == "psycopg" else "SELECT @@tx_isolation"
        conn.set_autocommit(False)  # psycopg applies the isolation level at BEGIN
        cur = conn.execute(isolation)
        assert str(first(cur.fetchone())).upper() == "SERIALIZABLE"
        conn.rollback()
        conn.set_autocommit(True)
        conn.execute(f"INSERT INTO {table} VALUES (2, 0)")  # the following write works
        assert count(conn, table) == 2
    finally:
        conn.close()


def test_dialect_is_detected(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        expected = "aurora-pg" if ENGINE_OF[driver] == "pg" else "aurora-mysql"
        assert conn.dialect_code == expected


@pytest.mark.parametrize("mode", ["strict_reader", "reader_or_writer"])
def test_reader_failover(cluster: Cluster, driver: str, mode: str) -> None:
    """A connection on a reader whose instance fails moves to another reader."""
    conn = connect(cluster, driver, "reader", failover_mode=mode)
    try:
        conn.set_autocommit(True)
        first = instance_of(conn, rollback=False)
        assert first != cluster.writer
        cluster.reject(first)  # the reader goes away
        with pytest.raises(aw.FailoverSuccessError):
            instance_of(conn, rollback=False)
        now = instance_of(conn, rollback=False)
        assert now != first
        if mode == "strict_reader":
            assert now != cluster.writer
    finally:
        conn.close()


def test_connect_failover(cluster: Cluster, driver: str) -> None:
    """enable_connect_failover: the endpoint leads to a dead instance; the connect still lands
    on the writer through the topology the process already knows."""
    known = connect(cluster, driver)  # the process learns the topology
    try:
        reader = next(i for i in cluster.instance_ids if i != cluster.writer)
        cluster.freeze_dns(True, reader)
        cluster.reject(reader)
        with pytest.raises(aw.ConnectError):
            connect(cluster, driver)
        conn = connect(cluster, driver, enable_connect_failover=True)
        with conn:
            assert instance_of(conn, rollback=False) == cluster.writer
    finally:
        known.close()


SEEN: list[str] = []


class OutsideFailover(aw.BasePlugin):
    """A plugin outside failover_v2 on execute: failover then stays a chain link inside it."""

    subscribed_methods = frozenset({"Cursor.execute"})

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Any) -> Any:
        try:
            return call()
        except Exception as e:
            SEEN.append(type(e).__name__)
            raise


aw.register_plugin("test_outside_failover", OutsideFailover, 100, "test")


@pytest.mark.parametrize("outside", [False, True], ids=["inline", "in-chain"])
def test_failover_is_entered_only_by_a_failed_call(
    cluster: Cluster, driver: str, table: str, outside: bool
) -> None:
    """Outermost on execute, failover_v2 runs inline: a call that succeeds never enters it, a
    failed one does (see plugin_manager.INLINE). With a plugin outside it, it stays a chain
    link, and that plugin sees the failover's outcome."""
    SEEN.clear()
    plugins = "test_outside_failover,failover_v2" if outside else "failover_v2"
    conn = connect(cluster, driver, plugins=plugins)
    try:
        conn.set_autocommit(True)
        hot = conn._hot
        failover: Any = next(
            p for p in conn._manager.plugins if type(p).__name__ == "FailoverPlugin"
        )
        entered: list[str] = []
        call_failed = failover.call_failed

        def counting(method: str, error: Exception, in_transaction: bool) -> None:
            entered.append(method)
            call_failed(method, error, in_transaction)

        failover.call_failed = counting
        if outside:
            assert hot.g_execute is None and hot.ch_execute is not None
        else:
            assert hot.g_execute is failover and hot.ch_execute is None
        for i in range(5):
            conn.execute(f"INSERT INTO {table} VALUES ({i}, 0)")
        assert entered == []
        cluster.failover(crash=True)
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute(f"INSERT INTO {table} VALUES (5, 0)")
        # blocking mysql-connector's cursor() pings the server: its failure comes first
        assert entered in (["Cursor.execute"], ["Connection.cursor"])
        # the plugin outside failover (on execute only) sees the outcome of a failed execute
        outcome = ["FailoverSuccessError"] if outside and entered == ["Cursor.execute"] else []
        assert outcome == SEEN
        conn.execute(f"INSERT INTO {table} VALUES (5, 0)")
        assert count(conn, table) == 6
    finally:
        conn.close()


def test_inside_a_transaction_the_outcome_is_unknown(
    cluster: Cluster, driver: str, table: str
) -> None:
    conn = connect(cluster, driver)
    try:
        conn.execute(f"INSERT INTO {table} VALUES (1, 0)")
        assert conn.in_transaction
        cluster.failover(crash=True)
        with pytest.raises(aw.TransactionResolutionUnknownError):
            conn.execute(f"INSERT INTO {table} VALUES (2, 0)")
        assert not conn.in_transaction
        assert conn.autocommit is False
        with conn.transaction():  # the application re-runs its transaction
            conn.execute(f"INSERT INTO {table} VALUES (3, 0)")
        assert count(conn, table) == 1  # the uncommitted insert is gone
    finally:
        conn.close()


def test_dns_lag_does_not_matter(cluster: Cluster, driver: str, table: str) -> None:
    """The cluster endpoint keeps resolving to the old writer, yet failover lands on the
    real writer: it follows the topology, not DNS."""
    conn = connect(cluster, driver)
    try:
        conn.set_autocommit(True)
        result = cluster.failover(dns=False)
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute(f"INSERT INTO {table} VALUES (1, 0)")
        assert instance_of(conn, rollback=False) == result["new_writer"]
        conn.execute(f"INSERT INTO {table} VALUES (1, 0)")
    finally:
        conn.close()


def test_failover_failed_error_after_the_timeout(cluster: Cluster, driver: str, table: str) -> None:
    conn = connect(cluster, driver, failover_timeout_sec=1.5)
    try:
        conn.set_autocommit(True)
        writer = cluster.writer
        for instance in cluster.instance_ids:  # nothing will answer
            cluster.reject(instance)
        start = time.monotonic()
        with pytest.raises(aw.FailoverFailedError) as info:
            conn.execute(f"INSERT INTO {table} VALUES (1, 0)")
        elapsed = time.monotonic() - start
        assert 1.4 < elapsed < 10, elapsed
        assert "failover_timeout_sec" in str(info.value)
        assert writer in cluster.instance_ids
    finally:
        cluster.heal()
        conn.close()


def test_a_probe_slower_than_its_round_still_finds_the_writer(
    cluster: Cluster, driver: str
) -> None:
    """Panic mode probes every instance in rounds; a probe that outlives its round (the writer
    answering more slowly than a round lasts: farther away, loaded) must still count. Here
    every probe of the writer takes several rounds (100 ms each way on each of its round
    trips, rounds of 0.5 s): were its find dropped with its round, the monitor would never
    leave panic mode."""
    conn = connect(cluster, driver)
    (monitor,) = [m for m in monitors() if cluster.name in m.cluster_id]
    try:
        for _ in range(100):  # the monitor connects in the background
            if monitor.has_connection:
                break
            sleep(0.05)
        assert monitor.has_connection and not monitor.in_panic()
        monitor.probe_timeout_s = 0  # rounds wait 0.5 s for their probes
        cluster.latency(cluster.writer, 100)
        start = time.monotonic()
        monitor.report_failure(None)
        assert monitor.in_panic()
        while monitor.in_panic() and time.monotonic() - start < 20:
            sleep(0.05)
        assert not monitor.in_panic(), "the writer's slow probe was never adopted"
        writer = writer_of(monitor.hosts)
        assert writer is not None and writer.host_id == cluster.writer
        assert monitor.probes >= 2  # the find outlived the round that started it
    finally:
        monitor.probe_timeout_s = 2
        cluster.heal()
        conn.close()


def test_one_topology_monitor_per_cluster(cluster: Cluster, driver: str) -> None:
    conns = [connect(cluster, driver) for _ in range(12)]
    try:
        mine = [m for m in monitors() if cluster.name in m.cluster_id]
        assert len(mine) == 1
        assert mine[0].running
        for _ in range(100):  # the monitor connects in the background
            if mine[0].has_connection:
                break
            sleep(0.05)
        assert mine[0].has_connection
        sessions = server_sessions(cluster, driver)
        # 12 app connections + 1 monitoring connection + the counting one
        assert sessions == 12 + 1 + 1, sessions
    finally:
        for c in conns:
            c.close()
    aw.release_resources()
    assert not [m for m in monitors() if cluster.name in m.cluster_id]
    assert live_workers() == []


def server_sessions(cluster: Cluster, driver: str) -> int:
    with connect(cluster, driver, plugins="") as conn:
        sql = (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE usename = 'app' "
            "AND backend_type = 'client backend'"
            if conn.driver_dialect.engine == "postgresql"
            else "SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'app'"
        )
        for _ in range(50):  # let connections that were just closed disappear
            cur = conn.execute(sql)
            row = cur.fetchone()
            assert row is not None
            cur.fetchall()
            conn.rollback()
            found = int(row[0])
            if found <= 14:
                return found
            sleep(0.1)
        return found


WORKERS = 8


def test_many_workers_across_five_failovers(cluster: Cluster, driver: str, table: str) -> None:
    """WORKERS concurrent connections run transactions while the cluster fails over five
    times: every error is a documented failover error, every reported commit is there, nothing
    hangs, and nothing leaks."""
    if driver == "mysql-connector":
        pytest.skip("one MySQL driver per world is enough for the load test")
    timeout = 20.0
    committed: list[int] = []
    errors: list[str] = []
    stop = {"now": False}
    before = server_sessions(cluster, driver)

    def worker(n: int) -> None:
        conn = connect(cluster, driver, failover_timeout_sec=timeout)
        next_id = n * 1_000_000
        try:
            while not stop["now"]:
                next_id += 1
                started = time.monotonic()
                try:
                    with conn.transaction():
                        conn.execute(f"INSERT INTO {table} VALUES ({next_id}, {n})")
                    committed.append(next_id)
                except (aw.FailoverSuccessError, aw.TransactionResolutionUnknownError) as e:
                    errors.append(type(e).__name__)
                    assert time.monotonic() - started < timeout + 5
                sleep(0.01)
        finally:
            conn.close()

    def failovers() -> None:
        for i in range(5):
            sleep(1.0)
            cluster.failover(crash=i % 2 == 1)
            cluster.wait_rejoins()
        sleep(1.0)
        stop["now"] = True

    failover_worker = spawn(failovers, name="failovers")
    gather(*(partial(worker, n) for n in range(WORKERS)))
    failover_worker.join(60)
    assert stop["now"], "the failovers did not finish"
    assert committed and errors
    assert set(errors) <= {"FailoverSuccessError", "TransactionResolutionUnknownError"}
    with connect(cluster, driver) as conn:
        cur = conn.execute(f"SELECT id FROM {table}")
        present = {int(r[0]) for r in cur.fetchall()}
    missing = set(committed) - present
    assert not missing, f"{len(missing)} committed rows are missing"
    aw.release_resources()
    assert live_workers() == []
    assert server_sessions(cluster, driver) <= before
