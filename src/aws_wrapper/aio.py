"""aws_wrapper for asyncio: ``await aws_wrapper.aio.connect(...)``.

psycopg-style async API over psycopg's AsyncConnection, aiomysql and mysql.connector.aio::

    import aws_wrapper.aio

    async with await aws_wrapper.aio.connect(
        "host=... dbname=app user=app", plugins="failover_v2"
    ) as conn:
        cur = await conn.execute("SELECT 1")
        print(await cur.fetchone())

Properties that need I/O are methods here (``await conn.set_autocommit(True)``); reading
``conn.autocommit`` is free.
"""

from __future__ import annotations

from aws_wrapper._async.connection import (
    AsyncAwsWrapperConnection,
    connect,
)
from aws_wrapper._async.cursor import AsyncAwsWrapperCursor
from aws_wrapper._async.plugin import BasePlugin
from aws_wrapper._async.plugin_manager import register_plugin
from aws_wrapper._async.plugins.dev import simulator as error_simulator
from aws_wrapper._async.resources import release_resources
from aws_wrapper.dbapi import *  # noqa: F403
from aws_wrapper.dbapi import __all__ as _dbapi_all
from aws_wrapper.errors import *  # noqa: F403
from aws_wrapper.errors import __all__ as _errors_all

__all__ = [
    "AsyncAwsWrapperConnection",
    "AsyncAwsWrapperCursor",
    "BasePlugin",
    "connect",
    "error_simulator",
    "register_plugin",
    "release_resources",
    *_dbapi_all,
    *_errors_all,
]
