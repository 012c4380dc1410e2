"""The dialect of ``aiomysql.connect`` (``AiomysqlDialect``), written once for aiomysql and
PyMySQL (its generated twin). What the two share beyond this module is in
``aws_wrapper.drivers.pymysql``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aiomysql import connect as driver_connect
from aiomysql.cursors import Cursor as TupleCursor

from aws_wrapper._compat import AIO
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


class AiomysqlDialect(MySQLCalls, PyMySQLDialectBase):
    """The dialect of ``aiomysql.connect``."""

    code = "aiomysql"

    def __init__(self, connect_func: Callable[..., Any]) -> None:
        super().__init__()
        self._connect_func = connect_func
        self._params = signature_params(driver_connect) | {"database", "password"}

    async def connect(self, host: HostInfo, props: Properties) -> Any:
        kwargs = self._connect_kwargs(host, props)
        if "database" in kwargs:
            kwargs[_DATABASE_PARAM] = kwargs.pop("database")
        conn = await self._connect_func(**kwargs)
        net = peer_network(props)
        if net is not None:  # tcp_keepalive*: no parameters for them, the socket takes them
            set_keepalive(self._socket(conn), net, self.code)
        return conn

    async def close(self, conn: Any) -> None:
        if self.is_closed(conn):
            return
        # The drivers name their closing calls differently: with a goodbye to the server,
        # aiomysql's ensure_closed() (bounded here) and PyMySQL's close(); without one,
        # aiomysql's close() and PyMySQL's _force_close().
        if AIO:
            try:
                async with asyncio.timeout(2.0):
                    await conn.ensure_closed()
            except CLOSE_ERRORS:
                conn.close()
        else:
            try:
                conn.close()
            except CLOSE_ERRORS:
                conn._force_close()

    def _socket(self, conn: Any) -> Any:
        # aiomysql reads through an asyncio transport, PyMySQL through its own socket
        if AIO:
            writer = getattr(conn, "_writer", None)
            return None if writer is None else writer.transport.get_extra_info("socket")
        else:
            return getattr(conn, "_sock", None)

    def abort(self, conn: Any) -> None:
        shutdown_socket(self._socket(conn))

    def is_closed(self, conn: Any) -> bool:
        # aiomysql tells `closed`, PyMySQL `open`
        return bool(conn.closed) if AIO else not conn.open

    if AIO:

        def cursor_now(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            """The driver cursor, made without I/O (see ``DriverDialect.cursor``): aiomysql's
            ``cursor()`` makes it at once and hands it over in a finished future, which the
            awaitable it returns holds (``_coro``): taken from there (without the cost of
            completing an awaitable from a plain function: a StopIteration per cursor)."""
            made = conn.cursor(*args, **kwargs)
            future = getattr(made, "_coro", None)
            if isinstance(future, asyncio.Future) and future.done():
                return future.result()
            step = made.__await__()
            try:
                step.send(None)
            except StopIteration as done:
                return done.value
            step.close()
            raise RuntimeError("aiomysql's cursor() did not complete at once")

    def native_cursor_base(self, conn: Any) -> type | None:
        """The class native wrapper cursors of ``conn`` subclass (see
        ``aws_wrapper._async.native_cursor``): the connection's cursor class, made as
        ``cls(conn)`` without I/O, as its ``cursor()`` does. Over PyMySQL, only a class whose
        code ``aws_wrapper.drivers.pymysql.native_pymysql_base`` accepts (PyMySQL's Cursor and
        DictCursor, not its unbuffered SSCursor): the native class runs its execute and close
        itself, keeping PyMySQL's connection apart from the public ``connection``."""
        if getattr(conn, "_echo", False):  # aiomysql's cursor() passes echo on: not cls(conn)
            return None
        factory = getattr(conn, "cursorclass", None)
        if not (isinstance(factory, type) and issubclass(factory, TupleCursor)):
            return None
        if not AIO:  # noqa: SIM102 (the generator keeps an `if not AIO:` block whole)
            if not native_pymysql_base(factory):
                return None
        return factory

    async def set_autocommit(self, conn: Any, value: bool) -> None:
        await conn.autocommit(value)

    async def set_read_only(self, conn: Any, value: bool) -> None:
        async with conn.cursor() as cur:
            await cur.execute(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    async def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        async with conn.cursor(TupleCursor) as cur:
            await cur.execute(sql, params)
            rows = [tuple(r) for r in await cur.fetchall()]
        if idle and self.in_transaction(conn):
            await conn.rollback()
        return rows
