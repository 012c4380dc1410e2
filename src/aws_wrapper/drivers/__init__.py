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

# what _code_for_callable finds -> the dialect code, per face
_ASYNC_CALLABLES = {
    "psycopg-async": "psycopg",
    "aiomysql": "aiomysql",
    "mysql-connector-aio": "mysql-connector-aio",
}
_SYNC_CALLABLES = {"psycopg": "psycopg", "pymysql": "pymysql", "mysql-connector": "mysql-connector"}


def _origins(target: Callable[..., Any]) -> list[str]:
    """Where a connect function comes from: its module, or its class and base classes
    (so a subclass of ``psycopg.AsyncConnection`` is recognised)."""
    owner = getattr(target, "__self__", None)
    if isinstance(owner, type):
        return [f"{c.__module__}.{c.__name__}" for c in owner.__mro__]
    return [str(getattr(target, "__module__", "") or "")]


def _code_for_callable(target: Callable[..., Any]) -> str | None:
    for where in _origins(target):
        if where.startswith("psycopg"):
            return "psycopg-async" if "Async" in where else "psycopg"
        for prefix, code in (
            ("aiomysql", "aiomysql"),
            ("pymysql", "pymysql"),
            ("mysql.connector.aio", "mysql-connector-aio"),
            ("mysql.connector", "mysql-connector"),
        ):
            if where.startswith(prefix):
                return code
    return None


def _resolve(
    target: Callable[..., Any] | str | None, override: str | None, aio: bool
) -> tuple[str, Callable[..., Any] | None]:
    """(dialect code, connect function or None) for a face (aio or blocking)."""
    names, others = (ASYNC_DRIVERS, SYNC_DRIVERS) if aio else (SYNC_DRIVERS, ASYNC_DRIVERS)
    face = "aws_wrapper.aio" if aio else "aws_wrapper"
    func = None if target is None or isinstance(target, str) else target
    name = override if override is not None else (None if func else (target or "psycopg"))
    if isinstance(name, str):
        key = name.strip().lower()
        code = names.get(key)
        if code is None:
            hint = ""
            if key in others and key != "psycopg":
                other_face = "aws_wrapper" if aio else "aws_wrapper.aio"
                hint = f" ('{key}' is a driver for {other_face}, not {face})"
            what = "property 'wrapper_driver_dialect'" if override is not None else "driver"
            raise UnsupportedDriverError(
                f"{what}: unknown driver {key!r} for {face}{hint}; expected one of: "
                + ", ".join(sorted(set(names)))
            )
        return code, func
    assert func is not None
    found = _code_for_callable(func)
    code = (_ASYNC_CALLABLES if aio else _SYNC_CALLABLES).get(found or "")
    if code is not None:
        return code, func
    expected = (
        "psycopg.AsyncConnection.connect, aiomysql.connect, mysql.connector.aio.connect"
        if aio
        else "psycopg.Connection.connect, pymysql.connect, mysql.connector.connect"
    )
    hint = f"; it belongs with {'aws_wrapper' if aio else 'aws_wrapper.aio'}" if found else ""
    raise UnsupportedDriverError(
        f"{_describe(func)} is not a connect function {face} knows ({expected}){hint}; for "
        "a custom connect function, name its driver with wrapper_driver_dialect=..."
    )


def adriver_dialect_for(
    target: Callable[..., Any] | str | None, override: str | None = None
) -> AsyncDriverDialect:
    """The async driver dialect for a connect function or driver name (``override``: the
    ``wrapper_driver_dialect`` property, for connect functions the wrapper cannot recognise)."""
    code, func = _resolve(target, override, aio=True)
    if code == "psycopg":
        from .psycopg import AsyncPsycopgDialect

        return AsyncPsycopgDialect(func)
    if code == "aiomysql":
        from .pymysql import AiomysqlDialect

        return AiomysqlDialect(func)
    from .mysql_connector import MysqlConnectorAioDialect

    return MysqlConnectorAioDialect(func)


def driver_dialect_for(
    target: Callable[..., Any] | str | None, override: str | None = None
) -> SyncDriverDialect:
    """The blocking driver dialect for a connect function or driver name."""
    code, func = _resolve(target, override, aio=False)
    if code == "psycopg":
        from .psycopg import PsycopgDialect

        return PsycopgDialect(func)
    if code == "pymysql":
        from .pymysql import PyMySQLDialect

        return PyMySQLDialect(func)
    from .mysql_connector import MysqlConnectorDialect

    return MysqlConnectorDialect(func)


def _describe(target: object) -> str:
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{module}.{name}"
