"""The fastest response strategy on Aurora PostgreSQL (psycopg), written as
aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

With ``fastest_response_strategy`` and ``reader_host_selector_strategy="fastest_response"``,
``conn.read_only = True`` moves the connection to the reader that answers fastest (measured in
the background, shared by the connections of the process).

    DB_HOST=... DB_PORT=5432 DB_USER=... DB_PASSWORD=... DB_NAME=... \
        python examples/peer/pg_fastest_response_strategy.py

Prints the rows read and, last, ``RESULT pg_fastest_response_strategy: ...``.
"""

import os
from typing import Any

import psycopg

from aws_wrapper import AwsWrapperConnection, release_resources
from aws_wrapper.connection_provider import ConnectionProviderManager
from aws_wrapper.sql_alchemy_connection_provider import SqlAlchemyPooledConnectionProvider

# --- test harness (not part of the example): when DEVCLUSTER_HOSTS_FILE is set, make a local
# devcluster's RDS-shaped names resolve in this process --------------------------------------
if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    install_resolver_from_env()
# --- end of test harness ----------------------------------------------------------------------

HOST = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "5432"))
USER = os.environ.get("DB_USER", "user")
PASSWORD = os.environ.get("DB_PASSWORD", "password")
DATABASE = os.environ.get("DB_NAME", "postgres")

INSTANCE_SQL = "SELECT pg_catalog.aurora_db_instance_identifier()"


def first_value(cursor: Any) -> str:
    """The first column of the row the cursor holds."""
    row = cursor.fetchone()
    assert row is not None
    return str(row[0])


if __name__ == "__main__":
    provider = SqlAlchemyPooledConnectionProvider()
    ConnectionProviderManager.set_connection_provider(provider)

    params: dict[str, Any] = {
        "host": HOST,
        "port": PORT,
        "dbname": DATABASE,
        "user": USER,
        "password": PASSWORD,
        "plugins": "read_write_splitting,fastest_response_strategy",
        "reader_host_selector_strategy": "fastest_response",
        "autocommit": True,
    }

    readers_used: list[str] = []
    try:
        # Set up. Connecting starts measuring the response times of the instances in the
        # background; the measurements are shared by every connection of the process.
        with (
            AwsWrapperConnection.connect(psycopg.Connection.connect, **params) as conn,
            conn.cursor() as setup_cursor,
        ):
            setup_cursor.execute("DROP TABLE IF EXISTS bank_test")
            setup_cursor.execute(
                "CREATE TABLE bank_test (id int primary key, name varchar(40), account_balance int)"
            )
            setup_cursor.execute("INSERT INTO bank_test VALUES (%s, %s, %s)", (0, "Jane Doe", 200))

        with AwsWrapperConnection.connect(psycopg.Connection.connect, **params) as conn:
            # Switch to the fastest reader
            conn.read_only = True
            with conn.cursor() as cursor_1:
                cursor_1.execute("SELECT * FROM bank_test")
                for record in cursor_1.fetchall():
                    print(record)
                cursor_1.execute(INSTANCE_SQL)
                readers_used.append(first_value(cursor_1))

            # Switch to the writer
            conn.read_only = False

            # Switch to a reader again: the fastest one, whose pooled connection is reused
            conn.read_only = True
            with conn.cursor() as cursor_2:
                cursor_2.execute("SELECT * FROM bank_test")
                for record in cursor_2.fetchall():
                    print(record)
                cursor_2.execute(INSTANCE_SQL)
                readers_used.append(first_value(cursor_2))

            # Tear down
            conn.read_only = False
            with conn.cursor() as teardown_cursor:
                teardown_cursor.execute(INSTANCE_SQL)
                writer = first_value(teardown_cursor)
                teardown_cursor.execute("DROP TABLE bank_test")
    finally:
        # Close all pools and remove all cached pool connections
        ConnectionProviderManager.release_resources()

        # Clean up global resources created by the wrapper
        release_resources()

    print(
        f"RESULT pg_fastest_response_strategy: writer={writer} readers={'->'.join(readers_used)}",
        flush=True,
    )
