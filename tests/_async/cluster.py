"""Helpers of the devcluster test modules (their fixtures are in conftest.py).

Written once as async code: tests/_sync/cluster.py is generated from tests/_async/cluster.py.
"""

from __future__ import annotations

from aws_wrapper.aio import AsyncAwsWrapperConnection

ENGINE_OF = {"psycopg": "pg", "aiomysql": "mysql", "mysql-connector": "mysql"}


async def instance_of(conn: AsyncAwsWrapperConnection, *, rollback: bool = True) -> str:
    """The instance the connection is on, as the server itself says (``rollback``: end the
    transaction the query began outside autocommit)."""
    sql = (
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if conn.driver_dialect.engine == "postgresql"
        else "SELECT @@aurora_server_id"
    )
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    assert row is not None
    await cur.fetchall()  # mysql.connector: nothing left unread
    if rollback:
        await conn.rollback()
    return str(row[0])
