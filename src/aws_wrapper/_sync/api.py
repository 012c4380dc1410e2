# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/api.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The public names of this world, gathered once; the package of this world
(``aws_wrapper``) re-exports them."""

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
    BlueGreenError,
    BlueGreenTimeoutError,
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
    GreenEndpointRejectedError,
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
    AwsWrapperConnection,
    connect,
)
from .cursor import AwsWrapperCursor
from .plugin import BasePlugin
from .plugin_manager import register_plugin
from .plugins.dev import simulator as error_simulator
from .pooled_connection_provider import (
    PooledConnectionProvider,
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
    "AwsWrapperConnection",
    "AwsWrapperCursor",
    "PooledConnectionProvider",
    "AwsAuthError",
    "AwsCredentials",
    "AwsWrapperError",
    "BasePlugin",
    "Binary",
    "BlueGreenError",
    "BlueGreenTimeoutError",
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
    "GreenEndpointRejectedError",
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
