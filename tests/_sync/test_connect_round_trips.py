# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_connect_round_trips.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""What a connect costs beyond the driver's own connect: the wrapper's queries on the new
connection, counted on every driver, on a plain server and on the devcluster.

- The dialect is detected once per endpoint per process: the second connection to an endpoint
  makes no detection query.
- On a cluster, the instance a connection is on is told by the address it is connected to,
  from the topology monitor's address book (see ``aws_wrapper.addresses``): once the monitor
  has its topology, a connect makes no query at all, through the cluster endpoint, the reader
  endpoint, or a cluster endpoint whose DNS still names another instance.
- The topology is read once per cluster (the first connection and the shared monitor), not
  per connection.

Written once as async code: tests/_sync/test_connect_round_trips.py is generated from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from aws_wrapper import aurora_queries as q
from aws_wrapper import sync as aw
from aws_wrapper._compat import sleep
from aws_wrapper._sync import host_list_provider
from aws_wrapper._sync.topology_monitor import ClusterTopologyMonitor, monitors
from aws_wrapper.dialect_cache import forget_dialects, known_dialect
from aws_wrapper.drivers import driver_dialect_for
from aws_wrapper.hostinfo import HostRole
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import ENGINE_OF, instance_of

IO_METHODS = (
    "fetch",
    "ping",
    "commit",
    "rollback",
    "set_autocommit",
    "set_read_only",
    "set_isolation_level",
    "set_schema",
)
"""Every driver-dialect method that talks to the server (besides connect and close)."""

# the monitor reads the topology at connect-time only in this module's tests
QUIET = {"topology_refresh_ms": 600_000}


def kind_of(method: str, args: tuple[Any, ...]) -> str:
    if method != "fetch" or not args:
        return method
    sql = args[0]
    if sql in (q.PG_TOPOLOGY.sql, q.MYSQL_TOPOLOGY.sql):
        return "topology"
    if sql in (q.PG_HOST_ID.sql, q.MYSQL_HOST_ID.sql):
        return "host_id"
    if sql in (q.PG_IS_READER.sql, q.MYSQL_IS_READER.sql, "SELECT @@read_only"):
        return "is_reader"
    return "detect"  # the dialect's detection queries: nothing else is asked at connect


class Recorder:
    """The wrapper's calls to the server, on every driver connection of the test."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, str]] = []  # (driver connection, kind)

    def on(self, conn: object) -> list[str]:
        return [kind for c, kind in self.calls if c is conn]

    def count(self, kind: str) -> int:
        return sum(1 for _, k in self.calls if k == kind)


def counting(orig: Callable[..., Any], method: str, rec: Recorder) -> Callable[..., Any]:
    def call(self: Any, conn: Any, *args: Any, **kwargs: Any) -> Any:
        rec.calls.append((conn, kind_of(method, args)))
        return orig(self, conn, *args, **kwargs)

    return call


@pytest.fixture
def recorder(driver: str, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    cls = type(driver_dialect_for(driver))
    rec = Recorder()
    for method in IO_METHODS:
        monkeypatch.setattr(cls, method, counting(getattr(cls, method), method, rec))
    forget_dialects()  # every test starts with nothing detected
    return rec


def connect_counted(
    rec: Recorder, driver: str, params: dict[str, Any], **props: Any
) -> tuple[AwsWrapperConnection, list[str]]:
    """A connection with the default plugins, and the wrapper's calls made on it to connect."""
    conn = aw.connect(driver=driver, **params, **props)
    return conn, rec.on(conn.driver_connection)


def ready_monitor(cluster: Cluster, driver: str, rec: Recorder) -> ClusterTopologyMonitor:
    """Connect once (the process learns the cluster) and wait until the topology monitor has
    resolved the instances' addresses."""
    conn, _ = connect_counted(rec, driver, cluster.conn_params(), **QUIET)
    conn.close()
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in monitors() if m.books and m.hosts]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "the topology monitor built no address book"
        sleep(0.02)


def test_plain_server_detects_the_dialect_once(
    driver: str, db_params: dict[str, Any], recorder: Recorder
) -> None:
    conn, first = connect_counted(recorder, driver, db_params)
    dialect = conn.dialect_code
    conn.close()
    assert first and set(first) == {"detect"}  # asked once...
    host, port = str(db_params["host"]), int(db_params["port"])
    engine = "postgresql" if ENGINE_OF[driver] == "pg" else "mysql"
    assert known_dialect(host, port, engine) == dialect  # ... and remembered
    for _ in range(3):
        conn, calls = connect_counted(recorder, driver, db_params)
        assert conn.dialect_code == dialect
        conn.close()
        assert calls == []  # nothing beyond the driver's own connect


def test_cluster_connects_make_no_query_once_the_cluster_is_known(
    cluster: Cluster, driver: str, recorder: Recorder
) -> None:
    params = cluster.conn_params()
    conn, first = connect_counted(recorder, driver, params, **QUIET)
    conn.close()
    # the first connection: the dialect, the instance, the topology (nothing known yet)
    assert "detect" in first and "host_id" in first
    conn, second = connect_counted(recorder, driver, params, **QUIET)
    conn.close()
    assert "detect" not in second  # detected once per endpoint
    monitor = ready_monitor(cluster, driver, recorder)
    topology_reads = recorder.count("topology")
    conns = []
    try:
        for _ in range(20):
            conn, calls = connect_counted(recorder, driver, params, **QUIET)
            conns.append(conn)
            assert calls == []  # no detection, no "which instance am I on", no topology
            host = conn.current_host
            assert host is not None and host.host_id == cluster.writer
            assert host.role is HostRole.WRITER
            assert conn.dialect_code == ("aurora-pg" if driver == "psycopg" else "aurora-mysql")
        # one topology for the cluster, shared: read by nobody while the 20 connected
        assert recorder.count("topology") == topology_reads
        assert len([m for m in monitors() if m.cluster_id == monitor.cluster_id]) == 1
        # what the address said is what the server says
        assert instance_of(conns[-1]) == cluster.writer
    finally:
        for conn in conns:
            conn.close()
    # over all 24 connections: the topology read by the first one and the monitor only
    assert recorder.count("topology") <= 1 + len(cluster.instance_ids)


def test_reader_endpoint_connects_are_identified_by_address(
    cluster: Cluster, driver: str, recorder: Recorder
) -> None:
    ready_monitor(cluster, driver, recorder)
    for _ in range(3):
        conn, calls = connect_counted(recorder, driver, cluster.conn_params("reader"), **QUIET)
        try:
            assert calls == []
            host = conn.current_host
            assert host is not None and host.role is HostRole.READER
            assert host.host_id == instance_of(conn)
        finally:
            conn.close()


def test_stale_cluster_dns_lands_on_the_instance_it_names(
    cluster: Cluster, driver: str, recorder: Recorder
) -> None:
    """The cluster endpoint's DNS still names a reader (after a failover, say): the connection
    is on that reader, and is known to be, without a query."""
    ready_monitor(cluster, driver, recorder)
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    cluster.freeze_dns(True, reader)
    conn, calls = connect_counted(recorder, driver, cluster.conn_params(), **QUIET)
    try:
        assert calls == []
        host = conn.current_host
        assert host is not None and host.host_id == reader and host.role is HostRole.READER
        assert instance_of(conn) == reader
    finally:
        conn.close()


def test_an_unknown_address_is_asked(
    cluster: Cluster, driver: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection whose address no instance has (a proxy, a tunnel, a driver we cannot look
    into) is identified by a query, as before."""
    ready_monitor(cluster, driver, recorder)
    monkeypatch.setattr(host_list_provider, "peer_address", lambda conn: None)
    conn, calls = connect_counted(recorder, driver, cluster.conn_params(), **QUIET)
    try:
        assert calls == ["host_id"]
        host = conn.current_host
        assert host is not None and host.host_id == cluster.writer
    finally:
        conn.close()


def test_an_instance_endpoint_of_a_known_cluster_makes_no_query(
    cluster: Cluster, driver: str, recorder: Recorder
) -> None:
    """An instance endpoint of a cluster the process knows: its dialect, topology and monitor
    are the cluster's, and its address is in the book."""
    ready_monitor(cluster, driver, recorder)
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    params = {**cluster.conn_params(), "host": cluster.instance_host(reader)}
    conn, calls = connect_counted(recorder, driver, params, **QUIET)
    try:
        assert calls == []
        assert len(monitors()) == 1
        host = conn.current_host
        assert host is not None and host.host_id == reader and host.role is HostRole.READER
    finally:
        conn.close()


def test_connections_to_an_endpoint_share_what_holds_no_state_of_theirs(
    driver: str, db_params: dict[str, Any]
) -> None:
    """The driver dialect, the database dialect, the plain server's host list provider and the
    host a connection starts from are one object per endpoint, not one per connection: each
    object a connection holds is one more for the garbage collector to walk on every full
    collection (1,000 async connections, issue 16). Its own state stays its own."""
    first = aw.connect(driver=driver, **db_params)
    second = aw.connect(driver=driver, **db_params)
    try:
        one, two = first._service, second._service
        assert first.driver_dialect is second.driver_dialect
        assert one.dialect is two.dialect
        assert one.host_list_provider is two.host_list_provider
        assert one.initial_host is two.initial_host
        assert one.current_host is two.current_host
        assert first._hot.cursor_kind is second._hot.cursor_kind
        # what is a connection's own is not shared
        assert one.session is not two.session
        assert first._hot is not second._hot
        assert one.manager.plugins[0] is not two.manager.plugins[0]
        # and a connection to another endpoint (another port: the same server) has its own
        other = aw.connect(driver=driver, **{**db_params, "host": "localhost"})
        try:
            assert other._service.host_list_provider is not one.host_list_provider
            assert other._service.initial_host.host == "localhost"
            assert other.driver_dialect is first.driver_dialect
        finally:
            other.close()
    finally:
        first.close()
        second.close()
