"""What the MySQL dialects of this world share: the calls both driver families spell alike, and
the session settings that are plain statements in MySQL."""

from __future__ import annotations

from typing import Any

from aws_wrapper._compat import AIO
from aws_wrapper.drivers._base import isolation_level, quote_ident


class MySQLCalls:
    """Calls aiomysql and mysql.connector.aio (PyMySQL and mysql.connector) spell alike."""

    if not AIO:
        # the blocking drivers' conn.cursor(...) returns the cursor: the wrapper calls it
        # itself (see DriverDialect.cursor); the async ones' is awaited
        direct_cursor = True

    async def fetch(
        self, conn: Any, sql: str, params: Any = None
    ) -> list[tuple[Any, ...]]:  # pragma: no cover - provided by the driver dialect
        raise NotImplementedError

    async def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return await conn.cursor(*args, **kwargs)

    async def commit(self, conn: Any) -> None:
        await conn.commit()

    async def rollback(self, conn: Any) -> None:
        await conn.rollback()

    async def ping(self, conn: Any) -> None:
        await conn.ping(reconnect=False)

    async def set_isolation_level(self, conn: Any, level: str) -> None:
        await self.fetch(conn, f"SET SESSION TRANSACTION ISOLATION LEVEL {isolation_level(level)}")

    async def set_schema(self, conn: Any, schema: str) -> None:
        await self.fetch(conn, f"USE {quote_ident(schema, '`')}")
