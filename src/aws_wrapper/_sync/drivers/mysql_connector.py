# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/drivers/mysql_connector.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The dialect of ``mysql.connector.connect`` (``MysqlConnectorDialect``), written once
for both APIs of mysql-connector-python. What the two share beyond this module is in
``aws_wrapper.drivers.mysql_connector``.

The two APIs differ in kind in a few places (how a connection is opened, closed without a
goodbye, aborted, found closed, switched to autocommit): those are ``if AIO:`` blocks. The
blocking dialect asks for the pure-Python connection (``use_pure=True``) unless told otherwise:
only that one exposes its socket, which aborting a call from another thread needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


class MysqlConnectorDialect(MySQLCalls, MysqlConnectorDialectBase):
    """The dialect of ``mysql.connector.connect``."""

    code = "mysql-connector"

    # the blocking cursor() pings the server: native cursors are made as it makes them
    # (native_cursor_maker), so the round trip stays where the driver has it
    native_through_cursor = True
    native_cursor_maker = staticmethod(native_cursor_maker)

    def native_cursor_base(self, conn: Any) -> type | None:
        """The class native wrapper cursors of ``conn`` subclass (see
        ``aws_wrapper._sync.native_cursor``): the cursor class its ``cursor()`` picks
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

    def connect(self, host: HostInfo, props: Properties) -> Any:
        conn = self._open(self._connect_kwargs(host, props))
        net = peer_network(props)
        if net is not None:  # tcp_keepalive*: no parameters for them, the socket takes them
            set_keepalive(self._socket(conn), net, self.code)
        return conn

    def _open(self, kwargs: dict[str, Any]) -> Any:
        kwargs.setdefault("use_pure", True)  # its socket is one abort() can reach
        return self._connect_func(**kwargs)

    def close(self, conn: Any) -> None:
        sock = getattr(conn, "_socket", None)
        if sock is None:
            return
        # With a goodbye (bounded in async code); without one, the async API's stream
        # transport is aborted, the blocking API's socket closed.
        try:
            conn.close()
        except CLOSE_ERRORS:
            sock.close_connection()

    def _socket(self, conn: Any) -> Any:
        sock = getattr(conn, "_socket", None)
        # the async API reads through an asyncio transport, the blocking one through a socket
        # (none with the C extension)
        return getattr(sock, "sock", None)

    def abort(self, conn: Any) -> None:
        self._aborted.add(conn)
        shutdown_socket(self._socket(conn))

    def is_closed(self, conn: Any) -> bool:
        if conn in self._aborted:
            return True
        # the async API tells whether its stream is connected; the blocking one's socket is read
        sock = getattr(getattr(conn, "_socket", None), "sock", None)
        try:
            return sock is None or bool(sock.fileno() < 0)
        except OSError:
            return True

    def set_autocommit(self, conn: Any, value: bool) -> None:
        # a method in the async API, a property in the blocking one
        conn.autocommit = value

    def set_read_only(self, conn: Any, value: bool) -> None:
        conn.cmd_query(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

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
