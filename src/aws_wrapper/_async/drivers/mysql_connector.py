"""The dialect of ``mysql.connector.aio.connect`` (``MysqlConnectorAioDialect``), written once
for both APIs of mysql-connector-python. What the two share beyond this module is in
``aws_wrapper.drivers.mysql_connector``.

The two APIs differ in kind in a few places (how a connection is opened, closed without a
goodbye, aborted, found closed, switched to autocommit): those are ``if AIO:`` blocks. The
blocking dialect asks for the pure-Python connection (``use_pure=True``) unless told otherwise:
only that one exposes its socket, which aborting a call from another thread needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aws_wrapper._compat import AIO
from aws_wrapper.drivers._base import (
    SET_READ_ONLY,
    SET_READ_WRITE,
    peer_network,
    set_keepalive,
    shutdown_socket,
)
from aws_wrapper.drivers.mysql_connector import (
    CLOSE_ERRORS,
    MysqlConnectorDialectBase,
    native_cursor_maker,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ._mysql import MySQLCalls


class MysqlConnectorAioDialect(MySQLCalls, MysqlConnectorDialectBase):
    """The dialect of ``mysql.connector.aio.connect``."""

    code = "mysql-connector-aio"

    if AIO:
        # the async API's cursor() does not ping (the blocking one's does): no round trip
        # unless a result is left unread, which cursor_now leaves to the first call
        network_bound_methods = MysqlConnectorDialectBase.network_bound_methods - {
            "Connection.cursor"
        }

        def cursor_now(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            """The driver cursor, made without I/O (see ``DriverDialect.cursor``), or None:
            ``cursor()`` is a coroutine that waits for nothing unless a result is left unread
            (then the cursor's first call makes it, consuming that result)."""
            if conn.unread_result:
                return None
            made = conn.cursor(*args, **kwargs)
            try:
                made.send(None)
            except StopIteration as done:
                return done.value
            made.close()
            return None

        def native_cursor_base(self, conn: Any) -> type | None:
            """The class native wrapper cursors of ``conn`` subclass (see
            ``aws_wrapper._async.native_cursor``): the cursor class its ``cursor()`` picks
            without arguments (by its buffered and raw settings), made as ``cls(conn)``. (A
            result left unread is then met by the cursor's first call, as with cursor_now.)"""
            from mysql.connector.aio import cursor as kinds

            buffered = bool(getattr(conn, "_buffered", False))
            raw = bool(getattr(conn, "_raw", False))
            if raw:
                return kinds.MySQLCursorBufferedRaw if buffered else kinds.MySQLCursorRaw
            return kinds.MySQLCursorBuffered if buffered else kinds.MySQLCursor

    else:
        # the blocking cursor() pings the server: native cursors are made as it makes them
        # (native_cursor_maker), so the round trip stays where the driver has it
        native_through_cursor = True
        native_cursor_maker = staticmethod(native_cursor_maker)

        def native_cursor_base(self, conn: Any) -> type | None:
            """The class native wrapper cursors of ``conn`` subclass (see
            ``aws_wrapper._async.native_cursor``): the cursor class its ``cursor()`` picks
            without arguments (by its buffered and raw settings), pure Python or C."""
            from mysql.connector import connection

            buffered = bool(getattr(conn, "_buffered", False))
            raw = bool(getattr(conn, "_raw", False))
            if isinstance(conn, connection.MySQLConnection):
                from mysql.connector import cursor as pure

                if raw:
                    return pure.MySQLCursorBufferedRaw if buffered else pure.MySQLCursorRaw
                return pure.MySQLCursorBuffered if buffered else pure.MySQLCursor
            try:
                from mysql.connector import cursor_cext as c_ext
            except ImportError:  # pragma: no cover - a C connection without its cursors
                return None
            if raw:
                return c_ext.CMySQLCursorBufferedRaw if buffered else c_ext.CMySQLCursorRaw
            return c_ext.CMySQLCursorBuffered if buffered else c_ext.CMySQLCursor

    def __init__(self, connect_func: Callable[..., Any]) -> None:
        super().__init__()
        self._connect_func = connect_func

    async def connect(self, host: HostInfo, props: Properties) -> Any:
        conn = await self._open(self._connect_kwargs(host, props))
        net = peer_network(props)
        if net is not None:  # tcp_keepalive*: no parameters for them, the socket takes them
            set_keepalive(self._socket(conn), net, self.code)
        return conn

    async def _open(self, kwargs: dict[str, Any]) -> Any:
        if AIO:  # the async API has no C extension to choose, and a TLS quirk
            kwargs.pop("use_pure", None)
            try:
                return await self._connect_func(**kwargs)
            except TypeError as e:
                # mysql.connector.aio (up to at least 9.x/26.x) logs in without TLS when the
                # server offers none, then fails reading the TLS cipher of the plain socket.
                # The session it had was unencrypted either way: ask for that explicitly.
                if "ssl_disabled" in kwargs or "NoneType" not in str(e):
                    raise
                return await self._connect_func(**kwargs, ssl_disabled=True)
        else:
            kwargs.setdefault("use_pure", True)  # its socket is one abort() can reach
            return self._connect_func(**kwargs)

    async def close(self, conn: Any) -> None:
        sock = getattr(conn, "_socket", None)
        if sock is None:
            return
        # With a goodbye (bounded in async code); without one, the async API's stream
        # transport is aborted, the blocking API's socket closed.
        if AIO:
            try:
                async with asyncio.timeout(2.0):
                    await conn.close()
            except CLOSE_ERRORS:
                writer = getattr(getattr(conn, "_socket", None), "_writer", None)
                if writer is not None:
                    writer.transport.abort()
        else:
            try:
                conn.close()
            except CLOSE_ERRORS:
                sock.close_connection()

    def _socket(self, conn: Any) -> Any:
        sock = getattr(conn, "_socket", None)
        # the async API reads through an asyncio transport, the blocking one through a socket
        # (none with the C extension)
        if AIO:
            writer = getattr(sock, "_writer", None)
            return None if writer is None else writer.transport.get_extra_info("socket")
        else:
            return getattr(sock, "sock", None)

    def abort(self, conn: Any) -> None:
        self._aborted.add(conn)
        shutdown_socket(self._socket(conn))

    def is_closed(self, conn: Any) -> bool:
        if conn in self._aborted:
            return True
        # the async API tells whether its stream is connected; the blocking one's socket is read
        if AIO:
            return not conn.is_socket_connected()
        else:
            sock = getattr(getattr(conn, "_socket", None), "sock", None)
            try:
                return sock is None or bool(sock.fileno() < 0)
            except OSError:
                return True

    async def set_autocommit(self, conn: Any, value: bool) -> None:
        # a method in the async API, a property in the blocking one
        if AIO:
            await conn.set_autocommit(value)
        else:
            conn.autocommit = value

    async def set_read_only(self, conn: Any, value: bool) -> None:
        await conn.cmd_query(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

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
