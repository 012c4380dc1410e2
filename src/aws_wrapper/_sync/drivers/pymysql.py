# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/drivers/pymysql.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The dialect of ``pymysql.connect`` (``PyMySQLDialect``), written once for aiomysql and
PyMySQL (its generated twin). What the two share beyond this module is in
``aws_wrapper.drivers.pymysql``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pymysql import connect as driver_connect
from pymysql.cursors import Cursor as TupleCursor

from aws_wrapper.drivers._base import (
    SET_READ_ONLY,
    SET_READ_WRITE,
    peer_network,
    set_keepalive,
    shutdown_socket,
)
from aws_wrapper.drivers.pymysql import (
    CLOSE_ERRORS,
    PyMySQLDialectBase,
    native_pymysql_base,
    signature_params,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ._mysql import MySQLCalls

# aiomysql's connect names the database `db` (PyMySQL's takes `database` too)
_DATABASE_PARAM = "database" if "database" in signature_params(driver_connect) else "db"


class PyMySQLDialect(MySQLCalls, PyMySQLDialectBase):
    """The dialect of ``pymysql.connect``."""

    code = "pymysql"

    def __init__(self, connect_func: Callable[..., Any]) -> None:
        super().__init__()
        self._connect_func = connect_func
        self._params = signature_params(driver_connect) | {"database", "password"}

    def connect(self, host: HostInfo, props: Properties) -> Any:
        kwargs = self._connect_kwargs(host, props)
        if "database" in kwargs:
            kwargs[_DATABASE_PARAM] = kwargs.pop("database")
        conn = self._connect_func(**kwargs)
        net = peer_network(props)
        if net is not None:  # tcp_keepalive*: no parameters for them, the socket takes them
            set_keepalive(self._socket(conn), net, self.code)
        return conn

    def close(self, conn: Any) -> None:
        if self.is_closed(conn):
            return
        # The drivers name their closing calls differently: with a goodbye to the server,
        # aiomysql's ensure_closed() (bounded here) and PyMySQL's close(); without one,
        # aiomysql's close() and PyMySQL's _force_close().
        try:
            conn.close()
        except CLOSE_ERRORS:
            conn._force_close()

    def _socket(self, conn: Any) -> Any:
        # aiomysql reads through an asyncio transport, PyMySQL through its own socket
        return getattr(conn, "_sock", None)

    def abort(self, conn: Any) -> None:
        shutdown_socket(self._socket(conn))

    def is_closed(self, conn: Any) -> bool:
        # aiomysql tells `closed`, PyMySQL `open`
        return not conn.open

    def native_cursor_base(self, conn: Any) -> type | None:
        """The class native wrapper cursors of ``conn`` subclass (see
        ``aws_wrapper._sync.native_cursor``): the connection's cursor class, made as
        ``cls(conn)`` without I/O, as its ``cursor()`` does. Over PyMySQL, only a class whose
        code ``aws_wrapper.drivers.pymysql.native_pymysql_base`` accepts (PyMySQL's Cursor and
        DictCursor, not its unbuffered SSCursor): the native class runs its execute and close
        itself, keeping PyMySQL's connection apart from the public ``connection``."""
        if getattr(conn, "_echo", False):  # aiomysql's cursor() passes echo on: not cls(conn)
            return None
        factory = getattr(conn, "cursorclass", None)
        if not (isinstance(factory, type) and issubclass(factory, TupleCursor)):
            return None
        if not native_pymysql_base(factory):
            return None
        return factory

    def set_autocommit(self, conn: Any, value: bool) -> None:
        conn.autocommit(value)

    def set_read_only(self, conn: Any, value: bool) -> None:
        with conn.cursor() as cur:
            cur.execute(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        with conn.cursor(TupleCursor) as cur:
            cur.execute(sql, params)
            rows = [tuple(r) for r in cur.fetchall()]
        if idle and self.in_transaction(conn):
            conn.rollback()
        return rows
