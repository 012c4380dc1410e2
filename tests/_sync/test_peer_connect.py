# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_peer_connect.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""aws-advanced-python-wrapper's properties on real servers (issue 17): the translated ones reach
each driver as its own parameters (plain servers), every one of the peer's 116 properties set
to a valid value of the peer's connects to the devcluster, an ignored one logs one INFO line,
and ``enable_failover=False`` turns failover off. What is parsed is tested in
tests/test_peer_properties.py, which holds the list.

Written once as async code: tests/_sync/test_peer_connect.py is generated from it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import Any, cast

import pytest

from aws_wrapper import properties
from aws_wrapper import sync as aw
from aws_wrapper._compat import sleep
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster
from tests.drivers import ENGINES
from tests.helpers import first
from tests.test_peer_properties import PEER_PROPERTIES, peer_value

from .cluster import instance_of


def is_pg(driver: str) -> bool:
    return ENGINES[driver] == "postgresql"


def peer_params(params: dict[str, Any]) -> dict[str, Any]:
    """Connect parameters as a peer user writes them: ``database``, never ``dbname``/``db``."""
    out = dict(params)
    if "dbname" in out:
        out["database"] = out.pop("dbname")
    return out


def scalar(conn: AwsWrapperConnection, sql: str) -> Any:
    cur = conn.execute(sql)
    row = cur.fetchone()
    cur.fetchall()  # mysql.connector: nothing left unread
    return first(row)


class RawSocket:
    """The driver connection's socket, for reading its options (psycopg: a duplicate of
    libpq's descriptor, closed afterwards)."""

    def __init__(self, conn: AwsWrapperConnection) -> None:
        self._own: socket.socket | None = None
        raw = conn.driver_connection
        if conn.driver_dialect.engine == "postgresql":
            self._own = socket.socket(fileno=os.dup(raw.pgconn.socket))
            self.sock: Any = self._own
        else:
            self.sock = cast(Any, conn.driver_dialect)._socket(raw)
        assert self.sock is not None

    def option(self, level: int, name: int) -> int:
        return int(self.sock.getsockopt(level, name))

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


# -- translated per driver: plain servers -----------------------------------------------------


def test_database_and_connect_timeout_reach_the_driver(
    driver: str, db_params: dict[str, Any]
) -> None:
    params = peer_params(db_params)
    conn = aw.connect(driver=driver, plugins="", connect_timeout=7, **params)
    try:
        current = "SELECT current_database()" if is_pg(driver) else "SELECT DATABASE()"
        assert scalar(conn, current) == params["database"]
        raw = conn.driver_connection
        if is_pg(driver):
            assert raw.info.get_parameters()["connect_timeout"] == "7"
        elif driver.startswith("mysql-connector"):
            assert raw._connection_timeout == 7  # its connect_timeout is connection_timeout
        else:
            assert raw.connect_timeout == 7
    finally:
        conn.close()


def test_tcp_keepalive_settings_reach_the_socket(driver: str, db_params: dict[str, Any]) -> None:
    conn = aw.connect(
        driver=driver,
        plugins="",
        tcp_keepalive=True,
        tcp_keepalive_time=31,
        tcp_keepalive_interval=11,
        tcp_keepalive_probes=4,
        **peer_params(db_params),
    )
    sock = RawSocket(conn)
    try:
        assert sock.option(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        assert sock.option(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 31
        assert sock.option(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 11
        assert sock.option(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
        if is_pg(driver):  # as libpq's own parameters
            given = conn.driver_connection.info.get_parameters()
            assert (given["keepalives"], given["keepalives_idle"]) == ("1", "31")
        assert scalar(conn, "SELECT 1") == 1
    finally:
        sock.close()
        conn.close()


def test_tcp_keepalive_off(driver: str, db_params: dict[str, Any]) -> None:
    # PyMySQL turns keepalive on by itself: the property turns it off
    conn = aw.connect(driver=driver, plugins="", tcp_keepalive="false", **db_params)
    sock = RawSocket(conn)
    try:
        assert sock.option(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    finally:
        sock.close()
        conn.close()


def test_socket_timeout_per_driver(
    driver: str, db_params: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """psycopg: the server's statement_timeout; PyMySQL and mysql-connector: their read
    timeout (mysql-connector: whole seconds); aiomysql: not applied, one INFO line says so."""
    properties._noticed.discard(f"socket_timeout:{driver}")
    caplog.set_level(logging.INFO, logger="aws_wrapper")
    conn = aw.connect(driver=driver, plugins="", socket_timeout=0.5, **db_params)
    params = conn.driver_dialect.driver_params() or frozenset()
    # the MySQL drivers with a read timeout: all but aiomysql
    read_timeout = not is_pg(driver) and "read_timeout" in params
    sleep = "SELECT pg_sleep(1.6)" if is_pg(driver) else "SELECT SLEEP(1.6)"
    try:
        if is_pg(driver):
            assert scalar(conn, "SHOW statement_timeout") == "500ms"
            conn.rollback()
        raw = conn.driver_connection
        if driver.startswith("mysql-connector"):
            assert (raw.read_timeout, raw.write_timeout) == (1, 1)  # whole seconds
        elif read_timeout:
            assert (raw._read_timeout, raw._write_timeout) == (0.5, 0.5)
        started = time.monotonic()
        if is_pg(driver) or read_timeout:
            with pytest.raises(aw.Error):
                scalar(conn, sleep)
            assert time.monotonic() - started < 1.5
        else:
            assert scalar(conn, sleep) == 0  # ran to its end
            assert time.monotonic() - started >= 1.5
    finally:
        conn.close()
    notes = [r for r in caplog.records if "socket_timeout" in r.getMessage()]
    if read_timeout:
        assert notes == []
    else:  # what applies, said once
        assert len(notes) == 1 and notes[0].levelno == logging.INFO
        applies = "statement_timeout" if is_pg(driver) else "not applied"
        assert applies in notes[0].getMessage()


# -- every property on the devcluster ---------------------------------------------------------

GROUPS: dict[str, tuple[str, ...]] = {}
"""The peer's properties in groups of one area, each group set on one connect."""


def _group(starts: tuple[str, ...], also: tuple[str, ...] = ()) -> tuple[str, ...]:
    return (*(n for n in PEER_PROPERTIES if n.startswith(starts)), *also)


GROUPS["driver"] = (
    "user",
    "password",
    "database",
    "connect_timeout",
    "socket_timeout",
    "tcp_keepalive",
    "tcp_keepalive_time",
    "tcp_keepalive_interval",
    "tcp_keepalive_probes",
)
GROUPS["auth"] = _group(
    ("aws_profile", "iam_", "secrets_manager_", "idp_", "rp_", "db_user", "app_id", "http_"),
    ("ssl_secure",),
)
GROUPS["failover"] = _group(
    ("enable_failover", "failover_", "enable_connect_failover", "active_home", "inactive_home"),
    ("failure_detection_enabled", "failure_detection_time_ms", "failure_detection_interval_ms"),
)
GROUPS["topology"] = _group(
    ("topology_refresh", "cluster_", "global_cluster", "auxiliary", "monitor", "wrapper_"),
    ("failure_detection_count", "plugins", "auto_sort_wrapper_plugin_order"),
)
GROUPS["selectors"] = _group(
    ("reader_", "round_robin", "weighted_random", "response_", "default_host", "host_avail")
)
GROUPS["initial_connection"] = _group(
    (
        "initial_connection",
        "endpoint_substitution",
        "inactive_cluster",
        "verify_",
        "open_connection",
        "wait_for_initial",
    )
)
GROUPS["splitting"] = _group(("srw_", "gdb_", "custom_endpoint", "wait_for_custom"))
GROUPS["other"] = _group(
    ("limitless_", "bg_", "enable_telemetry", "telemetry_", "transfer_", "reset_", "rollback_"),
    ("profile_name",),  # a preset profile (with failover and host monitoring)
)


def test_the_groups_hold_every_property() -> None:
    grouped = [n for names in GROUPS.values() for n in names]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == set(PEER_PROPERTIES)


def devcluster_value(name: str, driver: str, cluster: Cluster, params: dict[str, Any]) -> Any:
    """A valid value of the peer's for ``name``, fitting the devcluster."""
    if name in params:
        return params[name]
    if name == "cluster_id":
        return f"peer-{uuid.uuid4().hex[:8]}"  # not the peer's '1': a monitor of its own
    if name == "cluster_instance_host_pattern":
        return cluster.instance_template
    if name == "srw_read_endpoint":
        return cluster.reader_host
    if name == "srw_write_endpoint":
        return cluster.cluster_host
    if name == "db_user":
        return params["user"]
    return peer_value(name, driver)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_connect_with_the_peers_properties(cluster: Cluster, driver: str, group: str) -> None:
    params = peer_params(cluster.conn_params())
    given = {n: devcluster_value(n, driver, cluster, params) for n in GROUPS[group]}
    conn = aw.connect(driver=driver, **{**params, **given})
    try:
        assert instance_of(conn) == cluster.writer
        assert conn.current_host is not None
    finally:
        conn.close()


def test_ignored_property_logs_one_info_line(
    cluster: Cluster, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = "failover_writer_reconnect_interval_sec"
    properties._noticed.discard(name)
    caplog.set_level(logging.INFO, logger="aws_wrapper")
    params = {**cluster.conn_params(), name: 5}
    for _ in range(3):
        conn = aw.connect(driver=driver, **params)
        conn.close()
    lines = [r for r in caplog.records if f"'{name}'" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "ignored" in lines[0].getMessage()


def test_enable_failover_false_leaves_failover_out(cluster: Cluster, driver: str) -> None:
    for plugins in ({}, {"plugins": "failover"}, {"plugins": "failover_v2,host_monitoring_v2"}):
        conn = aw.connect(driver=driver, **cluster.conn_params(), enable_failover=False, **plugins)
        try:
            names = [type(p).__name__ for p in conn._service.manager.plugins]
            assert "FailoverPlugin" not in names
            assert instance_of(conn) == cluster.writer
        finally:
            conn.close()


@pytest.mark.parametrize("driver", ["psycopg"])
def test_enable_failover_false_no_failover_when_the_writer_goes(
    cluster: Cluster, driver: str
) -> None:
    conn = aw.connect(
        driver=driver,
        **cluster.conn_params(),
        plugins="failover",
        enable_failover="false",
        failover_timeout_sec=30,
    )
    try:
        conn.set_autocommit(True)
        old = instance_of(conn)
        result = cluster.failover(crash=True)
        assert result["new_writer"] != old
        with pytest.raises(aw.OperationalError) as info:
            scalar(conn, "SELECT 1")
        assert not isinstance(info.value, aw.FailoverError)  # failed, not failed over
        # still where it connected: nothing moved it to the new writer
        assert conn.current_host is not None and conn.current_host.host == cluster.cluster_host
    finally:
        conn.close()


@pytest.mark.parametrize("driver", ["psycopg"])
@pytest.mark.parametrize(
    ("prefix", "plugins"),
    [("frt-", "fastest_response_strategy"), ("topology-monitoring-", "failover_v2")],
)
def test_monitor_prefixes_reach_the_monitor_connections(
    cluster: Cluster, driver: str, prefix: str, plugins: str
) -> None:
    """``frt-`` (the peer's prefix) and ``topology-monitoring-``: driver parameters for the
    response-time monitors' and the topology monitor's connections only."""
    name = f"peer-{uuid.uuid4().hex[:8]}"
    params = {
        **cluster.conn_params(),
        "plugins": plugins,
        "cluster_id": name,
        f"{prefix}application_name": name,
    }
    conn = aw.connect(driver=driver, **params)
    try:
        conn.set_autocommit(True)
        assert scalar(conn, "SELECT current_setting('application_name')") != name
        sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"
        deadline = time.monotonic() + 10
        while scalar(conn, sql) == 0:  # the monitors connect in the background
            assert time.monotonic() < deadline, f"no connection named {name} on the writer"
            sleep(0.05)
    finally:
        conn.close()
