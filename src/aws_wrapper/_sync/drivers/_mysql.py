# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/drivers/_mysql.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""What the MySQL dialects of this world share: the calls both driver families spell alike, and
the session settings that are plain statements in MySQL."""

from __future__ import annotations

from typing import Any

from aws_wrapper.drivers._base import isolation_level, quote_ident


class MySQLCalls:
    """Calls aiomysql and mysql.connector.aio (PyMySQL and mysql.connector) spell alike."""

    # the blocking drivers' conn.cursor(...) returns the cursor: the wrapper calls it
    # itself (see DriverDialect.cursor); the async ones' is awaited
    direct_cursor = True

    def fetch(
        self, conn: Any, sql: str, params: Any = None
    ) -> list[tuple[Any, ...]]:  # pragma: no cover - provided by the driver dialect
        raise NotImplementedError

    def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return conn.cursor(*args, **kwargs)

    def commit(self, conn: Any) -> None:
        conn.commit()

    def rollback(self, conn: Any) -> None:
        conn.rollback()

    def ping(self, conn: Any) -> None:
        conn.ping(reconnect=False)

    def set_isolation_level(self, conn: Any, level: str) -> None:
        self.fetch(conn, f"SET SESSION TRANSACTION ISOLATION LEVEL {isolation_level(level)}")

    def set_schema(self, conn: Any, schema: str) -> None:
        self.fetch(conn, f"USE {quote_ident(schema, '`')}")
