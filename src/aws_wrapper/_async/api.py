"""The public names of this world, gathered once; the package of this world
(``aws_wrapper.aio``) re-exports them."""

from __future__ import annotations

from aws_wrapper.aws.credentials import AwsCredentials, set_credentials_provider
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
    AwsAuthError,
    AwsWrapperError,
    ConfigurationError,
    ConnectError,
    ConnectionClosedError,
    DatabaseError,
    DataError,
    DuplicatePluginError,
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
    PoolTimeoutError,
    ProgrammingError,
    PropertyError,
    ReadWriteSplittingError,
    TransactionResolutionUnknownError,
    UnknownPluginError,
    UnsupportedDriverError,
    Warning,
)
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.resolver import NameResolver, get_name_resolver, set_name_resolver

from .connection import (
    AsyncAwsWrapperConnection,
    connect,
)
from .cursor import AsyncAwsWrapperCursor
from .plugin import BasePlugin
from .plugin_manager import register_plugin
from .plugins.dev import simulator as error_simulator
from .pooled_connection_provider import (
    AsyncPooledConnectionProvider,
    get_connection_provider,
    set_connection_provider,
)
from .resources import release_resources

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "AsyncAwsWrapperConnection",
    "AsyncAwsWrapperCursor",
    "AsyncPooledConnectionProvider",
    "AwsAuthError",
    "AwsCredentials",
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
    "DuplicatePluginError",
    "Error",
    "FailoverError",
    "FailoverFailedError",
    "FailoverSuccessError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "LoginError",
    "NameResolver",
    "NotSupportedError",
    "OperationalError",
    "PoolSettings",
    "PoolTimeoutError",
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
    "get_connection_provider",
    "get_name_resolver",
    "paramstyle",
    "register_plugin",
    "release_resources",
    "set_connection_provider",
    "set_credentials_provider",
    "set_name_resolver",
    "threadsafety",
]
