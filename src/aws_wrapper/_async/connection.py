"""The wrapper connection: a PEP 249 connection whose calls go through the plugin pipeline."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from operator import attrgetter
from time import monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, overload

from aws_wrapper import errors, rds_utils, telemetry
from aws_wrapper._compat import AIO, AAssignedBool, AResult
from aws_wrapper._forwarding import forwarding_class, names_of
from aws_wrapper.dialect_cache import known_dialect
from aws_wrapper.drivers import adriver_dialect_for
from aws_wrapper.drivers._base import isolation_level
from aws_wrapper.errors import (
    AwsWrapperError,
    ConfigurationError,
    ConnectionClosedError,
    FailoverError,
    adopt,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugin_registry import parse_plugin_codes
from aws_wrapper.properties import (
    LOGGER_LEVEL,
    WRAPPER_DIALECT,
    parse_properties,
)
from aws_wrapper.typing import Params, Query, Row

from .connection_provider import DIRECT, checked_provider
from .cursor import NO_ARGS, PASS_THROUGH, AsyncAwsWrapperCursor, HotPath, cursor_class
from .dialects import detect, dialect_for
from .host_list_provider import RdsHostListProvider, static_provider
from .plugin_manager import build_plugins
from .plugin_service import PluginServiceImpl
from .pooled_connection_provider import get_connection_provider
from .protocols import DriverConnection, DriverDialect
from .topology_monitor import monitor_knowing

if TYPE_CHECKING:
    import aiomysql
    import aiomysql.cursors
    import psycopg
    from mysql.connector.types import RowItemType
    from psycopg.rows import BaseRowFactory

    from aws_wrapper._compat import AMySQLConnectorConnection
    from aws_wrapper.typing import DictRow, MySQLParams, MySQLRow, TupleRow

logger = logging.getLogger("aws_wrapper")

_R = TypeVar("_R")  # the rows of a cursor or connection opened with a row factory
_C = TypeVar("_C")


class AsyncAwsWrapperConnection(Generic[Row, Query, Params]):
    """A database connection that survives failover, splits reads from writes, detects dead
    hosts and authenticates with AWS, depending on the plugins it was opened with.

    Open one with :func:`connect` or :meth:`connect`. It behaves like the driver's own
    connection (PEP 249, psycopg-style ``execute``), and always acts on the *current* driver
    connection, which plugins may replace.

    For type checkers it is generic over the driver's row, query and parameter types
    (:mod:`aws_wrapper.typing`), inferred from the connect function and ``row_factory`` /
    ``cursorclass``: ``AsyncAwsWrapperConnection[TupleRow]`` over psycopg.
    """

    __slots__ = (
        "__weakref__",
        "_driver",
        "_hot",
        "_manager",
        "_service",
    )

    # PEP 249 optional extension: the exception classes as connection attributes
    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, service: PluginServiceImpl) -> None:
        self._service = service
        self._driver = service.driver_dialect
        self._manager = service.manager
        # what the calls of the connection and its cursors read (chains, stamper, closed)
        self._hot = HotPath(service)
        # answer the driver connection's names (see __getattr__ below)
        self.__class__ = _connection_class(type(self), service.conn)

    # The overloads tell type checkers the row, query and parameter types of the driver the
    # connect function belongs to (the last one: a driver named by another spelling).
    @overload
    @classmethod
    async def connect(
        cls,
        target: Callable[..., AResult[psycopg.AsyncConnection[Any]]]
        | Literal["psycopg"]
        | None = None,
        conninfo: str = "",
        *,
        row_factory: BaseRowFactory[_R],
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[_R]: ...
    @overload
    @classmethod
    async def connect(
        cls,
        target: Callable[..., AResult[psycopg.AsyncConnection[Any]]]
        | Literal["psycopg"]
        | None = None,
        conninfo: str = "",
        *,
        row_factory: None = None,
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[TupleRow]: ...
    @overload
    @classmethod
    async def connect(
        cls,
        target: Callable[..., AResult[aiomysql.Connection]] | Literal["aiomysql"],
        conninfo: str = "",
        *,
        cursorclass: type[aiomysql.cursors.DictCursor],
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[DictRow, str, Any]: ...
    @overload
    @classmethod
    async def connect(
        cls,
        target: Callable[..., AResult[aiomysql.Connection]] | Literal["aiomysql"],
        conninfo: str = "",
        *,
        cursorclass: type[aiomysql.cursors.Cursor] | None = None,
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[TupleRow, str, Any]: ...
    @overload
    @classmethod
    async def connect(
        cls,
        target: Callable[..., AResult[AMySQLConnectorConnection]] | Literal["mysql-connector"],
        conninfo: str = "",
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[MySQLRow, str, MySQLParams]: ...
    @overload
    @classmethod
    async def connect(
        cls, target: str, conninfo: str = "", **kwargs: Any
    ) -> AsyncAwsWrapperConnection[Any, Any, Any]: ...
    @classmethod
    async def connect(
        cls,
        target: Callable[..., Any] | str | None = None,
        conninfo: str = "",
        **kwargs: Any,
    ) -> AsyncAwsWrapperConnection[Any, Any, Any]:
        """Open a wrapped connection.

        ``target`` is the driver's connect function (``psycopg.AsyncConnection.connect``,
        ``aiomysql.connect``, ``mysql.connector.aio.connect``) or a driver name; ``conninfo``
        a libpq connection string (psycopg only). Keyword arguments are wrapper properties
        (``plugins="failover_v2"``, ...) and driver parameters, told apart by name.
        """
        given = kwargs.pop("connection_provider", None)
        # (a runtime protocol check is slow: not for the default and installed providers,
        # which set_connection_provider checked)
        if given is not None:
            provider = checked_provider(given, "'connection_provider'")
        else:
            provider = get_connection_provider() or DIRECT
        override = kwargs.get("wrapper_driver_dialect")
        driver = adriver_dialect_for(target, str(override) if override is not None else None)
        raw = driver.parse_target(conninfo, kwargs)
        props = parse_properties(raw, driver.driver_params(), driver.code)
        level = props.get(LOGGER_LEVEL)
        if level is not None:
            logger.setLevel(level)
        host = driver.initial_host(props.driver)
        # the dialect: named, else known for the endpoint (detected before in this process,
        # or told by its name), else a first guess until the query on the new connection
        code = props.get(WRAPPER_DIALECT)
        if code is None:
            code = known_dialect(host.host, host.port, driver.engine)
            if code is None:  # an instance of a cluster the process knows: the cluster's
                monitor = monitor_knowing(host)
                if monitor is not None and monitor.dialect.engine == driver.engine:
                    code = monitor.dialect.code
            known = code is not None
        else:
            known = True
        dialect = dialect_for(
            code, driver, not known and rds_utils.classify(host.host).is_rds_cluster
        )
        service = PluginServiceImpl(
            props,
            driver,
            dialect,
            static_provider(host),
            provider,
            host,
        )
        specs = parse_plugin_codes(props)
        plugins = build_plugins(specs, service, props)
        tel = telemetry.from_properties(props)
        if tel is not None:  # the outermost link; none at all when telemetry is off
            from .plugins.telemetry import TelemetryPlugin

            plugins.insert(0, TelemetryPlugin(service, props, tel))
        service.set_plugins(plugins)
        if tel is not None and tel.plugin_spans:
            service.manager.plugin_spans = tel
        try:
            conn = await service.manager.connect(
                host, props, True, partial(service._open, host, props)
            )
        except AwsWrapperError:
            raise
        except Exception as e:
            raise service.connect_error(e, host) from e
        try:
            if not known:
                service.dialect = await detect(conn, driver, host)
            if service.dialect.has_topology and any(
                getattr(p, "needs_topology", False) for p in plugins
            ):
                service.host_list_provider = RdsHostListProvider(
                    host, service.dialect, driver, service.monitor_connection_provider, props
                )
            if service.conn is not conn:
                # without a query when the topology monitor knows where conn landed
                landed = await service.host_list_provider.identify(conn)
                await service.set_current_connection(conn, landed or host)
        except BaseException:
            driver.abort(conn)
            await service.release_connection(conn, reusable=False)
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "connected to %s (%s, dialect %s, plugins %s)",
                host.url,
                driver.code,
                service.dialect.code,
                ",".join(s.code for s in specs) or "none",
            )
        return cls(service)

    # -- state -------------------------------------------------------------------------------

    def _raw(self) -> DriverConnection:
        conn = self._service.conn
        if conn is None or self._hot.closed:
            raise ConnectionClosedError("the connection is closed")
        return conn

    async def _recover(self) -> DriverConnection:
        """Replace a lost driver connection (see ``PluginServiceImpl.recover``)."""
        await self._service.recover()
        return self._raw()

    def _failed(self, error: BaseException, raw: DriverConnection | None) -> None:
        """The except path of every call: the error leaves as an :class:`aws_wrapper.Error`
        (see :func:`aws_wrapper.errors.adopt`), and a driver connection left broken is aborted
        and replaced at the start of the next call. ``raw``: the connection the call used."""
        service = self._service
        if raw is not None and raw is service.conn and not service.lost:
            if not isinstance(error, Exception):
                # cancelled (or interrupted) half-way: what the server sends next is unknown
                service.mark_lost(raw, interrupted=True)
            elif (
                isinstance(error, FailoverError)
                or self._driver.is_network_error(error)
                or self._driver.is_closed(raw)
            ):
                service.mark_lost(raw)
        if isinstance(error, Exception):
            twin = adopt(error)
            if twin is not error:
                raise twin from error

    async def _guarded(
        self,
        guard: Any,
        method: str,
        error: Exception,
        tx: Any,
        raw: DriverConnection | None,
    ) -> None:
        """The except path of a call whose guard plugin runs inline (see
        ``plugin_manager.INLINE``): what the guard raises instead of ``error`` (a failover's
        outcome) leaves as the call's error; when it returns, ``error`` does. ``tx``: the
        driver's transaction state read before the call (``HotPath.tx_state``)."""
        try:
            await guard.call_failed(method, error, self._hot.tx_open(tx))
        except BaseException as e:
            self._failed(e, raw)
            raise

    async def _call(
        self, method: str, args: tuple[Any, ...], func: Callable[..., AResult[None]]
    ) -> None:
        """A state-changing call (off the hot path) through the pipeline."""
        raw = self._raw()
        try:
            if self._service.lost:
                raw = await self._recover()
            await self._manager.execute(method, self, args, partial(func, raw, *args))
        except BaseException as e:
            self._failed(e, raw)
            raise

    @property
    def driver_connection(self) -> DriverConnection:
        """The current driver connection (plugins may replace it; do not keep it)."""
        return self._raw()

    @property
    def current_host(self) -> HostInfo | None:
        """The host the current driver connection is on."""
        return self._service.current_host

    @property
    def driver_dialect(self) -> DriverDialect:
        return self._driver

    @property
    def dialect_code(self) -> str:
        """The database dialect in use ('pg', 'mysql', 'mariadb', ...)."""
        return self._service.dialect.code

    @property
    def lost(self) -> bool:
        """True when the current driver connection broke (a network error, a cancelled call,
        a failover that found no host): the next call replaces it (see docs/errors.md)."""
        return self._service.lost

    @property
    def closed(self) -> bool:
        conn = self._service.conn
        return self._hot.closed or conn is None or self._driver.is_closed(conn)

    @property
    def autocommit(self) -> bool:
        return self._driver.get_autocommit(self._raw())

    @autocommit.setter
    def autocommit(self, value: AAssignedBool) -> None:
        if AIO:
            raise AttributeError(
                "'autocommit' is read-only on async connections: use "
                "'await conn.set_autocommit(value)'"
            )
        self.set_autocommit(value)

    @property
    def read_only(self) -> bool:
        return self._driver.get_read_only(self._raw())

    @read_only.setter
    def read_only(self, value: AAssignedBool) -> None:
        if AIO:
            raise AttributeError(
                "'read_only' is read-only on async connections: use "
                "'await conn.set_read_only(value)'"
            )
        self.set_read_only(value)

    @property
    def isolation_level(self) -> str | None:
        """The isolation level set through :meth:`set_isolation_level` (None: the server's
        default)."""
        return self._service.session.isolation_level

    async def set_isolation_level(self, level: str) -> None:
        """'READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ' or 'SERIALIZABLE' for the
        following transactions; kept across failover and read/write switches."""
        normalized = isolation_level(level)
        await self._call(
            "Connection.set_isolation_level", (normalized,), self._driver.set_isolation_level
        )
        self._service.session.isolation_level = normalized

    @property
    def schema(self) -> str | None:
        """The schema set through :meth:`set_schema` (None: the connection's default)."""
        return self._service.session.schema

    async def set_schema(self, schema: str) -> None:
        """The default schema (PostgreSQL ``search_path``) or database (MySQL); kept across
        failover and read/write switches."""
        await self._call("Connection.set_schema", (schema,), self._driver.set_schema)
        self._service.session.schema = schema

    @property
    def in_transaction(self) -> bool:
        return self._driver.in_transaction(self._raw())

    async def set_autocommit(self, value: bool) -> None:
        value = _check_bool("autocommit", value)
        await self._call("Connection.set_autocommit", (value,), self._driver.set_autocommit)
        self._service.session.autocommit = value

    async def set_read_only(self, value: bool) -> None:
        value = _check_bool("read_only", value)
        await self._call("Connection.set_read_only", (value,), self._driver.set_read_only)
        self._service.session.read_only = value

    # -- PEP 249 -----------------------------------------------------------------------------

    @overload
    def cursor(
        self, *, row_factory: BaseRowFactory[_R], **kwargs: Any
    ) -> AsyncAwsWrapperCursor[_R, Query, Params]: ...
    @overload
    def cursor(
        self, cursor: type[aiomysql.cursors.DictCursor], /
    ) -> AsyncAwsWrapperCursor[DictRow, Query, Params]: ...
    @overload
    def cursor(
        self, *, dictionary: Literal[True], **kwargs: Any
    ) -> AsyncAwsWrapperCursor[dict[str, RowItemType], Query, Params]: ...
    @overload
    def cursor(
        self,
        *args: Any,
        row_factory: None = None,
        dictionary: Literal[False] | None = None,
        **kwargs: Any,
    ) -> AsyncAwsWrapperCursor[Row, Query, Params]: ...
    def cursor(self, *args: Any, **kwargs: Any) -> AsyncAwsWrapperCursor[Any, Query, Params]:
        """A new cursor; arguments go to the driver's ``cursor()`` (psycopg's
        ``row_factory=``, PyMySQL's and aiomysql's cursor class, mysql-connector's
        ``dictionary=True``, ...)."""
        if args or kwargs:
            return self._new_cursor(args, kwargs)
        hot = self._hot
        if hot.plain_cursor:
            # the driver makes cursors without I/O, nothing watches it and there are no
            # native cursors (False once the connection is closed)
            raw = hot.live
            try:
                cur = raw.cursor()
            except Exception:  # (raw None: the connection is lost, which _new_cursor handles)
                return self._new_cursor(args, kwargs)
            kind = hot.cursor_kind
            new = kind[1]() if type(cur) is kind[0] else cursor_class(hot, cur)()
            new._conn = self
            new._hot = hot
            new._args = NO_ARGS
            new._cur = cur
            new._owner = raw
            new._arraysize = None
            return new
        native = hot.native
        if native is not None:
            # the common case, kept short (a cursor per statement is common: PEP 249 style,
            # SQLAlchemy): an object of the driver's own cursor class, subclassed (see
            # aws_wrapper._async.native_cursor)
            raw = hot.live
            made = native(raw)
            made._aws_hot = hot
            made._aws_conn = self
            made._aws_owner = raw
            made._aws_busy = False
            return made  # type: ignore[no-any-return]
        raw = hot.live
        make = hot.native_make
        if make is not None:
            # made as the driver's own cursor() makes it: a round trip (stamped)
            stamping = hot.stamp_cursor
            if stamping:
                hot.since = monotonic()
            try:
                made = make(raw)
            except Exception:
                made = None  # the first call makes it anew, recovering and reporting as calls do
            if stamping:
                hot.since = None
            made_kind: Any = type(made)  # (a check mypy would narrow made to object by)
            if made_kind is not hot.native_made:  # none made (or another kind: rebound)
                return self._new_cursor((), {})
            made._aws_hot = hot
            made._aws_conn = self
            made._aws_owner = raw
            made._aws_busy = False
            return made  # type: ignore[no-any-return]
        return self._new_cursor(args, kwargs)

    def _new_cursor(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> AsyncAwsWrapperCursor[Any, Query, Params]:
        """``cursor()`` in every case: with the driver cursor made at once when that takes
        no I/O, else by the cursor's first call."""
        hot = self._hot
        raw = hot.live
        cur = None
        if raw is not None and not hot.closed:
            # make the driver cursor now when that takes no I/O: the first call then has
            # nothing to make (see DriverDialect.cursor)
            stamping = hot.stamp_cursor  # mysql-connector's cursor() is a round trip
            if stamping:
                hot.since = monotonic()
            try:
                if hot.direct_cursor:
                    cur = raw.cursor(*args, **kwargs)
                elif hot.cursor_now is not None:
                    cur = hot.cursor_now(raw, *args, **kwargs)
            except Exception:
                cur = None  # the first call makes it anew, recovering and reporting as calls do
            if stamping:
                hot.since = None
        elif hot.closed or hot.service.conn is None:
            raise ConnectionClosedError("the connection is closed")
        # else the driver connection is lost: the first call replaces it
        # made here, with no __init__ to call; its class forwards the driver cursor's names
        # (cursor_class)
        if cur is None:
            new = PASS_THROUGH[hot.lean]()
        else:
            kind = hot.cursor_kind
            new = kind[1]() if type(cur) is kind[0] else cursor_class(hot, cur)()
        new._conn = self
        new._hot = hot
        new._args = (args, kwargs) if args or kwargs else NO_ARGS
        new._cur = cur
        new._owner = raw if cur is not None else None
        new._arraysize = None
        return new

    async def execute(
        self, query: Query, params: Params | None = None, **kwargs: Any
    ) -> AsyncAwsWrapperCursor[Row, Query, Params]:
        """Run a query on a new cursor and return it (psycopg style)."""
        cur: AsyncAwsWrapperCursor[Row, Query, Params] = self.cursor()
        await cur.execute(query, params, **kwargs)
        return cur

    async def commit(self) -> None:
        hot = self._hot
        await self._end("Connection.commit", hot.ch_commit, hot.g_commit, hot.driver.commit)

    async def rollback(self) -> None:
        hot = self._hot
        await self._end("Connection.rollback", hot.ch_rollback, hot.g_rollback, hot.driver.rollback)

    async def _end(
        self,
        method: str,
        chain: Any,
        guard: Any,
        end: Callable[[DriverConnection], AResult[None]],
    ) -> None:
        """Commit or roll back (``end``) through ``method``'s chain and guard."""
        hot = self._hot
        raw = hot.live
        if raw is None or hot.closed:
            raw = self._raw()  # raises if closed; else the driver connection is lost
        try:
            if hot.live is None:
                if method == "Connection.rollback":
                    # what a rollback asks for (no transaction) is what a new connection has
                    hot.service.lost_in_transaction = False
                raw = await self._recover()
        except BaseException as e:
            self._failed(e, raw)
            raise
        tx = guard is not None and hot.tx_state(raw)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        try:
            if chain is None:
                await end(raw)
            else:
                await chain(self, (), partial(end, raw))
        except BaseException as e:
            if stamping:
                hot.since = None
            if guard is not None and isinstance(e, Exception):
                await self._guarded(guard, method, e, tx, raw)
            self._failed(e, raw)
            raise
        if stamping:
            hot.since = None

    async def close(self) -> None:
        hot = self._hot
        if hot.closed:
            return
        hot.close()
        raw = self._service.conn
        try:
            if raw is not None:
                await self._manager.execute(
                    "Connection.close",
                    self,
                    (),
                    partial(self._service.release_connection, raw, reusable=not self._service.lost),
                )
        except Exception as e:
            self._failed(e, None)
            raise
        finally:
            await self._service.release_resources()

    def abort(self) -> None:
        """Break the connection now, from any task or thread: a call blocked on it fails with
        a network error, and the next call replaces the driver connection (failing over on a
        cluster, see docs/errors.md)."""
        raw = self._service.conn
        if raw is not None:
            self._driver.abort(raw)

    async def _execute_sql(self, sql: str) -> None:
        """Run a statement of our own (savepoints, transaction control)."""
        cur: AsyncAwsWrapperCursor[Any, Any, Any] = self.cursor()
        await cur.execute(sql)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """A transaction block: commit on success, roll back on error. Nested blocks use
        savepoints. Works whatever the autocommit setting."""
        raw = self._raw()
        if self._driver.in_transaction(raw):
            name = f"aws_wrapper_sp_{id(self) % 1000000}_{_next_savepoint()}"
            await self._execute_sql(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                await self._execute_sql(f"ROLLBACK TO SAVEPOINT {name}")
                raise
            await self._execute_sql(f"RELEASE SAVEPOINT {name}")
            return
        explicit = self._driver.get_autocommit(raw)
        if explicit:
            await self._execute_sql("BEGIN")
        try:
            yield self
        except BaseException:
            if self._service.lost:
                # the error broke the connection, and the transaction with it: the error
                # leaving this block tells the application, so the next call need not
                self._service.lost_in_transaction = False
            elif not self.closed:
                if explicit:
                    await self._execute_sql("ROLLBACK")
                else:
                    await self.rollback()
            raise
        if explicit:
            await self._execute_sql("COMMIT")
        else:
            await self.commit()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._service.lost:
                pass  # nothing to commit or roll back: the connection is closed below
            elif not self.closed and not self._driver.get_autocommit(self._raw()):
                if exc_type is None:
                    await self.commit()
                else:
                    try:
                        await self.rollback()
                    except Exception:
                        pass  # the error that ended the block is the one to report
        finally:
            await self.close()

    if TYPE_CHECKING:
        # Any other public name is the current driver connection's (psycopg's ``info``,
        # ``adapters``, ...; frameworks such as SQLAlchemy and Django use them), read anew
        # each time: a failover or a read/write switch replaces the driver connection. At run
        # time, a connection's class is a subclass made for its driver connection's class,
        # which forwards those names (_connection_class(); see aws_wrapper._forwarding for
        # why not a __getattr__).
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        host = self._service.current_host
        where = f" to {host}" if host else ""
        return f"<{type(self).__name__} {self._driver.code}{where} {state}>"


_CURRENT_CONNECTION = attrgetter("_service.conn")
_CLASSES: dict[tuple[type, type], type] = {}


def _connection_class(cls: type[_C], raw: DriverConnection) -> type[_C]:
    """The class of ``cls`` connections over driver connections of ``raw``'s class: it
    answers any public name ``cls`` does not define with the current driver connection's
    (see :mod:`aws_wrapper._forwarding`)."""
    cls = cls.__dict__.get("__forwarding_base__", cls)  # made here already: its base's
    key = (cls, type(raw))
    made = _CLASSES.get(key)
    if made is None:
        made = _CLASSES[key] = forwarding_class(cls, names_of(raw), _CURRENT_CONNECTION)
    return made


_savepoints = 0


def _next_savepoint() -> int:
    global _savepoints
    _savepoints += 1
    return _savepoints


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a bool, got {type(value).__name__}")
    return value


@overload
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., AResult[psycopg.AsyncConnection[Any]]] | Literal["psycopg"] | None = None,
    row_factory: BaseRowFactory[_R],
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[_R]: ...
@overload
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., AResult[psycopg.AsyncConnection[Any]]] | Literal["psycopg"] | None = None,
    row_factory: None = None,
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[TupleRow]: ...
@overload
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., AResult[aiomysql.Connection]] | Literal["aiomysql"],
    cursorclass: type[aiomysql.cursors.DictCursor],
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[DictRow, str, Any]: ...
@overload
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., AResult[aiomysql.Connection]] | Literal["aiomysql"],
    cursorclass: type[aiomysql.cursors.Cursor] | None = None,
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[TupleRow, str, Any]: ...
@overload
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., AResult[AMySQLConnectorConnection]] | Literal["mysql-connector"],
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[MySQLRow, str, MySQLParams]: ...
@overload
async def connect(
    conninfo: str = "", *, driver: str, **kwargs: Any
) -> AsyncAwsWrapperConnection[Any, Any, Any]: ...
async def connect(
    conninfo: str = "",
    *,
    driver: Callable[..., Any] | str | None = None,
    **kwargs: Any,
) -> AsyncAwsWrapperConnection[Any, Any, Any]:
    """Open a wrapped connection.

    ``driver`` is a driver name or the driver's connect function (default psycopg);
    ``conninfo`` a libpq connection string (psycopg only). Other keyword arguments are wrapper
    properties and driver parameters::

        conn = await aws_wrapper.aio.connect(
            "host=db.cluster-xyz.us-east-1.rds.amazonaws.com dbname=app user=app",
            plugins="failover_v2,host_monitoring_v2",
        )
    """
    target: Any = driver  # the overloads above have typed it
    conn: AsyncAwsWrapperConnection[Any, Any, Any]
    conn = await AsyncAwsWrapperConnection.connect(target, conninfo, **kwargs)
    return conn
