"""psycopg 3, what both worlds share: parameters, state reads, error classification, the
psycopg_pool glue. The dialects themselves are ``aws_wrapper._async.drivers.psycopg`` (written
once) and its generated twin ``aws_wrapper._sync.drivers.psycopg``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from operator import attrgetter
from time import monotonic
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from aws_wrapper.errors import PoolTimeoutError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.properties import Properties, notice_once
from aws_wrapper.resolver import connect_address

from ._base import (
    PG_DEFAULT_PORT,
    PG_LOGIN_MESSAGES,
    PG_LOGIN_SQLSTATES,
    PG_NETWORK_SQLSTATES,
    PG_NOT_NETWORK_MESSAGES,
    SOCKET_ERRORS,
    PeerNetwork,
    host_from,
    parse_pg_conninfo,
    peer_network,
    shutdown_fd,
)

_PSYCOPG_KWARGS = frozenset(
    {"autocommit", "prepare_threshold", "row_factory", "cursor_factory", "context", "conninfo"}
)
_params_cache: frozenset[str] | None = None
_NO_TRANSACTION = frozenset({TransactionStatus.IDLE, TransactionStatus.UNKNOWN})
_CLIENT_CURSORS = (psycopg.Cursor, psycopg.AsyncCursor)
_SERVER_CURSORS = (psycopg.ServerCursor, psycopg.AsyncServerCursor)


def _libpq_params() -> frozenset[str]:
    global _params_cache
    if _params_cache is None:
        names = {opt.keyword.decode() for opt in psycopg.pq.Conninfo.get_defaults()}
        _params_cache = frozenset(names | _PSYCOPG_KWARGS | {"database"})
    return _params_cache


def _apply_peer_network(kwargs: dict[str, Any], net: PeerNetwork) -> None:
    """``tcp_keepalive*`` as libpq's ``keepalives*``; ``socket_timeout`` as the server's
    ``statement_timeout`` (libpq has no socket read timeout). libpq parameters given too win."""
    on = net.keepalive
    if on is not None:
        kwargs.setdefault("keepalives", 1 if on else 0)
    for param, value in (
        ("keepalives_idle", net.idle),
        ("keepalives_interval", net.interval),
        ("keepalives_count", net.count),
    ):
        if value is not None:
            kwargs.setdefault(param, value)
    timeout = net.timeout
    if timeout is not None:
        ms = max(1, math.ceil(timeout * 1000))
        options = str(kwargs.get("options") or "")
        if "statement_timeout" not in options:
            kwargs["options"] = f"{options} -c statement_timeout={ms}".strip()
        notice_once(
            "socket_timeout:psycopg",
            "property 'socket_timeout' with psycopg: applied as the server's statement_timeout "
            f"({ms} ms: a statement running longer is cancelled by the server with "
            "QueryCanceled); libpq has no socket read timeout, so a host that stops answering "
            "is detected by host_monitoring_v2 and TCP keepalives (tcp_keepalive*), not by it",
        )


class PsycopgDialectBase:
    """What the psycopg dialects of both worlds share (no I/O here)."""

    code = "psycopg"
    engine = "postgresql"
    default_port = PG_DEFAULT_PORT
    connect_timeout_param = "connect_timeout"  # libpq: whole seconds, at least 2
    direct_cursor = True  # cursor() is conn.cursor(...), no I/O, in both worlds
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
        if "database" in kwargs:  # aws-advanced-python-wrapper's name (it wins, as there)
            kwargs["dbname"] = kwargs.pop("database")
        net = peer_network(props)
        if net is not None:
            _apply_peer_network(kwargs, net)
        if kwargs.get("host") != host.host:
            # hostaddr pins the address of the *given* host; another host must be resolved
            kwargs.pop("hostaddr", None)
        kwargs["host"] = host.host
        kwargs["port"] = host.port
        address = connect_address(host.host, props.wrapper)
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

    def native_cursor_base(self, conn: Any) -> type | None:
        """The class native wrapper cursors of ``conn`` subclass (see
        ``aws_wrapper._async.native_cursor``): its ``cursor_factory``, a client-side cursor
        class made as ``cls(conn)`` without I/O (psycopg's own ``cursor()`` does just that)."""
        factory = getattr(conn, "cursor_factory", None)
        if (
            isinstance(factory, type)
            and issubclass(factory, _CLIENT_CURSORS)
            and not issubclass(factory, _SERVER_CURSORS)
        ):
            return factory
        return None

    def get_autocommit(self, conn: Any) -> bool:
        return bool(conn.autocommit)

    def get_read_only(self, conn: Any) -> bool:
        return bool(conn.read_only)

    def in_transaction(self, conn: Any) -> bool:
        # pgconn, not conn.info (a new object on every access).
        # UNKNOWN: the connection is broken, and a broken connection holds no transaction
        return conn.pgconn.transaction_status not in _NO_TRANSACTION

    # read before every guarded call (see DriverDialect.in_transaction): no frame of ours
    transaction_state = staticmethod(attrgetter("pgconn.transaction_status"))

    @staticmethod
    def transaction_open(state: Any) -> bool:
        return state not in _NO_TRANSACTION

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


INLINE_EXECUTE = (
    ("_conn", "lock", "wait", "_execute_gen", "e", "_NO_TRACEBACK", "with_traceback"),
    ("self", "query", "params", "prepare", "binary"),
)
"""The names and first arguments of psycopg's ``(Async)Cursor.execute``, which is
``with self._conn.lock: self._conn.wait(self._execute_gen(query, params, ...))`` (its errors
re-raised without a traceback). A native cursor over a driver execute with exactly these does
the same itself when called without keywords: one coroutine (and frame) less per statement,
an object less alive while the statement runs for the garbage collector's young generations
to walk (issue 16, 1,000 async connections)."""


def inlined_errors(d_execute: Any) -> tuple[type[BaseException], ...]:
    """When ``d_execute`` is psycopg's execute as :data:`INLINE_EXECUTE` describes it, the
    errors it re-raises without a traceback (psycopg's ``_NO_TRACEBACK``); else an empty
    tuple: no inlining."""
    code = getattr(d_execute, "__code__", None)
    if (
        code is None
        or not str(getattr(d_execute, "__module__", "")).startswith("psycopg.")
        or code.co_names != INLINE_EXECUTE[0]
        or code.co_varnames[: len(INLINE_EXECUTE[1])] != INLINE_EXECUTE[1]
    ):
        return ()
    errors = getattr(psycopg.errors, "_NO_TRACEBACK", None)
    if not isinstance(errors, tuple):
        return ()  # a psycopg that reads a name of it we do not know: no inlining
    return errors


# -- internal pools (psycopg_pool) -----------------------------------------------------------

# psycopg_pool opens connections in background workers and, when one fails, retries it with
# backoff while the waiting caller only sees a timeout. The wrapper needs the real error at
# once (a dead reader must not cost a pool timeout), so each pool's connection class records
# connect failures, and getconn waits in short slices, raising a failure recorded since it
# began. Both adapters also reset what the wrapper changes on a connection before reuse, in
# putconn itself rather than through the pool's reset callback: with a callback, psycopg_pool
# returns connections in a worker, and a getconn right after a putconn opens another one.
POOL_WAIT_SLICE = 0.1
"""How long one wait for a pooled connection lasts before the recorded failures are read."""


def pool_connection_class(func: Callable[..., Any], base: type) -> type | None:
    """The psycopg connection class (``base`` or a subclass) whose ``connect`` ``func`` is;
    None for any other connect function (no psycopg_pool pool for it)."""
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, base) and func.__name__ == "connect":
        return owner
    return None


class ConnectFailures:
    """The last connect failure of one pool's connection class, and when it happened."""

    __slots__ = ("at", "error")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.at = 0.0

    def record(self, error: BaseException) -> None:
        self.error = error
        self.at = monotonic()

    def since(self, start: float) -> BaseException | None:
        return self.error if self.error is not None and self.at >= start else None


def pool_args(
    name: str,
    connection_class: type,
    kwargs: Callable[[], dict[str, Any]],
    settings: PoolSettings,
) -> dict[str, Any]:
    """psycopg_pool's arguments for one of our pools (both worlds)."""
    return {
        "kwargs": kwargs,
        "connection_class": connection_class,
        "min_size": settings.min_size,
        "max_size": settings.max_size,
        "open": False,
        "name": name,
        "timeout": settings.timeout,
        "max_idle": settings.max_idle,
        "max_lifetime": settings.max_lifetime,
        "reconnect_timeout": max(settings.timeout, 1.0),
    }


def pool_timeout_error(name: str, wait: float, max_size: int) -> PoolTimeoutError:
    return PoolTimeoutError(
        f"no connection of the pool {name} came free within {wait:g} s (max_size {max_size})"
    )


class PsycopgPoolBase:
    """What the psycopg_pool adapters of both worlds share."""

    _pool: Any

    @property
    def idle(self) -> int:
        return int(self._pool.get_stats().get("pool_available", 0))

    @property
    def size(self) -> int:
        return int(self._pool.get_stats().get("pool_size", 0))
