"""aws_wrapper: failover, read/write splitting, fast failure detection and AWS authentication
for PostgreSQL and MySQL on Aurora and RDS, for blocking code (here) and asyncio
(:mod:`aws_wrapper.aio`).

PEP 249 module::

    import aws_wrapper

    conn = aws_wrapper.connect("host=... dbname=app user=app", plugins="failover_v2")
    with conn.cursor() as cur:
        cur.execute("SELECT 1")

Migrating from aws-advanced-python-wrapper::

    from aws_wrapper import AwsWrapperConnection
    conn = AwsWrapperConnection.connect(psycopg.Connection.connect, "host=...", plugins="...")
"""

from __future__ import annotations

from aws_wrapper._version import __version__ as __version__
from aws_wrapper.sync import *  # noqa: F403
from aws_wrapper.sync import __all__ as __all__
