"""``postgresql+aws_wrapper_psycopg://``: SQLAlchemy's psycopg 3 dialects over aws_wrapper.

The blocking dialect (``create_engine``) connects with :func:`aws_wrapper.connect`, the asyncio
one (``create_async_engine``, or the explicit ``postgresql+aws_wrapper_psycopg_async://``) with
:func:`aws_wrapper.aio.connect`; both with ``driver="psycopg"``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.dialects.postgresql.psycopg import (
    AsyncAdapt_psycopg_connection,
    AsyncAdapt_psycopg_cursor,
    AsyncAdapt_psycopg_ss_cursor,
    PGDialect_psycopg,
    PGDialectAsync_psycopg,
    PsycopgAdaptDBAPI,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPIModule, Dialect
from sqlalchemy.util.concurrency import await_

from aws_wrapper._async.connection import AsyncAwsWrapperConnection
from aws_wrapper._async.connection import connect as async_connect
from aws_wrapper.drivers import dbapi_module

from ._base import (
    AwsWrapperDialect,
    SyncWrapperDBAPI,
    as_dbapi_module,
    error_classes,
    with_aws_characteristics,
)


class PGDialect_aws_wrapper_psycopg(AwsWrapperDialect, PGDialect_psycopg):
    """``postgresql+aws_wrapper_psycopg://``, blocking: psycopg's ``Connection`` through
    :func:`aws_wrapper.connect`."""

    driver = "aws_wrapper_psycopg"
    aws_driver = "psycopg"
    supports_statement_cache = True
    connection_characteristics = with_aws_characteristics(
        PGDialect_psycopg.connection_characteristics
    )

    @classmethod
    def import_dbapi(cls) -> DBAPIModule:
        return as_dbapi_module(SyncWrapperDBAPI(cls.aws_driver))

    @classmethod
    def get_async_dialect_cls(cls, url: URL) -> type[Dialect]:
        return PGDialectAsync_aws_wrapper_psycopg

    def _type_info_fetch(self, connection: Connection, name: str) -> Any:
        from psycopg.types import TypeInfo

        return TypeInfo.fetch(self._aws_wrapper(connection).driver_connection, name)

    def _do_isolation_level(
        self, connection: DBAPIConnection, autocommit: bool, isolation_level: Any
    ) -> None:
        # through the wrapper, which replays them on the connection failover opens
        self._aws_set_autocommit(connection, bool(autocommit))
        if isolation_level is not None:
            self._aws_set_isolation_level(connection, isolation_level)

    def set_deferrable(self, connection: DBAPIConnection, value: bool) -> None:
        # not a wrapper setting: on the current driver connection (not replayed by failover)
        self._aws_wrapper(connection).driver_connection.deferrable = value


# -- asyncio --------------------------------------------------------------------------------


class AsyncAdapt_aws_wrapper_psycopg_cursor(AsyncAdapt_psycopg_cursor):
    """psycopg's adapted cursor over an ``AsyncAwsWrapperCursor``: closed with ``await``."""

    __slots__ = ()
    _awaitable_cursor_close = True

    def close(self) -> None:
        super(AsyncAdapt_psycopg_cursor, self).close()


class AsyncAdapt_aws_wrapper_psycopg_ss_cursor(AsyncAdapt_psycopg_ss_cursor):
    __slots__ = ()


class AsyncAdapt_aws_wrapper_psycopg_connection(AsyncAdapt_psycopg_connection):
    """SQLAlchemy's asyncio adapter over an ``AsyncAwsWrapperConnection`` (which passes
    ``info``, ``adapters``, ``broken``, ... through to the current psycopg connection)."""

    __slots__ = ()
    _cursor_cls = AsyncAdapt_aws_wrapper_psycopg_cursor
    _ss_cursor_cls = AsyncAdapt_aws_wrapper_psycopg_ss_cursor

    def cursor(self, name: Any = None, /) -> Any:
        if name:
            return AsyncAdapt_aws_wrapper_psycopg_ss_cursor(self, name)  # type: ignore[no-untyped-call]
        return AsyncAdapt_aws_wrapper_psycopg_cursor(self)

    def set_isolation_level(self, value: Any) -> None:
        if value is not None:  # None (psycopg: the server's default) happens with AUTOCOMMIT
            wrapper: AsyncAwsWrapperConnection = cast(Any, self._connection)
            await_(wrapper.set_isolation_level(str(getattr(value, "name", value))))


class AsyncPsycopgWrapperDBAPI(PsycopgAdaptDBAPI):
    """psycopg's asyncio DB-API adapter, connecting with :func:`aws_wrapper.aio.connect` and
    recognising aws_wrapper's errors (see :func:`error_classes`)."""

    def __init__(self) -> None:
        psycopg = dbapi_module("psycopg", aio=True)
        from psycopg.pq import ExecStatus

        super().__init__(psycopg, ExecStatus)
        self.__dict__.update(error_classes(psycopg))

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aws_wrapper_psycopg_connection:
        creator = kwargs.pop("async_creator_fn", None)
        if creator is not None:
            opening = creator(*args, **kwargs)
        else:
            conninfo = str(args[0]) if args else ""
            opening = async_connect(conninfo, driver="psycopg", **kwargs)
        adapted: AsyncAdapt_aws_wrapper_psycopg_connection = await_(
            AsyncAdapt_aws_wrapper_psycopg_connection.create(self, opening)
        )
        return adapted


class PGDialectAsync_aws_wrapper_psycopg(AwsWrapperDialect, PGDialectAsync_psycopg):
    """``postgresql+aws_wrapper_psycopg://`` with ``create_async_engine`` (also
    ``postgresql+aws_wrapper_psycopg_async://``): psycopg's ``AsyncConnection`` through
    :func:`aws_wrapper.aio.connect`."""

    driver = "aws_wrapper_psycopg"
    aws_driver = "psycopg"
    aws_async = True
    supports_statement_cache = True
    connection_characteristics = with_aws_characteristics(
        PGDialectAsync_psycopg.connection_characteristics
    )

    @classmethod
    def import_dbapi(cls) -> DBAPIModule:
        return as_dbapi_module(AsyncPsycopgWrapperDBAPI())

    def _type_info_fetch(self, connection: Connection, name: str) -> Any:
        from psycopg import AsyncConnection
        from psycopg.types import TypeInfo

        raw: AsyncConnection[Any] = self._aws_wrapper(connection).driver_connection
        return await_(TypeInfo.fetch(raw, name))


dialect = PGDialect_aws_wrapper_psycopg
dialect_async = PGDialectAsync_aws_wrapper_psycopg
