"""Migration by changing the import: every public name aws-advanced-python-wrapper 3.1.0
exports from the modules its users import exists at the same path under ``aws_wrapper``
(the list is kept here, literal; it was taken from the peer's 3.1.0 wheel), and the faces
behave: SQLAlchemy creator engines, the SQLAlchemy pooled provider installed through
``ConnectionProviderManager``, the async modules, errors caught by the peer's except clauses.

The extension points (custom dialects, peer-style plugins, the pooled providers' peer
arguments) are tested in both worlds in tests/_async/test_peer_faces.py.
"""

from __future__ import annotations

import importlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

import aws_wrapper
from aws_wrapper_devcluster import Cluster

PEER = "aws_advanced_python_wrapper"

PEER_NAMES: dict[str, list[str]] = {
    "aws_advanced_python_wrapper": [
        "AwsWrapperConnection", "release_resources", "set_logger", "Warning", "Error",
        "InterfaceError", "DatabaseError", "DataError", "OperationalError", "IntegrityError",
        "InternalError", "ProgrammingError", "NotSupportedError", "Date", "Time", "Timestamp",
        "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary", "STRING", "BINARY",
        "NUMBER", "DATETIME", "ROWID", "apilevel", "threadsafety", "paramstyle", "connect",
    ],
    "aws_advanced_python_wrapper.errors": [
        "AwsWrapperError", "UnsupportedOperationError", "QueryTimeoutError", "FailoverError",
        "TransactionResolutionUnknownError", "FailoverFailedError", "FailoverSuccessError",
        "ReadWriteSplittingError", "AwsConnectError", "Error", "InterfaceError",
        "NotSupportedError", "OperationalError",
    ],
    "aws_advanced_python_wrapper.pep249": [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
        "ConnectionTimeout", "PipelineAborted", "Connection", "Cursor",
    ],
    "aws_advanced_python_wrapper.hostinfo": [
        "Topology", "HostRole", "HostInfo", "HostAvailability", "HostAvailabilityStrategy",
    ],
    "aws_advanced_python_wrapper.connection_provider": [
        "ConnectionProvider", "DriverConnectionProvider", "ConnectionProviderManager",
    ],
    "aws_advanced_python_wrapper.sql_alchemy_connection_provider": [
        "SqlAlchemyPooledConnectionProvider",
    ],
    "aws_advanced_python_wrapper.psycopg": [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "Date",
        "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
        "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "apilevel", "threadsafety",
        "paramstyle", "connect",
    ],
    "aws_advanced_python_wrapper.mysql_connector": [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "Date",
        "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
        "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "apilevel", "threadsafety",
        "paramstyle", "connect",
    ],
    "aws_advanced_python_wrapper.database_dialect": [
        "DialectCode", "TargetDriverType", "TopologyAwareDatabaseDialect",
        "GlobalAuroraTopologyDialect", "AuroraLimitlessDialect", "DatabaseDialect",
        "DatabaseDialectProvider", "MysqlDatabaseDialect", "PgDatabaseDialect",
        "BlueGreenDialect", "RdsMysqlDialect", "RdsPgDialect", "AuroraMysqlDialect",
        "AuroraPgDialect", "GlobalAuroraMysqlDialect", "GlobalAuroraPgDialect",
        "MultiAzClusterMysqlDialect", "MultiAzClusterPgDialect", "UnknownDatabaseDialect",
        "DatabaseDialectManager", "DialectUtils",
    ],
    "aws_advanced_python_wrapper.driver_dialect_manager": [
        "DriverDialectProvider", "DriverDialectManager",
    ],
    "aws_advanced_python_wrapper.plugin_service": [
        "PluginServiceManagerContainer", "PluginService", "PluginServiceImpl",
        "PluginChainCallableInfo", "PluginManager",
    ],
    "aws_advanced_python_wrapper.plugin": ["Plugin", "PluginFactory", "CanReleaseResources"],
    "aws_advanced_python_wrapper.aio": [
        "AsyncAwsWrapperConnection", "AsyncPooledConnectionProvider", "release_resources_async",
        "register_shutdown_hook",
    ],
    "aws_advanced_python_wrapper.aio.psycopg": [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "Date",
        "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
        "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "apilevel", "threadsafety",
        "paramstyle", "connect",
    ],
    "aws_advanced_python_wrapper.aio.aiomysql": [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "Date",
        "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
        "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "apilevel", "threadsafety",
        "paramstyle", "connect",
    ],
    "aws_advanced_python_wrapper.aio.connection_provider": [
        "AsyncConnectionProvider", "AsyncDriverConnectionProvider",
        "AsyncConnectionProviderManager",
    ],
    "aws_advanced_python_wrapper.aio.pooled_connection_provider": [
        "AsyncPooledConnectionProvider",
    ],
}  # fmt: skip
"""Public names of the peer's 3.1.0 modules (``__all__`` where it has one, else what the
module defines, plus the exception classes ``errors`` re-exports and the availability names
``hostinfo`` re-exports; private names, loggers and type variables left out)."""

NOT_PROVIDED: dict[str, str] = {
    "aws_advanced_python_wrapper.hostinfo.HostAvailabilityStrategy": (
        "host availability is set by the availability-strategy properties, not an object"
    ),
    "aws_advanced_python_wrapper.database_dialect.AuroraLimitlessDialect": (
        "no Aurora Limitless support"
    ),
    "aws_advanced_python_wrapper.database_dialect.BlueGreenDialect": (
        "the bg plugin reads the status with aws_wrapper's own dialects (blue_green_sql)"
    ),
    "aws_advanced_python_wrapper.database_dialect.DatabaseDialectProvider": (
        "the peer's internal dialect-choosing protocol; dialects are chosen on connect"
    ),
    "aws_advanced_python_wrapper.database_dialect.UnknownDatabaseDialect": (
        "an unknown server is detected and gets the engine's plain dialect"
    ),
    "aws_advanced_python_wrapper.database_dialect.DialectUtils": "the peer's internal helpers",
    "aws_advanced_python_wrapper.driver_dialect_manager.DriverDialectProvider": (
        "the peer's internal driver-dialect-choosing protocol"
    ),
    "aws_advanced_python_wrapper.plugin_service.PluginServiceManagerContainer": (
        "the peer's internal wiring of plugin service and manager"
    ),
    "aws_advanced_python_wrapper.plugin_service.PluginChainCallableInfo": (
        "the peer's internal pipeline record"
    ),
}
"""Peer names with no face, and why (docs/migration.md lists them too)."""


def ours(peer_module: str) -> str:
    return "aws_wrapper" + peer_module[len(PEER) :]


@pytest.mark.parametrize("peer_module", sorted(PEER_NAMES))
def test_every_peer_name_imports_from_aws_wrapper(peer_module: str) -> None:
    module = importlib.import_module(ours(peer_module))
    missing = [
        name
        for name in PEER_NAMES[peer_module]
        if f"{peer_module}.{name}" not in NOT_PROVIDED and not hasattr(module, name)
    ]
    assert missing == [], f"{ours(peer_module)} lacks {missing}"
    for name in PEER_NAMES[peer_module]:
        if f"{peer_module}.{name}" not in NOT_PROVIDED:
            exec(f"from {ours(peer_module)} import {name}", {})


def test_not_provided_names_are_peer_names() -> None:
    for qualified in NOT_PROVIDED:
        module, _, name = qualified.rpartition(".")
        assert name in PEER_NAMES[module]


def test_pep249_names_are_one_hierarchy() -> None:
    """Every module's exception classes are aws_wrapper's own (one ``except`` catches all)."""
    for peer_module, names in PEER_NAMES.items():
        module = importlib.import_module(ours(peer_module))
        for name in names:
            if name.endswith("Error") and name in aws_wrapper.errors.PEP249_ERROR_NAMES:
                assert getattr(module, name) is getattr(aws_wrapper.errors, name), (
                    f"{ours(peer_module)}.{name}"
                )


# -- errors: the peer's hierarchy and constructor --------------------------------------------


def test_peer_error_hierarchy() -> None:
    from aws_wrapper import errors as e
    from aws_wrapper import pep249

    expected_bases = {
        e.UnsupportedOperationError: (e.AwsWrapperError, e.NotSupportedError),
        e.QueryTimeoutError: (e.AwsWrapperError, e.OperationalError),
        e.AwsConnectError: (e.AwsWrapperError, e.OperationalError),
        e.FailoverError: (e.OperationalError,),
        e.FailoverSuccessError: (e.FailoverError,),
        e.FailoverFailedError: (e.FailoverError,),
        e.TransactionResolutionUnknownError: (e.FailoverError,),
        e.ReadWriteSplittingError: (e.AwsWrapperError, e.InterfaceError, e.OperationalError),
        pep249.ConnectionTimeout: (e.OperationalError,),
        pep249.PipelineAborted: (e.OperationalError,),
    }
    for cls, bases in expected_bases.items():
        for base in bases:
            assert issubclass(cls, base), f"{cls.__name__} is not a {base.__name__}"
    # our classes that play the peer's roles are its classes' subclasses
    assert issubclass(e.ConnectError, e.AwsConnectError)
    assert issubclass(e.LoginError, e.AwsConnectError)


def test_aws_wrapper_error_takes_the_peers_arguments() -> None:
    from aws_wrapper.errors import AwsWrapperError, FailoverFailedError

    driver_error = OSError("connection reset")
    error = AwsWrapperError(message="it failed", original_error=driver_error)
    assert str(error) == "it failed" and error.driver_error is driver_error
    # wrapping a wrapper error keeps the driver's error, as on the peer
    assert AwsWrapperError("again", error).driver_error is driver_error
    assert AwsWrapperError().driver_error is None and str(AwsWrapperError()) == ""
    try:
        try:
            raise driver_error
        except OSError as cause:
            raise FailoverFailedError("no healthy host") from cause
    except FailoverFailedError as raised:
        assert raised.driver_error is driver_error  # from the cause


# -- set_logger --------------------------------------------------------------------------------


@pytest.fixture
def wrapper_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("aws_wrapper")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_set_logger_takes_the_peers_logger_name(
    wrapper_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    wrapper_logger.handlers[:] = [
        h for h in wrapper_logger.handlers if type(h) is not logging.StreamHandler
    ]
    aws_wrapper.set_logger(name=PEER, level=logging.INFO, format_string="%(levelname)s %(message)s")
    assert wrapper_logger.level == logging.INFO
    wrapper_logger.info("hello")
    wrapper_logger.debug("not shown")
    assert out.getvalue() == "INFO hello\n"
    aws_wrapper.set_logger(name=PEER)  # a stream handler is there: nothing added
    assert sum(isinstance(h, logging.StreamHandler) for h in wrapper_logger.handlers) == 1


# -- the driver-bound modules: PEP 249 surface and forwarding -------------------------------


def test_driver_modules_forward_other_names_to_the_driver() -> None:
    import mysql.connector
    import psycopg

    import aws_wrapper.mysql_connector
    import aws_wrapper.psycopg

    assert aws_wrapper.psycopg.adapters is psycopg.adapters
    assert aws_wrapper.psycopg.pq is psycopg.pq
    assert aws_wrapper.mysql_connector.FieldType is mysql.connector.FieldType
    assert aws_wrapper.psycopg.Error is aws_wrapper.Error  # ours, not the driver's
    assert aws_wrapper.psycopg.paramstyle == "pyformat"
    with pytest.raises(AttributeError, match="no_such_name"):
        aws_wrapper.psycopg.no_such_name  # noqa: B018


# -- behaviour on the devcluster -----------------------------------------------------------


@pytest.fixture
def pg_cluster(request: pytest.FixtureRequest) -> Cluster:
    c: Cluster = request.getfixturevalue("devcluster_pg")
    return c


@pytest.fixture
def mysql_cluster(request: pytest.FixtureRequest) -> Cluster:
    c: Cluster = request.getfixturevalue("devcluster_mysql")
    return c


@pytest.fixture(autouse=True)
def release() -> Iterator[None]:
    yield
    aws_wrapper.release_resources()


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("postgresql+aws_wrapper_psycopg://", {}),
        ("postgresql+psycopg://", {"use_native_hstore": False}),
    ],
)
def test_sqlalchemy_creator_engine_postgresql(
    pg_cluster: Cluster, url: str, options: dict[str, Any]
) -> None:
    """The peer's PGSQLAlchemyFailover example, import renamed. As on the peer, the URL names
    the wrapper's dialect: SQLAlchemy's stock psycopg dialect hands the connection to
    ``psycopg.TypeInfo.fetch``, which accepts real psycopg connections only, unless told not
    to look hstore up."""
    from aws_wrapper.psycopg import connect

    p = pg_cluster.conn_params()
    engine = create_engine(
        url,
        **options,
        creator=lambda: connect(
            f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']} "
            f"password={p['password']}",
            wrapper_dialect="aurora-pg",
            plugins="failover_v2,host_monitoring_v2",
        ),
    )
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 40 + 2")).scalar() == 42
            instance = conn.execute(text("SELECT pg_catalog.aurora_db_instance_identifier()"))
            assert instance.scalar() == pg_cluster.writer
            assert isinstance(conn.connection.dbapi_connection, aws_wrapper.AwsWrapperConnection)
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql+aws_wrapper_mysqlconnector://", "mysql+mysqlconnector://"])
def test_sqlalchemy_creator_engine_mysql(mysql_cluster: Cluster, url: str) -> None:
    """The peer's MySQLSQLAlchemyFailover example (a conninfo string for MySQL too), import
    renamed; SQLAlchemy's stock mysql-connector dialect works as well."""
    from aws_wrapper.mysql_connector import connect

    p = mysql_cluster.conn_params()
    engine = create_engine(
        url,
        creator=lambda: connect(
            f"host={p['host']} port={p['port']} database={p['database']} user={p['user']} "
            f"password={p['password']}",
            wrapper_dialect="aurora-mysql",
            plugins="failover_v2",
            use_pure=True,
        ),
    )
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 40 + 2")).scalar() == 42
            assert conn.execute(text("SELECT @@aurora_server_id")).scalar() == mysql_cluster.writer
            assert isinstance(conn.connection.dbapi_connection, aws_wrapper.AwsWrapperConnection)
    finally:
        engine.dispose()


def test_conninfo_for_mysql_modules() -> None:
    from aws_wrapper._peer import conninfo_kwargs

    assert conninfo_kwargs("host=h  database=db user = u password='a b\\'c'") == {
        "host": "h",
        "database": "db",
        "user": "u",
        "password": "a b'c",
    }
    with pytest.raises(aws_wrapper.ConfigurationError, match="unterminated"):
        conninfo_kwargs("password='abc")


@pytest.mark.parametrize("engine_name", ["pg", "mysql"])
def test_sqlalchemy_pooled_provider_via_connection_provider_manager(
    request: pytest.FixtureRequest, engine_name: str
) -> None:
    """The peer's read/write splitting with internal pools example, import renamed."""
    from aws_wrapper import AwsWrapperConnection
    from aws_wrapper.connection_provider import ConnectionProviderManager
    from aws_wrapper.hostinfo import HostInfo
    from aws_wrapper.sql_alchemy_connection_provider import SqlAlchemyPooledConnectionProvider

    cluster: Cluster = request.getfixturevalue(f"devcluster_{engine_name}")
    if engine_name == "pg":
        import psycopg

        target: Any = psycopg.Connection.connect
        instance_sql, backend_sql = (
            "SELECT pg_catalog.aurora_db_instance_identifier()",
            "SELECT pg_backend_pid()",
        )
    else:
        import mysql.connector

        target = mysql.connector.connect
        instance_sql, backend_sql = "SELECT @@aurora_server_id", "SELECT CONNECTION_ID()"

    def configure_pool(host_info: HostInfo, props: dict[str, Any]) -> dict[str, Any]:
        return {"pool_size": 2, "max_overflow": 0}

    provider = SqlAlchemyPooledConnectionProvider(configure_pool)
    ConnectionProviderManager.set_connection_provider(provider)
    manager = ConnectionProviderManager()
    try:
        seen: list[tuple[str, int]] = []
        for _ in range(3):
            conn = AwsWrapperConnection.connect(
                target, **cluster.conn_params(), plugins="read_write_splitting"
            )
            try:
                conn.read_only = True
                with conn.cursor() as cur:
                    cur.execute(instance_sql)
                    row = cur.fetchone()
                    cur.execute(backend_sql)
                    backend = cur.fetchone()
                assert row is not None and backend is not None
                assert row[0] != cluster.writer
                seen.append((str(row[0]), int(backend[0])))
                conn.rollback()
            finally:
                conn.close()
        # the reader connections came from the pools: one backend per reader at most
        per_reader = {instance: {b for i, b in seen if i == instance} for instance, _ in seen}
        assert all(len(backends) == 1 for backends in per_reader.values()), seen
        assert provider.num_pools >= 1
        reader = HostInfo(cluster.instance_host(seen[0][0]), cluster.port)
        props = aws_wrapper.properties.Properties({}, {"user": "app"})
        assert manager.get_connection_provider(reader, props) is provider
        cluster_host = HostInfo(cluster.cluster_host, cluster.port)
        assert manager.get_connection_provider(cluster_host, props) is manager.default_provider
        assert manager.accepts_strategy(aws_wrapper.hostinfo.HostRole.READER, "random")
    finally:
        ConnectionProviderManager.release_resources()
        ConnectionProviderManager.reset_provider()
    assert provider.num_pools == 0
    assert aws_wrapper.get_connection_provider() is None


async def test_aio_modules_connect_and_release(pg_cluster: Cluster, mysql_cluster: Cluster) -> None:
    import aws_wrapper.aio.aiomysql
    import aws_wrapper.aio.psycopg
    from aws_wrapper.aio import (
        AsyncAwsWrapperConnection,
        AsyncPooledConnectionProvider,
        register_shutdown_hook,
        release_resources_async,
    )
    from aws_wrapper.aio.connection_provider import AsyncConnectionProviderManager

    provider = AsyncPooledConnectionProvider(lambda h, p: {"pool_size": 1, "max_overflow": 0})
    AsyncConnectionProviderManager.set_connection_provider(provider)
    try:
        pg = await aws_wrapper.aio.psycopg.connect(
            **pg_cluster.conn_params(pg_cluster.writer), plugins=""
        )
        my = await aws_wrapper.aio.aiomysql.connect(
            **mysql_cluster.conn_params(mysql_cluster.writer), plugins=""
        )
        for conn in (pg, my):
            assert isinstance(conn, AsyncAwsWrapperConnection)
            cur = await conn.execute("SELECT 7")
            assert await cur.fetchone() in ((7,), [7])
            await conn.close()
        assert provider.num_pools == 2
    finally:
        AsyncConnectionProviderManager.reset_provider()
    ran: list[str] = []

    async def hook() -> None:
        ran.append("hook")

    register_shutdown_hook(hook)
    await release_resources_async()
    assert ran == ["hook"]
    assert provider.num_pools == 0  # the event loop's pools were closed
    await release_resources_async()
    assert ran == ["hook"]  # a hook runs once


def test_a_connection_provider_of_the_other_api_is_a_clear_error() -> None:
    """An async pooled provider given to blocking code (or the reverse) is refused with an
    aws_wrapper.Error naming where it was given, not an AttributeError at the first connect."""
    from aws_wrapper.aio import AsyncPooledConnectionProvider
    from aws_wrapper.connection_provider import ConnectionProviderManager

    with pytest.raises(aws_wrapper.ConfigurationError, match=r"set_connection_provider.*async"):
        other: Any = AsyncPooledConnectionProvider()
        ConnectionProviderManager.set_connection_provider(other)
    with pytest.raises(aws_wrapper.ConfigurationError, match=r"'connection_provider'.*async"):
        aws_wrapper.connect(
            driver="psycopg",
            host="127.0.0.1",
            connection_provider=AsyncPooledConnectionProvider(),
        )
