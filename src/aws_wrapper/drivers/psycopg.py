"""psycopg 3: ``AsyncPsycopgDialect`` (psycopg.AsyncConnection) and ``PsycopgDialect``
(psycopg.Connection), written side by side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from time import monotonic
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from aws_wrapper.errors import PoolTimeoutError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.properties import Properties
from aws_wrapper.resolver import resolve_address

from ._base import (
    PG_DEFAULT_PORT,
    PG_LOGIN_MESSAGES,
    PG_LOGIN_SQLSTATES,
    PG_NETWORK_SQLSTATES,
    PG_NOT_NETWORK_MESSAGES,
    SOCKET_ERRORS,
    host_from,
    isolation_level,
    parse_pg_conninfo,
    quote_ident,
    shutdown_fd,
)

_PSYCOPG_KWARGS = frozenset(
    {"autocommit", "prepare_threshold", "row_factory", "cursor_factory", "context", "conninfo"}
)
_params_cache: frozenset[str] | None = None
_NO_TRANSACTION = frozenset({TransactionStatus.IDLE, TransactionStatus.UNKNOWN})


def _libpq_params() -> frozenset[str]:
    global _params_cache
    if _params_cache is None:
        names = {opt.keyword.decode() for opt in psycopg.pq.Conninfo.get_defaults()}
        _params_cache = frozenset(names | _PSYCOPG_KWARGS)
    return _params_cache


class _PsycopgBase:
    engine = "postgresql"
    default_port = PG_DEFAULT_PORT
    connect_timeout_param = "connect_timeout"  # libpq: whole seconds, at least 2
    network_bound_methods = frozenset(
        {
            "Cursor.execute",
            "Cursor.executemany",
            "Connection.commit",
            "Connection.rollback",
            "Connection.set_schema",
        }
    )

    def driver_params(self) -> frozenset[str] | None:
        return _libpq_params()

    def parse_target(self, conninfo: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        params = parse_pg_conninfo(conninfo)
        params.update(kwargs)
        return params

    def initial_host(self, driver_props: Mapping[str, Any]) -> HostInfo:
        return host_from(driver_props, PG_DEFAULT_PORT)

    def _connect_kwargs(self, host: HostInfo, props: Properties) -> dict[str, Any]:
        kwargs = dict(props.driver)
        kwargs.pop("conninfo", None)
        if kwargs.get("host") != host.host:
            # hostaddr pins the address of the *given* host; another host must be resolved
            kwargs.pop("hostaddr", None)
        kwargs["host"] = host.host
        kwargs["port"] = host.port
        address = resolve_address(host.host)
        if address is not None:
            kwargs["hostaddr"] = address
        return kwargs

    def token_login_params(
        self, driver_props: Mapping[str, Any], ca_file: str | None
    ) -> dict[str, Any]:
        """PostgreSQL takes a token as an ordinary password (RDS asks for it in clear over
        the TLS that ``sslmode`` sets up); nothing to add."""
        return {}

    def abort(self, conn: Any) -> None:
        try:
            fd = conn.pgconn.socket
        except (psycopg.OperationalError, AttributeError):
            return  # already closed
        shutdown_fd(fd)

    def is_closed(self, conn: Any) -> bool:
        return bool(conn.closed)

    def get_autocommit(self, conn: Any) -> bool:
        return bool(conn.autocommit)

    def get_read_only(self, conn: Any) -> bool:
        return bool(conn.read_only)

    def in_transaction(self, conn: Any) -> bool:
        # pgconn, not conn.info (a new object on every access): this runs on every call.
        # UNKNOWN: the connection is broken, and a broken connection holds no transaction
        return conn.pgconn.transaction_status not in _NO_TRANSACTION

    def is_network_error(self, error: BaseException) -> bool:
        if isinstance(error, SOCKET_ERRORS):
            return True
        if isinstance(error, psycopg.OperationalError):
            state = error.sqlstate
            if state is None:  # a client-side failure: connect, or a connection lost
                text = str(error)
                return not self.is_login_error(error) and not any(
                    m in text for m in PG_NOT_NETWORK_MESSAGES
                )
            return state.startswith("08") or state in PG_NETWORK_SQLSTATES
        return False

    def is_login_error(self, error: BaseException) -> bool:
        if not isinstance(error, psycopg.Error):
            return False
        if error.sqlstate in PG_LOGIN_SQLSTATES:
            return True
        text = str(error)
        return any(m in text for m in PG_LOGIN_MESSAGES)


class AsyncPsycopgDialect(_PsycopgBase):
    """psycopg 3, async (``psycopg.AsyncConnection``)."""

    code = "psycopg"

    def __init__(self, connect_func: Callable[..., Awaitable[Any]] | None = None) -> None:
        self._connect_func = connect_func or psycopg.AsyncConnection.connect

    async def connect(self, host: HostInfo, props: Properties) -> Any:
        return await self._connect_func(**self._connect_kwargs(host, props))

    def create_pool(
        self, name: str, host: HostInfo, props: Callable[[], Properties], settings: PoolSettings
    ) -> Any:
        """A psycopg_pool pool opening connections like :meth:`connect` (``None`` when the
        connect function is not a psycopg connection class's, or psycopg_pool is missing)."""
        cls = _connection_class(self._connect_func, psycopg.AsyncConnection)
        if cls is None:
            return None
        try:
            from psycopg_pool import AsyncConnectionPool
        except ImportError:
            return None
        return AsyncPsycopgPool(
            AsyncConnectionPool, name, cls, lambda: self._connect_kwargs(host, props()), settings
        )

    async def cursor(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        return conn.cursor(*args, **kwargs)

    async def commit(self, conn: Any) -> None:
        await conn.commit()

    async def rollback(self, conn: Any) -> None:
        await conn.rollback()

    async def close(self, conn: Any) -> None:
        await conn.close()

    async def set_autocommit(self, conn: Any, value: bool) -> None:
        await conn.set_autocommit(value)

    async def set_read_only(self, conn: Any, value: bool) -> None:
        await conn.set_read_only(value)

    async def set_isolation_level(self, conn: Any, level: str) -> None:
        name = isolation_level(level).replace(" ", "_")
        await conn.set_isolation_level(psycopg.IsolationLevel[name])

    async def set_schema(self, conn: Any, schema: str) -> None:
        idle = not self.in_transaction(conn)
        await conn.execute(f"SET search_path TO {quote_ident(schema, chr(34))}")
        if idle and self.in_transaction(conn):
            await conn.commit()  # SET is transactional: keep it

    async def ping(self, conn: Any) -> None:
        await conn.execute("")

    async def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        idle = not self.in_transaction(conn)
        async with conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(sql, params)
            rows = list(await cur.fetchall()) if cur.description else []
        if idle and self.in_transaction(conn):
            await conn.rollback()
        return rows


class PsycopgDialect(_PsycopgBase):
    """psycopg 3, blocking (``psycopg.Connection``)."""

    code = "psycopg"

    def __init__(self, connect_func: Callable[..., Any] | None = None) -> None:
        self._connect_func = connect_func or psycopg.Connection.connect

    def connect(self, host: HostInfo, props: Properties) -> Any:
        return self._connect_func(**self._connect_kwargs(host, props))

    def create_pool(
        self, name: str, host: HostInfo, props: Callable[[], Properties], settings: PoolSettings
    ) -> Any:
        """A psycopg_pool pool opening connections like :meth:`connect` (``None`` when the
        connect function is not a psycopg connection class's, or psycopg_pool is missing)."""
        cls = _connection_class(self._connect_func, psycopg.Connection)
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


# -- internal pools (psycopg_pool) -----------------------------------------------------------

# psycopg_pool opens connections in background workers and, when one fails, retries it with
# backoff while the waiting caller only sees a timeout. The wrapper needs the real error at
# once (a dead reader must not cost a pool timeout), so each pool's connection class records
# connect failures, and getconn waits in short slices, raising a failure recorded since it
# began. Both adapters also reset what the wrapper changes on a connection before reuse.
_SLICE = 0.1


def _connection_class(func: Callable[..., Any], base: type) -> type | None:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, base) and func.__name__ == "connect":
        return owner
    return None


class _Failures:
    __slots__ = ("at", "error")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.at = 0.0

    def record(self, error: BaseException) -> None:
        self.error = error
        self.at = monotonic()

    def since(self, start: float) -> BaseException | None:
        return self.error if self.error is not None and self.at >= start else None


def _pool_args(
    name: str,
    connection_class: type,
    kwargs: Callable[[], dict[str, Any]],
    settings: PoolSettings,
    reset: Callable[[Any], Any],
) -> dict[str, Any]:
    """psycopg_pool's arguments for one of our pools (both worlds)."""
    return {
        "kwargs": kwargs,
        "connection_class": connection_class,
        "min_size": settings.min_size,
        "max_size": settings.max_size,
        "open": False,
        "reset": reset,
        "name": name,
        "timeout": settings.timeout,
        "max_idle": settings.max_idle,
        "max_lifetime": settings.max_lifetime,
        "reconnect_timeout": max(settings.timeout, 1.0),
    }


def _timeout_error(name: str, wait: float, max_size: int) -> PoolTimeoutError:
    return PoolTimeoutError(
        f"no connection of the pool {name} came free within {wait:g} s (max_size {max_size})"
    )


class AsyncPsycopgPool:
    """A psycopg_pool ``AsyncConnectionPool`` for one host and user."""

    def __init__(
        self,
        pool_class: Any,
        name: str,
        connection_class: type,
        kwargs: Callable[[], dict[str, Any]],
        settings: PoolSettings,
    ) -> None:
        failures = self._failures = _Failures()

        class _Recording(connection_class):  # type: ignore[misc]
            @classmethod
            async def connect(cls, *args: Any, **kw: Any) -> Any:
                try:
                    return await super().connect(*args, **kw)
                except BaseException as e:
                    failures.record(e)
                    raise

        self.name = name
        self._kwargs = kwargs
        self._settings = settings
        self._pool = pool_class(**_pool_args(name, _Recording, kwargs, settings, self._reset))
        self._opened = False

    async def _reset(self, conn: Any) -> None:
        autocommit = bool(self._kwargs().get("autocommit", False))  # as opened
        if conn.autocommit != autocommit:
            await conn.set_autocommit(autocommit)
        if conn.read_only is not None:
            await conn.set_read_only(None)
        if conn.isolation_level is not None:
            await conn.set_isolation_level(None)

    async def getconn(self, timeout: float | None = None) -> Any:
        from psycopg_pool import PoolTimeout

        if not self._opened:
            await self._pool.open(wait=False)
            self._opened = True
        wait = self._settings.timeout if timeout is None else timeout
        start = monotonic()
        deadline = start + wait
        while True:
            left = deadline - monotonic()
            try:
                return await self._pool.getconn(timeout=max(min(_SLICE, left), 0.001))
            except PoolTimeout:
                error = self._failures.since(start)
                if error is not None:
                    raise error from None
                if left <= _SLICE:
                    raise _timeout_error(self.name, wait, self._settings.max_size) from None

    async def putconn(self, conn: Any, *, reusable: bool = True) -> None:
        if not reusable and not conn.closed:
            await conn.close()  # a closed connection is discarded by the pool
        await self._pool.putconn(conn)

    @property
    def idle(self) -> int:
        return int(self._pool.get_stats().get("pool_available", 0))

    @property
    def size(self) -> int:
        return int(self._pool.get_stats().get("pool_size", 0))

    async def close(self) -> None:
        if self._opened:
            await self._pool.close(timeout=1.0)


class PsycopgPool:
    """A psycopg_pool ``ConnectionPool`` for one host and user."""

    def __init__(
        self,
        pool_class: Any,
        name: str,
        connection_class: type,
        kwargs: Callable[[], dict[str, Any]],
        settings: PoolSettings,
    ) -> None:
        failures = self._failures = _Failures()

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
        self._pool = pool_class(**_pool_args(name, _Recording, kwargs, settings, self._reset))
        self._opened = False

    def _reset(self, conn: Any) -> None:
        autocommit = bool(self._kwargs().get("autocommit", False))  # as opened
        if conn.autocommit != autocommit:
            conn.set_autocommit(autocommit)
        if conn.read_only is not None:
            conn.set_read_only(None)
        if conn.isolation_level is not None:
            conn.set_isolation_level(None)

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
                return self._pool.getconn(timeout=max(min(_SLICE, left), 0.001))
            except PoolTimeout:
                error = self._failures.since(start)
                if error is not None:
                    raise error from None
                if left <= _SLICE:
                    raise _timeout_error(self.name, wait, self._settings.max_size) from None

    def putconn(self, conn: Any, *, reusable: bool = True) -> None:
        if not reusable and not conn.closed:
            conn.close()  # a closed connection is discarded by the pool
        self._pool.putconn(conn)

    @property
    def idle(self) -> int:
        return int(self._pool.get_stats().get("pool_available", 0))

    @property
    def size(self) -> int:
        return int(self._pool.get_stats().get("pool_size", 0))

    def close(self) -> None:
        if self._opened:
            self._pool.close(timeout=1.0)
