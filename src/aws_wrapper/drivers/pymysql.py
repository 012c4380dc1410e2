"""PyMySQL (``PyMySQLDialect``) and its async twin aiomysql (``AiomysqlDialect``), side by side.

aiomysql is built on PyMySQL: both raise ``pymysql.err`` errors and keep the server status
flags the same way, so classification and state reads are shared.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import pymysql
from pymysql.constants import SERVER_STATUS

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


def _signature_params(func: Callable[..., Any]) -> frozenset[str]:
    return frozenset(
        name
        for name, p in inspect.signature(func).parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and name != "self"
    )


_CLOSE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    *SOCKET_ERRORS,
    pymysql.err.Error,
)


class _MySQLBase(MySQLDialectBase):
    _params: frozenset[str]

    def driver_params(self) -> frozenset[str] | None:
        return self._params

    def get_autocommit(self, conn: Any) -> bool:
        return bool(conn.get_autocommit())

    def in_transaction(self, conn: Any) -> bool:
        return bool(conn.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)

    def is_network_error(self, error: BaseException) -> bool:
        if isinstance(error, SOCKET_ERRORS):
            return True
        if isinstance(error, pymysql.err.Error):
            errno = mysql_errno(error)
            if errno in MYSQL_NETWORK_ERRNOS:
                return True
            # PyMySQL/aiomysql raise InterfaceError(0, '') on a connection they closed
            return isinstance(error, pymysql.err.InterfaceError) and errno in (None, 0)
        return False

    def is_login_error(self, error: BaseException) -> bool:
        return isinstance(error, pymysql.err.Error) and mysql_errno(error) in MYSQL_LOGIN_ERRNOS


class AiomysqlDialect(AsyncMySQLSessionStatements, _MySQLBase):
    """aiomysql (async PyMySQL)."""

    code = "aiomysql"

    def __init__(self, connect_func: Callable[..., Any] | None = None) -> None:
        super().__init__()
        import aiomysql

        self._connect_func = connect_func or aiomysql.connect
        self._tuple_cursor = aiomysql.Cursor
        self._params = _signature_params(aiomysql.connect) | {"database", "password"}

    async def connect(self, host: HostInfo, props: Properties) -> Any:
        kwargs = self._connect_kwargs(host, props)
        if "database" in kwargs:
            kwargs["db"] = kwargs.pop("database")
        return await self._connect_func(**kwargs)

    async def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return await conn.cursor(*args, **kwargs)

    async def commit(self, conn: Any) -> None:
        await conn.commit()

    async def rollback(self, conn: Any) -> None:
        await conn.rollback()

    async def close(self, conn: Any) -> None:
        if conn.closed:
            return
        try:
            async with asyncio.timeout(2.0):
                await conn.ensure_closed()
        except _CLOSE_ERRORS:
            conn.close()

    def abort(self, conn: Any) -> None:
        writer = getattr(conn, "_writer", None)
        if writer is not None:
            shutdown_socket(writer.transport.get_extra_info("socket"))

    def is_closed(self, conn: Any) -> bool:
        return bool(conn.closed)

    async def set_autocommit(self, conn: Any, value: bool) -> None:
        await conn.autocommit(value)

    async def set_read_only(self, conn: Any, value: bool) -> None:
        async with conn.cursor() as cur:
            await cur.execute(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    async def ping(self, conn: Any) -> None:
        await conn.ping(reconnect=False)

    async def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        async with conn.cursor(self._tuple_cursor) as cur:
            await cur.execute(sql, params)
            rows = [tuple(r) for r in await cur.fetchall()]
        if idle and self.in_transaction(conn):
            await conn.rollback()
        return rows


class PyMySQLDialect(MySQLSessionStatements, _MySQLBase):
    """PyMySQL."""

    code = "pymysql"

    def __init__(self, connect_func: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self._connect_func = connect_func or pymysql.connect
        self._params = _signature_params(pymysql.connections.Connection.__init__)

    def connect(self, host: HostInfo, props: Properties) -> Any:
        return self._connect_func(**self._connect_kwargs(host, props))

    def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return conn.cursor(*args, **kwargs)

    def commit(self, conn: Any) -> None:
        conn.commit()

    def rollback(self, conn: Any) -> None:
        conn.rollback()

    def close(self, conn: Any) -> None:
        if not conn.open:
            return
        try:
            conn.close()
        except _CLOSE_ERRORS:
            conn._force_close()

    def abort(self, conn: Any) -> None:
        shutdown_socket(getattr(conn, "_sock", None))

    def is_closed(self, conn: Any) -> bool:
        return not conn.open

    def set_autocommit(self, conn: Any, value: bool) -> None:
        conn.autocommit(value)

    def set_read_only(self, conn: Any, value: bool) -> None:
        with conn.cursor() as cur:
            cur.execute(SET_READ_ONLY if value else SET_READ_WRITE)
        self._read_only[conn] = value

    def ping(self, conn: Any) -> None:
        conn.ping(reconnect=False)

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        with conn.cursor(pymysql.cursors.Cursor) as cur:
            cur.execute(sql, params)
            rows = [tuple(r) for r in cur.fetchall()]
        if idle and self.in_transaction(conn):
            conn.rollback()
        return rows
