"""MySQL / MariaDB: SQLAlchemy's PyMySQL, aiomysql and mysql-connector dialects over aws_wrapper.

=======================================  =====================  ==============================
URL                                      engine                 connects with
=======================================  =====================  ==============================
``mysql+aws_wrapper_pymysql://``         ``create_engine``      ``aws_wrapper.connect``
``mysql+aws_wrapper_aiomysql://``        ``create_async_engine``  ``aws_wrapper.aio.connect``
``mysql+aws_wrapper_mysqlconnector://``  ``create_engine``      ``aws_wrapper.connect``
=======================================  =====================  ==============================

SQLAlchemy (2.1) has no asyncio dialect for mysql-connector, so neither has aws_wrapper.

``mariadb+aws_wrapper_pymysql://`` (``_aiomysql``, ``_mysqlconnector``) are the same dialects
as SQLAlchemy's ``mariadb+pymysql://`` is PyMySQL's: with :class:`MariaDBDialect` first (the
dialect name ``mariadb``, MariaDB assumed, and refused on a MySQL server).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from sqlalchemy.connectors.asyncio import AsyncIODBAPIConnection
from sqlalchemy.dialects.mysql.aiomysql import (
    AsyncAdapt_aiomysql_connection,
    AsyncAdapt_aiomysql_dbapi,
    MySQLDialect_aiomysql,
)
from sqlalchemy.dialects.mysql.base import MySQLExecutionContext
from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect
from sqlalchemy.dialects.mysql.mysqlconnector import MySQLDialect_mysqlconnector
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.engine.interfaces import (
    DBAPIConnection,
    DBAPICursor,
    DBAPIModule,
    ExecutionContext,
    IsolationLevel,
)
from sqlalchemy.util.concurrency import await_

from aws_wrapper._async.connection import connect as async_connect
from aws_wrapper.drivers import dbapi_module

from ._base import (
    AwsWrapperDialect,
    SyncWrapperDBAPI,
    as_dbapi_module,
    error_classes,
    with_aws_characteristics,
)


class _AwsWrapperMySQL(AwsWrapperDialect):
    """What the MySQL dialects change: session settings through the wrapper (so failover
    replays them), and the row count of ``executemany`` read from the cursor (the wrapper's
    ``executemany`` returns the cursor, PyMySQL's a count)."""

    def set_isolation_level(self, dbapi_connection: DBAPIConnection, level: IsolationLevel) -> None:
        if level == "AUTOCOMMIT":
            self._aws_set_autocommit(dbapi_connection, True)
        else:
            self._aws_set_autocommit(dbapi_connection, False)
            self._aws_set_isolation_level(dbapi_connection, level)

    def do_executemany(
        self,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None = None,
    ) -> None:
        cursor.executemany(statement, parameters)
        if context is not None:
            cast(MySQLExecutionContext, context)._rowcount = cursor.rowcount


class MySQLDialect_aws_wrapper_pymysql(_AwsWrapperMySQL, MySQLDialect_pymysql):
    """``mysql+aws_wrapper_pymysql://``: PyMySQL through :func:`aws_wrapper.connect`."""

    driver = "aws_wrapper_pymysql"
    aws_driver = "pymysql"
    supports_statement_cache = True
    connection_characteristics = with_aws_characteristics(
        MySQLDialect_pymysql.connection_characteristics
    )

    @classmethod
    def import_dbapi(cls) -> DBAPIModule:
        return as_dbapi_module(SyncWrapperDBAPI(cls.aws_driver))


class MySQLDialect_aws_wrapper_mysqlconnector(_AwsWrapperMySQL, MySQLDialect_mysqlconnector):
    """``mysql+aws_wrapper_mysqlconnector://``: mysql-connector-python through
    :func:`aws_wrapper.connect` (its pure-Python connection unless ``use_pure=False``)."""

    driver = "aws_wrapper_mysqlconnector"
    aws_driver = "mysql-connector"
    supports_statement_cache = True
    connection_characteristics = with_aws_characteristics(
        MySQLDialect_mysqlconnector.connection_characteristics
    )

    @classmethod
    def import_dbapi(cls) -> DBAPIModule:
        return as_dbapi_module(SyncWrapperDBAPI(cls.aws_driver))


# -- asyncio: aiomysql ------------------------------------------------------------------------


class AsyncAdapt_aws_wrapper_aiomysql_connection(AsyncAdapt_aiomysql_connection):
    """SQLAlchemy's asyncio adapter over an ``AsyncAwsWrapperConnection`` of aiomysql: the
    calls that differ from aiomysql's connection go to the wrapper's methods."""

    __slots__ = ()

    def autocommit(self, value: Any) -> None:
        await_(self._connection.set_autocommit(bool(value)))

    def get_autocommit(self) -> bool:
        return bool(self._connection.autocommit)

    def close(self) -> None:
        await_(self._connection.close())

    async def _terminate_graceful_close(self) -> None:
        await self._connection.close()

    def _terminate_force_close(self) -> None:
        self._connection.abort()


class AiomysqlWrapperDBAPI(AsyncAdapt_aiomysql_dbapi):
    """aiomysql's asyncio DB-API adapter, connecting with :func:`aws_wrapper.aio.connect` and
    recognising aws_wrapper's errors."""

    def __init__(self) -> None:
        aiomysql = dbapi_module("aiomysql", aio=True)
        pymysql = dbapi_module("pymysql", aio=False)  # SQLAlchemy's adapter wants both
        super().__init__(aiomysql, pymysql)
        self.__dict__.update(error_classes(aiomysql))

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aws_wrapper_aiomysql_connection:
        creator = kwargs.pop("async_creator_fn", None)
        opening = (
            creator(*args, **kwargs)
            if creator is not None
            else async_connect(driver="aiomysql", **kwargs)
        )
        adapted: AsyncAdapt_aws_wrapper_aiomysql_connection = await_(
            AsyncAdapt_aws_wrapper_aiomysql_connection.create(
                self, cast("Awaitable[AsyncIODBAPIConnection]", opening)
            )
        )
        return adapted


class MySQLDialect_aws_wrapper_aiomysql(_AwsWrapperMySQL, MySQLDialect_aiomysql):
    """``mysql+aws_wrapper_aiomysql://`` (``create_async_engine``): aiomysql through
    :func:`aws_wrapper.aio.connect`."""

    driver = "aws_wrapper_aiomysql"
    aws_driver = "aiomysql"
    aws_async = True
    supports_statement_cache = True
    connection_characteristics = with_aws_characteristics(
        MySQLDialect_aiomysql.connection_characteristics
    )

    @classmethod
    def import_dbapi(cls) -> AiomysqlWrapperDBAPI:
        return AiomysqlWrapperDBAPI()


# -- mariadb+ URLs ----------------------------------------------------------------------------
# as sqlalchemy.dialects.mysql.mariadb.loader() builds them for SQLAlchemy's own drivers


class MariaDBDialect_aws_wrapper_pymysql(MariaDBDialect, MySQLDialect_aws_wrapper_pymysql):
    """``mariadb+aws_wrapper_pymysql://``."""

    supports_statement_cache = True


class MariaDBDialect_aws_wrapper_mysqlconnector(
    MariaDBDialect, MySQLDialect_aws_wrapper_mysqlconnector
):
    """``mariadb+aws_wrapper_mysqlconnector://``."""

    supports_statement_cache = True


class MariaDBDialect_aws_wrapper_aiomysql(MariaDBDialect, MySQLDialect_aws_wrapper_aiomysql):
    """``mariadb+aws_wrapper_aiomysql://`` (``create_async_engine``)."""

    supports_statement_cache = True
