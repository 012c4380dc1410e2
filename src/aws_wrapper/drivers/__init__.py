"""Driver dialects: what the wrapper knows of each driver, async and blocking side by side.

=====================  ==========================  ===============================
engine                 async (``aws_wrapper.aio``)  blocking (``aws_wrapper``)
=====================  ==========================  ===============================
PostgreSQL             psycopg.AsyncConnection      psycopg.Connection
MySQL / MariaDB        aiomysql                     PyMySQL
MySQL / MariaDB        mysql.connector.aio          mysql.connector
=====================  ==========================  ===============================

The dialect is chosen from the connect function the application passes (or a driver name), so
MySQL code never runs through the PostgreSQL dialect by accident. Driver packages are imported
only when used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_wrapper.errors import UnsupportedDriverError

if TYPE_CHECKING:
    from aws_wrapper._async.protocols import DriverDialect as AsyncDriverDialect
    from aws_wrapper._sync.protocols import DriverDialect as SyncDriverDialect

ASYNC_DRIVERS = {
    "psycopg": "psycopg",
    "aiomysql": "aiomysql",
    "mysql-connector": "mysql-connector-aio",
    "mysql.connector": "mysql-connector-aio",
    "mysql-connector-aio": "mysql-connector-aio",
    "mysql.connector.aio": "mysql-connector-aio",
}
SYNC_DRIVERS = {
    "psycopg": "psycopg",
    "pymysql": "pymysql",
    "mysql-connector": "mysql-connector",
    "mysql.connector": "mysql-connector",
}
_SYNC_TWIN = {"aiomysql": "pymysql", "mysql-connector-aio": "mysql-connector"}


def _module_of(target: Callable[..., Any]) -> str:
    owner = getattr(target, "__self__", None)
    if isinstance(owner, type):
        return owner.__module__ + "." + owner.__name__
    return str(getattr(target, "__module__", "") or "")


def _code_for_callable(target: Callable[..., Any]) -> str | None:
    where = _module_of(target)
    if where.startswith("psycopg"):
        return "psycopg-async" if "Async" in where else "psycopg"
    if where.startswith("aiomysql"):
        return "aiomysql"
    if where.startswith("pymysql"):
        return "pymysql"
    if where.startswith("mysql.connector.aio"):
        return "mysql-connector-aio"
    if where.startswith("mysql.connector"):
        return "mysql-connector"
    return None


def adriver_dialect_for(
    target: Callable[..., Any] | str | None, default: str = "psycopg"
) -> AsyncDriverDialect:
    """The async driver dialect for a connect function or driver name."""
    func: Callable[..., Any] | None = None
    if target is None or isinstance(target, str):
        name = (target or default).strip().lower()
        code = ASYNC_DRIVERS.get(name)
        if code is None:
            hint = (
                f" ('{name}' is a blocking driver: use it with aws_wrapper, not aws_wrapper.aio)"
                if name in SYNC_DRIVERS
                else ""
            )
            raise UnsupportedDriverError(
                f"unknown async driver {name!r}{hint}; expected one of: "
                + ", ".join(sorted(set(ASYNC_DRIVERS)))
            )
    else:
        func = target
        found = _code_for_callable(target)
        if found == "psycopg-async":
            code = "psycopg"
        elif found in ("aiomysql", "mysql-connector-aio"):
            code = found
        else:
            raise UnsupportedDriverError(
                f"{_describe(target)} is not an async connect function of a supported driver "
                "(psycopg.AsyncConnection.connect, aiomysql.connect, mysql.connector.aio.connect)"
                + ("; blocking drivers go with aws_wrapper, not aws_wrapper.aio" if found else "")
            )
    if code == "psycopg":
        from .psycopg import AsyncPsycopgDialect

        return AsyncPsycopgDialect(func)
    if code == "aiomysql":
        from .pymysql import AiomysqlDialect

        return AiomysqlDialect(func)
    from .mysql_connector import MysqlConnectorAioDialect

    return MysqlConnectorAioDialect(func)


def driver_dialect_for(
    target: Callable[..., Any] | str | None, default: str = "psycopg"
) -> SyncDriverDialect:
    """The blocking driver dialect for a connect function or driver name."""
    func: Callable[..., Any] | None = None
    if target is None or isinstance(target, str):
        name = (target or default).strip().lower()
        code = SYNC_DRIVERS.get(name)
        if code is None:
            async_code = ASYNC_DRIVERS.get(name)
            hint = (
                f" ('{name}' is an async driver: use aws_wrapper.aio, or its blocking twin "
                f"'{_SYNC_TWIN.get(async_code, async_code)}')"
                if async_code and name not in ("psycopg",)
                else ""
            )
            raise UnsupportedDriverError(
                f"unknown driver {name!r}{hint}; expected one of: "
                + ", ".join(sorted(set(SYNC_DRIVERS)))
            )
    else:
        func = target
        found = _code_for_callable(target)
        if found in ("psycopg", "pymysql", "mysql-connector"):
            code = found
        else:
            raise UnsupportedDriverError(
                f"{_describe(target)} is not a blocking connect function of a supported driver "
                "(psycopg.Connection.connect, pymysql.connect, mysql.connector.connect)"
                + ("; async drivers go with aws_wrapper.aio" if found else "")
            )
    if code == "psycopg":
        from .psycopg import PsycopgDialect

        return PsycopgDialect(func)
    if code == "pymysql":
        from .pymysql import PyMySQLDialect

        return PyMySQLDialect(func)
    from .mysql_connector import MysqlConnectorDialect

    return MysqlConnectorDialect(func)


def _describe(target: object) -> str:
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{_module_of(target) if callable(target) else ''}:{name}".lstrip(":")
