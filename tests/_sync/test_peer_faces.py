# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_peer_faces.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""aws-advanced-python-wrapper's extension points, used through the faces of its module names
(aws_wrapper.database_dialect, aws_wrapper.driver_dialect_manager, aws_wrapper.plugin_service,
the peer's pooled-provider arguments), on the devcluster: both worlds.

Written once as async code: tests/_sync/test_peer_faces.py is generated from it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from aws_wrapper import aurora_queries as q
from aws_wrapper import database_dialect, plugin_registry
from aws_wrapper import sync as aw
from aws_wrapper._compat import gather
from aws_wrapper._sync.drivers.psycopg import PsycopgDialect
from aws_wrapper._sync.drivers.pymysql import PyMySQLDialect
from aws_wrapper.database_dialect import DatabaseDialectManager
from aws_wrapper.driver_dialect_manager import DriverDialectManager
from aws_wrapper.errors import AwsConnectError, InterfaceError, PoolTimeoutError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugin import Plugin
from aws_wrapper.plugin_service import PluginManager
from aws_wrapper.properties import Properties
from aws_wrapper.sync import AwsWrapperConnection, PooledConnectionProvider
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def no_custom_dialects() -> Iterator[None]:
    yield
    DatabaseDialectManager.reset_custom_dialect()
    DriverDialectManager.reset_custom_dialect()


def scalar(conn: AwsWrapperConnection, sql: str) -> Any:
    cur = conn.execute(sql)
    row = cur.fetchone()
    assert row is not None
    cur.fetchall()
    conn.rollback()
    return row[0]


def backend_of(conn: AwsWrapperConnection) -> int:
    pg = conn.driver_dialect.engine == "postgresql"
    return int(scalar(conn, "SELECT pg_backend_pid()" if pg else "SELECT CONNECTION_ID()"))


# -- the peer's pooled-provider arguments ---------------------------------------------------


def test_peer_pool_arguments_size_key_and_accept(cluster: Cluster, driver: str) -> None:
    configured: list[tuple[str, str]] = []

    def configure(host_info: HostInfo, props: dict[str, Any]) -> dict[str, Any]:
        configured.append((host_info.url, props["user"]))
        return {"pool_size": 1, "max_overflow": 1, "timeout": 0.5, "pre_ping": True}

    def mapping(host_info: HostInfo, props: dict[str, Any]) -> str:
        return f"peer-{props['user']}"

    provider = PooledConnectionProvider(configure, mapping, lambda h, p: True)
    params = cluster.conn_params(cluster.writer)
    url = f"{params['host']}:{params['port']}"
    opened: list[AwsWrapperConnection] = []
    try:
        for _ in range(2):
            opened.append(
                aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
            )
        # pool_size 1 + max_overflow 1: a third connection waits 0.5 s, then fails
        with pytest.raises(PoolTimeoutError):
            aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
        first = backend_of(opened[0])
        opened.pop(0).close()
        again = aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
        opened.append(again)
        assert backend_of(again) == first  # the pooled connection came back
        assert provider.keys() == [f"{url}/peer-{params['user']}"]
        assert provider.num_pools == 1 and provider.pool_urls == {url}
        assert configured == [(url, params["user"])]  # once per pool
    finally:
        for conn in opened:
            conn.close()
        provider.release_resources()


def test_peer_accept_url_func_false_gives_plain_connections(cluster: Cluster, driver: str) -> None:
    provider = PooledConnectionProvider(accept_url_func=lambda h, p: False)
    params = cluster.conn_params(cluster.writer)
    conn = aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
    try:
        first = backend_of(conn)
    finally:
        conn.close()
    conn = aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
    try:
        assert backend_of(conn) != first
        assert provider.num_pools == 0
    finally:
        conn.close()
        provider.release_resources()


def test_peer_pool_configurator_bad_argument_is_named() -> None:
    provider = PooledConnectionProvider(lambda h, p: {"pool_sise": 3})
    host = HostInfo("db.example.com", 5432)
    with pytest.raises(aw.ConfigurationError, match="pool_sise"):
        provider.settings_for(host, Properties({}, {"user": "app"}))
    assert PooledConnectionProvider().settings.max_size == 10  # ours unchanged
    provider = PooledConnectionProvider(lambda h, p: {"pool_size": 2, "max_overflow": -1})
    assert provider.settings_for(host, Properties({}, {})).max_size == 2**31 - 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"pool_size": "five"}, "'pool_size' must be a number"),
        ({"timeout": None}, "'timeout' must be a number"),
        ({"recycle": float("nan")}, "'recycle' must be a number"),
        ({"pool_size": 2.5}, "'pool_size' must be a whole number"),
        ({"timeout": float("inf")}, "'timeout' must be > 0 and finite"),
    ],
)
def test_peer_pool_configurator_bad_values_are_named(args: dict[str, Any], error: str) -> None:
    provider = PooledConnectionProvider(lambda h, p: args)
    with pytest.raises(aw.ConfigurationError, match=error):
        provider.settings_for(HostInfo("db.example.com", 5432), Properties({}, {}))


def test_peer_pool_size_zero_sets_no_cap() -> None:
    """As SQLAlchemy's QueuePool: pool_size=0 is no limit."""
    provider = PooledConnectionProvider(lambda h, p: {"pool_size": 0})
    settings = provider.settings_for(HostInfo("db.example.com", 5432), Properties({}, {}))
    assert settings.max_size == 2**31 - 1


def test_a_slow_pool_configurator_builds_one_pool(cluster: Cluster, driver: str) -> None:
    """Concurrent first connects to a host while the (application's) pool configurator runs:
    each gets a working pooled connection, and the provider keeps one pool for the host."""
    calls: list[int] = []

    def configurator(host: HostInfo, props: Any) -> dict[str, Any]:
        calls.append(1)
        time.sleep(0.2)  # the application's code: may take its time
        return {"pool_size": 4, "max_overflow": 0}

    provider = PooledConnectionProvider(configurator)
    params = cluster.conn_params(cluster.writer)

    def one() -> int:
        conn = aw.connect(driver=driver, plugins="", connection_provider=provider, **params)
        try:
            return int(scalar(conn, "SELECT 1"))
        finally:
            conn.close()

    try:
        assert gather(one, one) == [1, 1]
        assert len(calls) <= 2 and len(provider.keys()) == 1
    finally:
        provider.release_resources()


# -- custom database and driver dialects ----------------------------------------------------


class PeerStyleDialect:
    """A custom dialect the peer's way: queries only (no class of ours)."""

    def __init__(self, engine: str) -> None:
        pg = engine == "pg"
        self.default_port = 5432 if pg else 3306
        self.is_reader_query = (q.PG_IS_READER if pg else q.MYSQL_IS_READER).sql
        self.host_id_query = (q.PG_HOST_ID if pg else q.MYSQL_HOST_ID).sql
        self.topology_query = (q.PG_TOPOLOGY if pg else q.MYSQL_TOPOLOGY).sql


def test_custom_database_dialect_is_used_on_connect(cluster: Cluster, driver: str) -> None:
    engine = "pg" if driver == "psycopg" else "mysql"
    DatabaseDialectManager.set_custom_dialect(PeerStyleDialect(engine))
    assert isinstance(DatabaseDialectManager.get_custom_dialect(), PeerStyleDialect)
    conn = aw.connect(driver=driver, plugins="read_write_splitting", **cluster.conn_params())
    try:
        assert conn.dialect_code == "custom"
        writer = instance_of(conn)
        # its topology query told read/write splitting where the readers are
        conn.set_read_only(True)
        assert instance_of(conn) != writer
    finally:
        conn.close()
    DatabaseDialectManager.reset_custom_dialect()
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params())
    try:
        assert conn.dialect_code == ("aurora-pg" if engine == "pg" else "aurora-mysql")
    finally:
        conn.close()


class ReaderPg(database_dialect.AuroraPgDialect):
    """A peer-style override of one query on a subclass of one of our dialects."""

    is_reader_query = "SELECT true"


class ReaderMysql(database_dialect.AuroraMysqlDialect):
    is_reader_query = "SELECT 1"


def test_a_query_overridden_by_the_peer_name_wins(cluster: Cluster, driver: str) -> None:
    DatabaseDialectManager.set_custom_dialect(ReaderPg() if driver == "psycopg" else ReaderMysql())
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params(cluster.writer))
    try:
        dialect = conn._service.dialect
        assert dialect.is_reader(conn.driver_connection, conn.driver_dialect) is True
    finally:
        conn.close()
        DatabaseDialectManager.reset_custom_dialect()


DIALECT_CLASSES: dict[str, Any] = {"psycopg": PsycopgDialect, "pymysql": PyMySQLDialect}


def test_custom_driver_dialect_is_used_on_connect(cluster: Cluster, driver: str) -> None:
    opened: list[HostInfo] = []
    base = DIALECT_CLASSES[driver]

    class CountingDialect(base):  # type: ignore[misc, valid-type]
        def connect(self, host: HostInfo, props: Properties) -> Any:
            opened.append(host)
            return super().connect(host, props)

    DriverDialectManager.set_custom_dialect(CountingDialect)
    assert DriverDialectManager.get_custom_dialect() is CountingDialect
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params())
    try:
        assert isinstance(conn.driver_dialect, CountingDialect)
        assert [h.host for h in opened] == [cluster.cluster_host]
        assert scalar(conn, "SELECT 1") == 1
    finally:
        conn.close()
    # a dialect of the other engine is not used
    other = "pymysql" if driver == "psycopg" else "psycopg"
    DriverDialectManager.set_custom_dialect(DIALECT_CLASSES[other])
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params())
    try:
        assert type(conn.driver_dialect) is base
    finally:
        conn.close()


# -- a plugin written the peer's way --------------------------------------------------------


class PeerCountingPlugin(Plugin):
    connects: list[tuple[str, bool]] = []
    executes: list[tuple[str, object]] = []

    def __init__(self, plugin_service: object, props: dict[str, Any]) -> None:
        self.props = props

    @property
    def subscribed_methods(self) -> set[str]:
        return {"connect", "Cursor.execute"}

    def connect(
        self,
        target_driver_func: Any,
        driver_dialect: Any,
        host_info: HostInfo,
        props: dict[str, Any],
        is_initial_connection: bool,
        connect_func: Any,
    ) -> Any:
        PeerCountingPlugin.connects.append((host_info.host, is_initial_connection))
        return connect_func()

    def execute(self, target: object, method_name: str, execute_func: Any, *args: Any) -> Any:
        PeerCountingPlugin.executes.append((method_name, args[0] if args else None))
        return execute_func()


class PeerCountingPluginFactory:
    @staticmethod
    def get_instance(plugin_service: object, props: dict[str, Any]) -> Plugin:
        return PeerCountingPlugin(plugin_service, props)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql", "mysql-connector"])
def test_peer_style_plugin_runs_in_the_pipeline(cluster: Cluster, driver: str) -> None:
    PluginManager.register_plugin("peer_counting", PeerCountingPluginFactory)
    PeerCountingPlugin.connects.clear()
    PeerCountingPlugin.executes.clear()
    try:
        conn = aw.connect(driver=driver, plugins="peer_counting", **cluster.conn_params())
        try:
            assert scalar(conn, "SELECT 42") == 42
        finally:
            conn.close()
    finally:
        plugin_registry._unregister("peer_counting")
    assert PeerCountingPlugin.connects == [(cluster.cluster_host, True)]
    assert ("Cursor.execute", "SELECT 42") in PeerCountingPlugin.executes


# -- the peer's except clauses catch what aws_wrapper raises ---------------------------------


def test_peer_except_clauses_catch_our_errors(cluster: Cluster, driver: str) -> None:
    params = {**cluster.conn_params(), "port": 1}
    try:
        aw.connect(driver=driver, plugins="", connect_timeout=2, **params)
    except AwsConnectError as e:  # the peer's class for a failed connect
        assert "password" not in str(e).lower() or "***" in str(e)
    else:
        pytest.fail("connect to port 1 succeeded")
    conn = aw.connect(driver=driver, plugins="read_write_splitting", **cluster.conn_params())
    try:
        # a transaction is open (MySQL opens none for a SELECT without tables)
        conn.execute("SELECT 1" if driver == "psycopg" else "BEGIN")
        assert conn.in_transaction
        with pytest.raises(InterfaceError):  # the peer's ReadWriteSplittingError is one
            conn.set_read_only(True)
        conn.rollback()
    finally:
        conn.close()
