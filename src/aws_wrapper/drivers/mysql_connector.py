"""mysql-connector-python: ``MysqlConnectorDialect`` (``mysql.connector``) and its async twin
``MysqlConnectorAioDialect`` (``mysql.connector.aio``), side by side.

The two APIs differ more than a renaming can express (``await cnx.cursor()``,
``await cnx.set_autocommit()``), so both halves are written by hand.
The sync half asks for the pure-Python connection (``use_pure=True``) unless told otherwise:
only that one exposes its socket, which aborting a call from another thread needs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mysql.connector
from mysql.connector import errors as mc_errors
from mysql.connector.constants import CNX_POOL_ARGS, DEFAULT_CONFIGURATION

from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ._base import (
    MYSQL_LOGIN_ERRNOS,
    MYSQL_NETWORK_ERRNOS,
    SET_READ_ONLY,
    SET_READ_WRITE,
    SOCKET_ERRORS,
    AsyncMySQLSessionStatements,
    MySQLDialectBase,
    MySQLSessionStatements,
    mysql_errno,
    shutdown_socket,
)

_PARAMS = frozenset(DEFAULT_CONFIGURATION) | frozenset(CNX_POOL_ARGS) | {"option_files"}
_NETWORK_TEXT = ("Connection not available", "Lost connection", "gone away", "Broken pipe")


_CLOSE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    *SOCKET_ERRORS,
    mc_errors.Error,
)


class _MysqlConnectorBase(MySQLDialectBase):
    connect_timeout_param = "connection_timeout"  # the aio API knows no connect_timeout
    # cursor() checks the connection and fails on a lost one: it counts as network-bound
    network_bound_methods = MySQLDialectBase.network_bound_methods | {"Connection.cursor"}

    def __init__(self) -> None:
        super().__init__()
        # mysql.connector keeps believing an aborted socket is connected: remember them
        self._aborted: weakref.WeakSet[Any] = weakref.WeakSet()

    def driver_params(self) -> frozenset[str] | None:
        return _PARAMS

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


class MysqlConnectorAioDialect(AsyncMySQLSessionStatements, _MysqlConnectorBase):
    """mysql-connector-python, async (``mysql.connector.aio``)."""

    code = "mysql-connector-aio"

    def __init__(self, connect_func: Callable[..., Any] | None = None) -> None:
        import mysql.connector.aio

        super().__init__()
        self._connect_func = connect_func or mysql.connector.aio.connect

    async def connect(self, host: HostInfo, props: Properties) -> Any:
        kwargs = self._connect_kwargs(host, props)
        kwargs.pop("use_pure", None)
        try:
            return await self._connect_func(**kwargs)
        except TypeError as e:
            # mysql.connector.aio (up to at least 9.x/26.x) logs in without TLS when the
            # server offers none, then fails reading the TLS cipher of the plain socket. The
            # session it had was unencrypted either way: ask for that explicitly.
            if "ssl_disabled" in kwargs or "NoneType" not in str(e):
                raise
            return await self._connect_func(**kwargs, ssl_disabled=True)

    async def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return await conn.cursor(*args, **kwargs)

    async def commit(self, conn: Any) -> None:
        await conn.commit()

    async def rollback(self, conn: Any) -> None:
        await conn.rollback()

    async def close(self, conn: Any) -> None:
        if getattr(conn, "_socket", None) is None:
            return
        try:
            async with asyncio.timeout(2.0):
                await conn.close()
        except _CLOSE_ERRORS:
            writer = getattr(getattr(conn, "_socket", None), "_writer", None)
            if writer is not None:
                writer.transport.abort()  # release the socket without a goodbye

    def abort(self, conn: Any) -> None:
        self._aborted.add(conn)
        sock = getattr(conn, "_socket", None)
        writer = getattr(sock, "_writer", None)
        if writer is not None:
            shutdown_socket(writer.transport.get_extra_info("socket"))

    def is_closed(self, conn: Any) -> bool:
        return conn in self._aborted or not conn.is_socket_connected()

    async def set_autocommit(self, conn: Any, value: bool) -> None:
        await conn.set_autocommit(value)

    async def set_read_only(self, conn: Any, value: bool) -> None:
        await conn.cmd_query(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    async def ping(self, conn: Any) -> None:
        await conn.ping(reconnect=False)

    async def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        cur = await conn.cursor(buffered=True)
        try:
            await cur.execute(sql, params)
            rows = [tuple(r) for r in await cur.fetchall()] if cur.description else []
        finally:
            await cur.close()
        if idle and self.in_transaction(conn):
            await conn.rollback()
        return rows


class MysqlConnectorDialect(MySQLSessionStatements, _MysqlConnectorBase):
    """mysql-connector-python, blocking (``mysql.connector``)."""

    code = "mysql-connector"

    def __init__(self, connect_func: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self._connect_func = connect_func or mysql.connector.connect

    def connect(self, host: HostInfo, props: Properties) -> Any:
        kwargs = self._connect_kwargs(host, props)
        kwargs.setdefault("use_pure", True)
        return self._connect_func(**kwargs)

    def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return conn.cursor(*args, **kwargs)

    def commit(self, conn: Any) -> None:
        conn.commit()

    def rollback(self, conn: Any) -> None:
        conn.rollback()

    def close(self, conn: Any) -> None:
        sock = getattr(conn, "_socket", None)
        if sock is None:
            return
        try:
            conn.close()
        except _CLOSE_ERRORS:
            sock.close_connection()  # release the socket without a goodbye

    def abort(self, conn: Any) -> None:
        self._aborted.add(conn)
        sock = getattr(conn, "_socket", None)
        shutdown_socket(getattr(sock, "sock", None))

    def is_closed(self, conn: Any) -> bool:
        if conn in self._aborted:
            return True
        sock = getattr(conn, "_socket", None)
        if sock is None or getattr(sock, "sock", None) is None:
            return True
        try:
            return bool(sock.sock.fileno() < 0)
        except OSError:
            return True

    def set_autocommit(self, conn: Any, value: bool) -> None:
        conn.autocommit = value

    def set_read_only(self, conn: Any, value: bool) -> None:
        conn.cmd_query(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    def ping(self, conn: Any) -> None:
        conn.ping(reconnect=False)

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        cur = conn.cursor(buffered=True)
        try:
            cur.execute(sql, params)
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        finally:
            cur.close()
        if idle and self.in_transaction(conn):
            conn.rollback()
        return rows
