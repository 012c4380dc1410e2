"""aws_wrapper for asyncio: ``await aws_wrapper.aio.connect(...)``.

psycopg-style async API over psycopg's AsyncConnection, aiomysql and mysql.connector.aio::

    import aws_wrapper.aio

    async with await aws_wrapper.aio.connect(
        "host=... dbname=app user=app", plugins="failover_v2"
    ) as conn:
        cur = await conn.execute("SELECT 1")
        print(await cur.fetchone())

Properties that need I/O are methods here (``await conn.set_autocommit(True)``); reading
``conn.autocommit`` is free.
"""

from __future__ import annotations

from aws_wrapper._async.connection import (
    AsyncAwsWrapperConnection,
    connect,
)
from aws_wrapper._async.cursor import AsyncAwsWrapperCursor
from aws_wrapper._async.plugin import BasePlugin
from aws_wrapper._async.plugin_manager import register_plugin
from aws_wrapper._async.plugins.dev import simulator as error_simulator
from aws_wrapper._async.resources import release_resources
from aws_wrapper.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    paramstyle,
    threadsafety,
)
from aws_wrapper.errors import (
    AwsWrapperError,
    ConfigurationError,
    ConnectError,
    ConnectionClosedError,
    DatabaseError,
    DataError,
    Error,
    FailoverError,
    FailoverFailedError,
    FailoverSuccessError,
    IntegrityError,
    InterfaceError,
    InternalError,
    LoginError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    PropertyError,
    ReadWriteSplittingError,
    TransactionResolutionUnknownError,
    UnknownPluginError,
    UnsupportedDriverError,
    Warning,
)

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "AsyncAwsWrapperConnection",
    "AsyncAwsWrapperCursor",
    "AwsWrapperError",
    "BasePlugin",
    "Binary",
    "ConfigurationError",
    "ConnectError",
    "ConnectionClosedError",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "FailoverError",
    "FailoverFailedError",
    "FailoverSuccessError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "LoginError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "PropertyError",
    "ReadWriteSplittingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "TransactionResolutionUnknownError",
    "UnknownPluginError",
    "UnsupportedDriverError",
    "Warning",
    "apilevel",
    "connect",
    "error_simulator",
    "paramstyle",
    "register_plugin",
    "release_resources",
    "threadsafety",
]
