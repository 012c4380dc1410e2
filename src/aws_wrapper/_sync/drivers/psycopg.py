# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/drivers/psycopg.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""psycopg 3: ``PsycopgDialect`` (``psycopg.Connection``) and the psycopg_pool pool
it opens. What both worlds share is in ``aws_wrapper.drivers.psycopg``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from aws_wrapper.drivers._base import isolation_level, quote_ident
from aws_wrapper.drivers.psycopg import (
    POOL_WAIT_SLICE,
    ConnectFailures,
    PsycopgDialectBase,
    PsycopgPoolBase,
    pool_args,
    pool_connection_class,
    pool_timeout_error,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.properties import Properties


class PsycopgDialect(PsycopgDialectBase):
    """psycopg 3 (``psycopg.Connection``)."""

    def __init__(self, connect_func: Callable[..., Any]) -> None:
        self._connect_func = connect_func

    def connect(self, host: HostInfo, props: Properties) -> Any:
        return self._connect_func(**self._connect_kwargs(host, props))

    def create_pool(
        self, name: str, host: HostInfo, props: Callable[[], Properties], settings: PoolSettings
    ) -> Any:
        """A psycopg_pool pool opening connections like :meth:`connect` (``None`` when the
        connect function is not a psycopg connection class's, or psycopg_pool is missing)."""
        cls = pool_connection_class(self._connect_func, psycopg.Connection)
        if cls is None:
            return None
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            return None
        return PsycopgPool(
            ConnectionPool, name, cls, lambda: self._connect_kwargs(host, props()), settings
        )

    def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return conn.cursor(*args, **kwargs)

    def commit(self, conn: Any) -> None:
        conn.commit()

    def rollback(self, conn: Any) -> None:
        conn.rollback()

    def close(self, conn: Any) -> None:
        conn.close()

    def set_autocommit(self, conn: Any, value: bool) -> None:
        conn.set_autocommit(value)

    def set_read_only(self, conn: Any, value: bool) -> None:
        conn.set_read_only(value)

    def set_isolation_level(self, conn: Any, level: str) -> None:
        name = isolation_level(level).replace(" ", "_")
        conn.set_isolation_level(psycopg.IsolationLevel[name])

    def set_schema(self, conn: Any, schema: str) -> None:
        idle = not self.in_transaction(conn)
        conn.execute(f"SET search_path TO {quote_ident(schema, chr(34))}")
        if idle and self.in_transaction(conn):
            conn.commit()  # SET is transactional: keep it

    def ping(self, conn: Any) -> None:
        conn.execute("")

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, params)
            rows = list(cur.fetchall()) if cur.description else []
        if idle and self.in_transaction(conn):
            conn.rollback()
        return rows


class PsycopgPool(PsycopgPoolBase):
    """A psycopg_pool ``ConnectionPool`` for one host and user (see
    ``aws_wrapper.drivers.psycopg`` for what it changes in psycopg_pool's behaviour)."""

    def __init__(
        self,
        pool_class: Any,
        name: str,
        connection_class: type,
        kwargs: Callable[[], dict[str, Any]],
        settings: PoolSettings,
    ) -> None:
        failures = self._failures = ConnectFailures()

        class _Recording(connection_class):  # type: ignore[misc]
            @classmethod
            def connect(cls, *args: Any, **kw: Any) -> Any:
                try:
                    return super().connect(*args, **kw)
                except BaseException as e:
                    failures.record(e)
                    raise

        self.name = name
        self._kwargs = kwargs
        self._settings = settings
        self._pool = pool_class(**pool_args(name, _Recording, kwargs, settings))
        self._opened = False

    def _reset(self, conn: Any) -> bool:
        """Back to the state it was opened in (psycopg_pool's rollback, then our resets), here
        rather than in the pool's reset callback: with one, psycopg_pool gives the connection
        back in a worker task, and a ``getconn`` right after the return finds no idle
        connection and opens another. False when the connection cannot be reused."""
        status = conn.info.transaction_status
        if status == TransactionStatus.ACTIVE:  # given back mid-query
            return False
        try:
            if status != TransactionStatus.IDLE:
                conn.rollback()
            autocommit = bool(self._kwargs().get("autocommit", False))  # as opened
            if conn.autocommit != autocommit:
                conn.set_autocommit(autocommit)
            if conn.read_only is not None:
                conn.set_read_only(None)
            if conn.isolation_level is not None:
                conn.set_isolation_level(None)
        except Exception:
            return False
        return bool(conn.info.transaction_status == TransactionStatus.IDLE)

    def getconn(self, timeout: float | None = None) -> Any:
        from psycopg_pool import PoolTimeout

        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True
        wait = self._settings.timeout if timeout is None else timeout
        start = monotonic()
        deadline = start + wait
        while True:
            left = deadline - monotonic()
            try:
                return self._pool.getconn(timeout=max(min(POOL_WAIT_SLICE, left), 0.001))
            except PoolTimeout:
                error = self._failures.since(start)
                if error is not None:
                    raise error from None
                if left <= POOL_WAIT_SLICE:
                    raise pool_timeout_error(self.name, wait, self._settings.max_size) from None

    def putconn(self, conn: Any, *, reusable: bool = True) -> None:
        reset = False
        try:
            reset = reusable and not conn.closed and self._reset(conn)
        finally:  # cancelled mid-reset too: the pool gets it back (a closed one frees its slot)
            if not reset and not conn.closed:
                conn.close()  # the pool discards a closed connection
            self._pool.putconn(conn)

    def close(self) -> None:
        if self._opened:
            self._pool.close(timeout=1.0)
