"""mysql-connector-python, what both worlds share: parameters, TLS for tokens, state reads,
error classification. The dialects themselves are ``aws_wrapper._async.drivers.mysql_connector``
(``mysql.connector.aio``, written once) and its generated twin
``aws_wrapper._sync.drivers.mysql_connector`` (``mysql.connector``)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from functools import partial
from operator import attrgetter
from typing import Any

from mysql.connector import errors as mc_errors
from mysql.connector.constants import CNX_POOL_ARGS, DEFAULT_CONFIGURATION

from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ._base import (
    MYSQL_LOGIN_ERRNOS,
    MYSQL_NETWORK_ERRNOS,
    SOCKET_ERRORS,
    MySQLDialectBase,
    mysql_errno,
    peer_network,
)

_PURE_CONNECTION_MODULES = frozenset(
    {"mysql.connector.connection", "mysql.connector.aio.connection"}
)
_IN_TRANSACTION_FLAG = attrgetter("_in_transaction")

# What the blocking pure-Python connection's cursor() refers to (its code's global and attribute
# names) in mysql-connector-python 9.0 and 26.10 (both read), besides its cursor classes
# (MySQLCursor*): with no arguments but a cursor class, both handle a result left unread, ping
# the server (is_connected), and make the cursor as cursor_class(conn) (see native_cursor_maker);
# the other names serve its other arguments (9.0's named_tuple warning, 26.10's timeouts).
_KNOWN_CURSOR_NAMES = frozenset(
    {
        "__name__",
        "raise_warning_against_deprecated_cursor_class",
        "InterfaceError",
        "KeyError",
        "OperationalError",
        "ProgrammingError",
        "ValueError",
        "_buffered",
        "_raw",
        "handle_unread_result",
        "int",
        "is_connected",
        "isinstance",
        "issubclass",
        "join",
        "range",
    }
)

_PARAMS = frozenset(DEFAULT_CONFIGURATION) | frozenset(CNX_POOL_ARGS) | {"option_files"}
_NETWORK_TEXT = ("Connection not available", "Lost connection", "gone away", "Broken pipe")


CLOSE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    *SOCKET_ERRORS,
    mc_errors.Error,
)
"""What closing a connection politely may raise (then it is closed without a goodbye)."""


class MysqlConnectorDialectBase(MySQLDialectBase):
    """What the mysql.connector dialects of both worlds share (no I/O here)."""

    connect_timeout_param = "connection_timeout"  # the aio API knows no connect_timeout
    # cursor() checks the connection and fails on a lost one: it counts as network-bound
    network_bound_methods = MySQLDialectBase.network_bound_methods | {"Connection.cursor"}

    def __init__(self) -> None:
        super().__init__()
        # mysql.connector keeps believing an aborted socket is connected: remember them
        self._aborted: weakref.WeakSet[Any] = weakref.WeakSet()

    def driver_params(self) -> frozenset[str] | None:
        return _PARAMS

    def _connect_kwargs(self, host: HostInfo, props: Properties) -> dict[str, Any]:
        kwargs = super()._connect_kwargs(host, props)
        if "connect_timeout" in kwargs:  # the aio API takes connection_timeout only
            value = kwargs.pop("connect_timeout")
            kwargs.setdefault("connection_timeout", value)
        net = peer_network(props)
        if net is not None:
            timeout = net.whole_timeout  # mysql.connector takes whole seconds
            if timeout is not None:
                kwargs.setdefault("read_timeout", timeout)
                kwargs.setdefault("write_timeout", timeout)
        return kwargs

    def token_login_params(
        self, driver_props: Mapping[str, Any], ca_file: str | None
    ) -> dict[str, Any]:
        """mysql.connector sends a cleartext password only over TLS, with its
        ``mysql_clear_password`` plugin named; verification as in :func:`tls_context`."""
        params: dict[str, Any] = {}
        if "auth_plugin" not in driver_props:
            params["auth_plugin"] = "mysql_clear_password"
        if "ssl_disabled" not in driver_props:
            params["ssl_disabled"] = False
        if ca_file is not None and "ssl_ca" not in driver_props:
            params.update(ssl_ca=ca_file, ssl_verify_cert=True, ssl_verify_identity=True)
        return params

    def get_autocommit(self, conn: Any) -> bool:
        # the driver's own property asks the server; this is the state it tracks
        return bool(conn._autocommit)

    def in_transaction(self, conn: Any) -> bool:
        return bool(conn.in_transaction)

    # read before every guarded call (see DriverDialect.in_transaction): no frame of ours
    transaction_state = staticmethod(attrgetter("in_transaction"))
    transaction_open = staticmethod(bool)

    @staticmethod
    def transaction_state_for(conn: Any) -> Any:
        """``transaction_state`` for ``conn``: the pure-Python connections (blocking and
        asyncio) keep the flag in ``_in_transaction``, read with no Python frame (their
        ``in_transaction`` property is one); the C extension's connection has its own
        (a property asking its C part), read through ``in_transaction``."""
        if type(conn).__module__ in _PURE_CONNECTION_MODULES and hasattr(conn, "_in_transaction"):
            return _IN_TRANSACTION_FLAG
        return attrgetter("in_transaction")

    def is_network_error(self, error: BaseException) -> bool:
        if isinstance(error, SOCKET_ERRORS):
            return True
        if isinstance(error, mc_errors.Error):
            errno = mysql_errno(error)
            if errno in MYSQL_NETWORK_ERRNOS:
                return True
            if errno in MYSQL_LOGIN_ERRNOS:
                return False
            text = str(error)
            return isinstance(error, mc_errors.InterfaceError | mc_errors.OperationalError) and (
                any(t in text for t in _NETWORK_TEXT)
            )
        return False

    def is_login_error(self, error: BaseException) -> bool:
        return isinstance(error, mc_errors.Error) and mysql_errno(error) in MYSQL_LOGIN_ERRNOS


def native_cursor_maker(conn: Any, cls: type) -> Callable[[Any], Any]:
    """How the blocking dialect's ``cursor()`` makes native cursors of class ``cls`` (see
    ``aws_wrapper._async.native_cursor``) on driver connections like ``conn``: a callable
    taking the connection. For the pure-Python connection, whose ``cursor()`` is known to
    handle a result left unread, ping the server and make ``cls(conn)`` when given just a
    cursor class (checked on its code: ``_KNOWN_CURSOR_NAMES``), that, done here without the
    argument checks (the class is ours) nor the ABC ``issubclass`` frame; through the driver's
    ``cursor(cursor_class=cls)`` otherwise (the C extension, a subclass overriding
    ``cursor()``, a driver version whose ``cursor()`` does more)."""
    kind = type(conn)
    if _pure_cursor(kind.cursor):
        return partial(_make_pure_cursor, cls)
    return partial(kind.cursor, cursor_class=cls)


def _pure_cursor(cursor: Any) -> bool:
    from mysql.connector.connection import MySQLConnection

    if cursor is not MySQLConnection.cursor:
        return False
    names = frozenset(getattr(getattr(cursor, "__code__", None), "co_names", ("?",)))
    return all(n in _KNOWN_CURSOR_NAMES or n.startswith("MySQLCursor") for n in names)


def _make_pure_cursor(cls: type, conn: Any) -> Any:
    """``conn.cursor(cursor_class=cls)`` of the pure-Python connection, as it does it."""
    conn.handle_unread_result()
    if not conn.is_connected():
        raise mc_errors.OperationalError("MySQL Connection not available")
    return cls(conn)
