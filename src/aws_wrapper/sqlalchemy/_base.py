"""What every aws_wrapper SQLAlchemy dialect shares, sync and async: the DB-API module SQLAlchemy
sees, disconnect detection, the ping, the ``aws_read_only`` connection characteristic and the
session settings made through the wrapper (so that failover replays them)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, cast

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import AdaptedConnection, Connection, Engine, characteristics
from sqlalchemy.engine.interfaces import (
    DBAPIConnection,
    DBAPICursor,
    DBAPIModule,
    Dialect,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util.concurrency import await_, in_greenlet

from aws_wrapper import errors
from aws_wrapper._async.connection import AsyncAwsWrapperConnection
from aws_wrapper._sync.connection import AwsWrapperConnection
from aws_wrapper._sync.connection import connect as sync_connect
from aws_wrapper.drivers import dbapi_module

if TYPE_CHECKING:
    from sqlalchemy.engine.default import DefaultDialect

    _DialectBase = DefaultDialect
else:
    _DialectBase = object

logger = logging.getLogger("aws_wrapper.sqlalchemy")

AWS_READ_ONLY = "aws_read_only"
"""The execution option (a connection characteristic) that sets the wrapper's ``read_only``:
with the ``read_write_splitting`` or ``srw`` plugin, the connection moves to a reader."""

PLUGINS = "plugins"
PLUGINS_IN_URL = "wrapper_plugins"
"""The URL query name of the wrapper's ``plugins`` property (SQLAlchemy removes ``plugins``
from URLs: it names SQLAlchemy's own engine plugins)."""

WrapperConnection = AwsWrapperConnection | AsyncAwsWrapperConnection


def error_classes(driver_errors: object) -> dict[str, tuple[type[Exception], ...]]:
    """:func:`aws_wrapper.errors.paired_error_classes`: each PEP 249 exception name is the
    pair (the driver's class, aws_wrapper's class), which SQLAlchemy's ``isinstance`` /
    ``except dbapi.Error`` / ``DBAPIError.instance`` all accept."""
    return errors.paired_error_classes(driver_errors)


class SyncWrapperDBAPI:
    """The DB-API module of a blocking aws_wrapper dialect: the attributes of the driver's
    DB-API module (the table's, :func:`aws_wrapper.drivers.dbapi_module`: type objects,
    constants, psycopg's ``adapters``, PyMySQL's ``cursors``, ...), the exception classes of
    :func:`error_classes`, and ``connect`` = :func:`aws_wrapper.connect` with the driver
    named."""

    Error: tuple[type[Exception], type[Exception]]
    InterfaceError: tuple[type[Exception], type[Exception]]
    DatabaseError: tuple[type[Exception], type[Exception]]
    DataError: tuple[type[Exception], type[Exception]]
    OperationalError: tuple[type[Exception], type[Exception]]
    IntegrityError: tuple[type[Exception], type[Exception]]
    InternalError: tuple[type[Exception], type[Exception]]
    ProgrammingError: tuple[type[Exception], type[Exception]]
    NotSupportedError: tuple[type[Exception], type[Exception]]

    def __init__(self, driver: str) -> None:
        module = dbapi_module(driver, aio=False)
        self._driver = driver
        self._module = module
        self.__dict__.update(error_classes(module))

    def connect(self, *args: Any, **kwargs: Any) -> AwsWrapperConnection:
        conninfo = str(args[0]) if args else ""
        return sync_connect(conninfo, driver=self._driver, **kwargs)

    def __getattr__(self, name: str) -> Any:
        module = self.__dict__.get("_module")
        if module is None:
            raise AttributeError(name)
        return getattr(module, name)

    def __repr__(self) -> str:
        return f"<aws_wrapper DB-API over {self._module.__name__}>"


def as_dbapi_module(module: object) -> DBAPIModule:
    """``module`` as SQLAlchemy's DB-API module protocol (it is one by duck typing)."""
    found: DBAPIModule = module  # type: ignore[assignment]
    return found


# -- finding the wrapper connection ----------------------------------------------------------


def wrapper_or_none(obj: object) -> WrapperConnection | None:
    """The aws_wrapper connection behind ``obj``: itself, a SQLAlchemy ``Connection`` (sync, or
    the ``sync_connection`` of an ``AsyncConnection``), a pooled connection
    (``PoolProxiedConnection``, what ``get_raw_connection()`` returns) or an asyncio adapter
    (``AdaptedConnection``); None when there is none."""
    for _ in range(5):
        if isinstance(obj, AwsWrapperConnection | AsyncAwsWrapperConnection):
            return obj
        if isinstance(obj, Connection):
            fairy = obj._dbapi_connection  # without reconnecting an invalidated connection
            obj = None if fairy is None else fairy.dbapi_connection
        elif isinstance(obj, PoolProxiedConnection):
            obj = obj.dbapi_connection
        elif isinstance(obj, AdaptedConnection):
            obj = obj.driver_connection
        else:
            sync_connection = getattr(obj, "sync_connection", None)  # ext.asyncio.AsyncConnection
            if not isinstance(sync_connection, Connection):
                return None
            obj = sync_connection
    return None


def wrapper_connection(obj: object) -> WrapperConnection:
    """The aws_wrapper connection (``AwsWrapperConnection`` or ``AsyncAwsWrapperConnection``)
    behind a SQLAlchemy connection object of an aws_wrapper dialect: a ``Connection``, an
    ``AsyncConnection``, what ``get_raw_connection()`` returns, or a DB-API connection.

    Use it to read ``current_host`` or call wrapper methods; do not keep it past the
    SQLAlchemy connection's use (the pool may close or hand it to someone else)."""
    found = wrapper_or_none(obj)
    if found is None:
        raise TypeError(
            f"{type(obj).__name__} is not (and does not hold) an aws_wrapper connection: is "
            "the engine's URL one of the aws_wrapper dialects (postgresql+aws_wrapper_psycopg, "
            "mysql+aws_wrapper_pymysql, ...)?"
        )
    return found


def is_retryable(error: BaseException) -> bool:
    """True when ``error`` (raised by SQLAlchemy on an aws_wrapper dialect) means the connection
    was lost or moved and the work may be re-run, with a new transaction: a
    ``sqlalchemy.exc.DBAPIError`` whose ``.orig`` is a ``FailoverSuccessError`` (nothing was
    committed) or a ``TransactionResolutionUnknownError`` (the transaction's outcome is unknown:
    re-run it only if it is idempotent, or check first), or any error for which SQLAlchemy
    invalidated the connection (a disconnect). Call ``rollback()`` on the session or connection
    before re-running."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig: BaseException | None = error.orig
    retry = isinstance(orig, errors.FailoverSuccessError | errors.TransactionResolutionUnknownError)
    return retry or bool(error.connection_invalidated)


class _Classifier(Protocol):
    def is_network_error(self, error: BaseException) -> bool: ...


# -- the dialect mixin -----------------------------------------------------------------------


class AwsWrapperDialect(_DialectBase):
    """Mixed in before a SQLAlchemy driver dialect (``PGDialect_psycopg``, ...)."""

    aws_driver: ClassVar[str]
    """The aws_wrapper driver name (``psycopg``, ``pymysql``, ``aiomysql``, ...)."""
    aws_async: ClassVar[bool] = False

    _aws_classifier: _Classifier | None = None

    def _aws_wrapper(self, dbapi_connection: object) -> WrapperConnection:
        return wrapper_connection(dbapi_connection)

    def _aws_driver_dialect(self, connection: object) -> _Classifier:
        wrapper = wrapper_or_none(connection)
        if wrapper is not None:
            return wrapper.driver_dialect
        if self._aws_classifier is None:
            from aws_wrapper.drivers import adriver_dialect_for, driver_dialect_for

            find = adriver_dialect_for if self.aws_async else driver_dialect_for
            self._aws_classifier = find(self.aws_driver)
        return self._aws_classifier

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        """Open a wrapper connection, with ``wrapper_plugins`` (URL query or connect_args)
        renamed ``plugins``: SQLAlchemy takes ``plugin``/``plugins`` out of every URL's query
        (they name its own engine plugins), so the wrapper's plugin list goes in URLs under
        that name."""
        if PLUGINS_IN_URL in cparams:
            if PLUGINS in cparams:
                raise sa_exc.ArgumentError(
                    f"give the wrapper's plugins once: '{PLUGINS_IN_URL}' (URL) or "
                    f"'{PLUGINS}' (connect_args), not both"
                )
            cparams[PLUGINS] = cparams.pop(PLUGINS_IN_URL)
        return super().connect(*cargs, **cparams)

    # -- disconnects -----------------------------------------------------------------------

    def is_disconnect(
        self,
        e: Exception,
        connection: PoolProxiedConnection | DBAPIConnection | None,
        cursor: DBAPICursor | None,
    ) -> bool:
        """True for the errors after which the connection must not be reused as it is: the
        failover errors (the connection was moved to another host, or none was found; the
        whole pool then points at a cluster that changed), a closed wrapper connection, a
        connection that could not be opened, and the driver's network errors."""
        error: BaseException = e
        if isinstance(error, errors.FailoverError | errors.ConnectionClosedError):
            return True
        if isinstance(error, errors.ConnectError):
            return not isinstance(error, errors.LoginError)
        if isinstance(error, errors.AwsWrapperError):
            return False  # configuration, read/write switch refused, internal pool timeout
        if self._aws_driver_dialect(connection).is_network_error(error):
            return True
        try:
            return bool(super().is_disconnect(cast("DBAPIModule.Error", e), connection, cursor))
        except AttributeError:  # the driver dialect's checks read a closed connection
            return False

    def do_ping(self, dbapi_connection: DBAPIConnection) -> Literal[True]:
        """A round trip on the current driver connection, below the plugins (a dead pooled
        connection is replaced by the pool rather than failed over), leaving no transaction
        open (a read/write switch right after must not be refused)."""
        wrapper = self._aws_wrapper(dbapi_connection)
        raw = wrapper.driver_connection  # ConnectionClosedError when closed: a disconnect
        if isinstance(wrapper, AsyncAwsWrapperConnection):
            adriver = wrapper.driver_dialect
            idle = not adriver.in_transaction(raw)
            await_(adriver.ping(raw))
            if idle and adriver.in_transaction(raw):
                await_(adriver.rollback(raw))
        else:
            driver = wrapper.driver_dialect
            idle = not driver.in_transaction(raw)
            driver.ping(raw)
            if idle and driver.in_transaction(raw):
                driver.rollback(raw)
        return True

    @classmethod
    def engine_created(cls, engine: Engine) -> None:
        if not event.contains(engine.pool, "checkout", _refuse_closed):
            event.listen(engine.pool, "checkout", _refuse_closed)

    # -- session settings through the wrapper (replayed after failover) -------------------

    def _aws_set_autocommit(self, dbapi_connection: object, value: bool) -> None:
        wrapper = self._aws_wrapper(dbapi_connection)
        if isinstance(wrapper, AsyncAwsWrapperConnection):
            await_(wrapper.set_autocommit(value))
        else:
            wrapper.set_autocommit(value)

    def _aws_set_isolation_level(self, dbapi_connection: object, level: object) -> None:
        wrapper = self._aws_wrapper(dbapi_connection)
        name = str(getattr(level, "name", level))  # psycopg's IsolationLevel or a string
        if isinstance(wrapper, AsyncAwsWrapperConnection):
            await_(wrapper.set_isolation_level(name))
        else:
            wrapper.set_isolation_level(name)

    # -- aws_read_only ---------------------------------------------------------------------

    def aws_get_read_only(self, dbapi_connection: object) -> bool:
        return self._aws_wrapper(dbapi_connection).read_only

    def aws_set_read_only(self, dbapi_connection: object, value: bool) -> None:
        wrapper = self._aws_wrapper(dbapi_connection)
        if isinstance(wrapper, AsyncAwsWrapperConnection):
            await_(wrapper.set_read_only(value))
        else:
            wrapper.set_read_only(value)

    def aws_reset_read_only(self, dbapi_connection: object) -> None:
        """Back to read-write when the connection returns to the pool. This runs where
        SQLAlchemy cannot handle an error (the pool's check-in); a connection that fails to
        switch back is closed, and the pool replaces it at its next checkout."""
        wrapper = wrapper_or_none(dbapi_connection)
        if wrapper is None or wrapper.closed:
            return
        try:
            if wrapper.read_only:
                self.aws_set_read_only(dbapi_connection, False)
        except Exception:
            logger.warning(
                "could not switch a connection back to read-write on its return to the pool; "
                "closing it",
                exc_info=True,
            )
            _discard(wrapper)


def _discard(wrapper: WrapperConnection) -> None:
    try:
        if isinstance(wrapper, AsyncAwsWrapperConnection):
            if in_greenlet():
                await_(wrapper.close())
                return
        else:
            wrapper.close()
            return
    except Exception:
        pass
    wrapper.abort()


def _refuse_closed(
    dbapi_connection: DBAPIConnection,
    record: ConnectionPoolEntry,
    proxy: PoolProxiedConnection,
) -> None:
    """Pool checkout: a wrapper connection closed while pooled (see
    :meth:`AwsWrapperDialect.aws_reset_read_only`) is replaced, not handed out."""
    wrapper = wrapper_or_none(dbapi_connection)
    if wrapper is not None and wrapper.closed:
        raise sa_exc.DisconnectionError("the pooled aws_wrapper connection is closed")


def _aws(dialect: Dialect) -> AwsWrapperDialect:
    if not isinstance(dialect, AwsWrapperDialect):
        raise sa_exc.ArgumentError(
            f"the '{AWS_READ_ONLY}' execution option needs an aws_wrapper dialect, not "
            f"{dialect.name}+{dialect.driver}"
        )
    return dialect


class AwsReadOnlyCharacteristic(characteristics.ConnectionCharacteristic):
    """``execution_options(aws_read_only=True)``: the wrapper's ``read_only`` (a reader with
    read/write splitting), for an engine, a connection or a session's bind; back to False when
    the connection returns to the pool. Like the isolation level, it cannot change inside a
    transaction."""

    transactional: ClassVar[bool] = True

    def reset_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection) -> None:
        _aws(dialect).aws_reset_read_only(dbapi_conn)

    def set_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection, value: Any) -> None:
        if not isinstance(value, bool):
            raise sa_exc.ArgumentError(
                f"execution option '{AWS_READ_ONLY}' must be True or False, got {value!r}"
            )
        _aws(dialect).aws_set_read_only(dbapi_conn, value)

    def set_connection_characteristic(
        self, dialect: Dialect, conn: Connection, dbapi_conn: DBAPIConnection, value: Any
    ) -> None:
        """As :meth:`set_characteristic`, with the wrapper's errors handled like those of a
        statement: wrapped in ``sqlalchemy.exc.DBAPIError`` (``handle_error`` events run), and
        the connection invalidated (a half-made switch is not reused; a failover error
        invalidates the pool too)."""
        if not isinstance(value, bool):
            self.set_characteristic(dialect, dbapi_conn, value)  # raises ArgumentError
        try:
            self.set_characteristic(dialect, dbapi_conn, value)
        except Exception as e:
            try:
                conn._handle_dbapi_exception(e, None, None, None, None)
            finally:
                if not conn.invalidated:
                    conn.invalidate(e)

    def get_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection) -> Any:
        return _aws(dialect).aws_get_read_only(dbapi_conn)


def with_aws_characteristics(
    base: Mapping[str, characteristics.ConnectionCharacteristic],
) -> Any:
    """A dialect's ``connection_characteristics`` plus ``aws_read_only``."""
    merged = dict(base)
    merged[AWS_READ_ONLY] = AwsReadOnlyCharacteristic()
    from sqlalchemy.util import immutabledict

    return immutabledict(merged)
