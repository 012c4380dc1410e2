# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_aurora_plugins.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""stale_dns, initial_connection, aurora_connection_tracker and connect retries, on the
devcluster (both engines, both trees)."""

from __future__ import annotations

from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._sync.plugins.aurora import AuroraConnectionTrackerPlugin
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql"}


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture(autouse=True)
def release_monitors() -> Any:
    yield
    aw.error_simulator.clear()
    aw.release_resources()


def connect(
    cluster: Cluster, driver: str, plugins: str, endpoint: str = "cluster", **props: Any
) -> AwsWrapperConnection:
    return aw.connect(driver=driver, plugins=plugins, **cluster.conn_params(endpoint), **props)


def a_reader(cluster: Cluster) -> str:
    writer = cluster.writer
    return next(i for i in cluster.instance_ids if i != writer)


@pytest.mark.parametrize("plugin", ["stale_dns", "initial_connection"])
def test_writer_endpoint_with_stale_dns_lands_on_the_writer(
    cluster: Cluster, driver: str, plugin: str
) -> None:
    reader = a_reader(cluster)
    cluster.freeze_dns(True, reader)  # DNS names a reader
    with connect(cluster, driver, "") as plain:
        assert instance_of(plain) == reader  # what DNS alone does
    with connect(cluster, driver, plugin) as conn:
        assert instance_of(conn) == cluster.writer
        assert conn.current_host is not None and conn.current_host.host_id == cluster.writer


def test_reader_endpoint_connects_to_readers(cluster: Cluster, driver: str) -> None:
    writer = cluster.writer
    seen = set()
    for _ in range(6):
        with connect(cluster, driver, "initial_connection", "reader") as conn:
            seen.add(instance_of(conn))
    assert seen and writer not in seen


def test_tracker_aborts_connections_to_the_old_writer(cluster: Cluster, driver: str) -> None:
    plugins = "aurora_connection_tracker,failover_v2"
    first = connect(cluster, driver, plugins)
    idle = connect(cluster, driver, plugins)
    try:
        first.set_autocommit(True)
        idle.set_autocommit(True)
        before = AuroraConnectionTrackerPlugin.aborted
        cluster.failover()
        with pytest.raises(aw.FailoverSuccessError):
            first.execute("SELECT 1")
        # the writer moved: the idle connection to the old one was aborted by the tracker
        assert AuroraConnectionTrackerPlugin.aborted > before
        with pytest.raises(aw.FailoverSuccessError):
            idle.execute("SELECT 1")
        assert instance_of(idle) == cluster.writer
    finally:
        first.close()
        idle.close()


def test_failover_retries_a_rejected_connect(cluster: Cluster, driver: str) -> None:
    conn = connect(cluster, driver, "failover_v2,dev", connection_retry_max_attempts=3)
    try:
        conn.set_autocommit(True)
        cluster.failover()
        # the first connection to the new writer is refused (as right after a promotion)
        aw.error_simulator.raise_on_next_connect(ConnectionRefusedError("simulated refusal"))
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute("SELECT 1")
        assert aw.error_simulator.take_connect() is None  # the refusal was met, and retried
        assert instance_of(conn) == cluster.writer
    finally:
        conn.close()
