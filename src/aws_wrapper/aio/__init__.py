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

from typing import TYPE_CHECKING

from aws_wrapper._async.api import *  # noqa: F403
from aws_wrapper._async.api import __all__ as __all__
from aws_wrapper.aio._cleanup import register_shutdown_hook, release_resources_async

if not TYPE_CHECKING:
    __all__ = list(__all__)  # a copy: the api module's own list stays as it is
__all__ += ["register_shutdown_hook", "release_resources_async"]
