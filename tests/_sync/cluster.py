# WARNING: generated file, DO NOT EDIT. Source: tests/_async/cluster.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Helpers of the devcluster test modules (their fixtures are in conftest.py).

Written once as async code: tests/_sync/cluster.py is generated from tests/_async/cluster.py.
"""

from __future__ import annotations

from aws_wrapper.sync import AwsWrapperConnection

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql", "mysql-connector": "mysql"}


def instance_of(conn: AwsWrapperConnection, *, rollback: bool = True) -> str:
    """The instance the connection is on, as the server itself says (``rollback``: end the
    transaction the query began outside autocommit)."""
    sql = (
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if conn.driver_dialect.engine == "postgresql"
        else "SELECT @@aurora_server_id"
    )
    cur = conn.execute(sql)
    row = cur.fetchone()
    assert row is not None
    cur.fetchall()  # mysql.connector: nothing left unread
    if rollback:
        conn.rollback()
    return str(row[0])
