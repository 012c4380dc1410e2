"""Read/write splitting with internal connection pools on Aurora PostgreSQL (psycopg), written
as aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

``conn.read_only = True`` moves the connection to a reader, ``False`` back to the writer; with
SqlAlchemyPooledConnectionProvider installed, the instance connections come from internal
pools (one per instance, user and database here), so a second connection reuses them.

    DB_HOST=... DB_PORT=5432 DB_USER=... DB_PASSWORD=... DB_NAME=... \
        python examples/peer/pg_read_write_splitting.py

Prints the rows read and, last, ``RESULT pg_read_write_splitting: ...``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_wrapper.hostinfo import HostInfo
    from aws_wrapper.pep249 import Connection

import psycopg

from aws_wrapper import AwsWrapperConnection, release_resources
from aws_wrapper.connection_provider import ConnectionProviderManager
from aws_wrapper.errors import (
    FailoverFailedError,
    FailoverSuccessError,
    TransactionResolutionUnknownError,
)
from aws_wrapper.sql_alchemy_connection_provider import SqlAlchemyPooledConnectionProvider

# --- test harness (not part of the example): when DEVCLUSTER_HOSTS_FILE is set, make a local
# devcluster's RDS-shaped names resolve in this process --------------------------------------
if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    install_resolver_from_env()
# --- end of test harness ----------------------------------------------------------------------

HOST = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "5432"))
USER = os.environ.get("DB_USER", "john")
PASSWORD = os.environ.get("DB_PASSWORD", "pwd")
DATABASE = os.environ.get("DB_NAME", "postgres")


def configure_pool(host_info: HostInfo, props: dict[str, Any]) -> dict[str, Any]:
    return {"pool_size": 5}


def get_pool_key(host_info: HostInfo, props: dict[str, Any]) -> str:
    # One pool per instance, user and database.
    return f"{host_info.url}{props['user']}{props['dbname']}"


def configure_initial_session_states(conn: Connection) -> None:
    cursor = conn.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")


def execute_queries_with_failover_handling(
    conn: Connection, sql: str, params: dict[str, Any] | tuple[Any, ...] | None = None
) -> Any:
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return cursor

    except FailoverSuccessError:
        # Reconnected to a healthy instance: reapply the session state, run the statement again.
        configure_initial_session_states(conn)
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return cursor

    except FailoverFailedError:
        # No healthy instance in time: reconnect later, check the transaction, re-run it.
        raise

    except TransactionResolutionUnknownError:
        # Failover inside a transaction: check whether it committed, re-run it if needed.
        raise


def instance_and_backend(conn: Connection) -> tuple[str, int]:
    cursor = execute_queries_with_failover_handling(
        conn, "SELECT pg_catalog.aurora_db_instance_identifier(), pg_backend_pid()"
    )
    instance, backend = cursor.fetchone()
    return str(instance), int(backend)


if __name__ == "__main__":
    params: dict[str, Any] = {
        "host": HOST,
        "port": PORT,
        "dbname": DATABASE,
        "user": USER,
        "password": PASSWORD,
        "plugins": "read_write_splitting,failover,host_monitoring",
        "wrapper_dialect": "aurora-pg",
        # Needs the pooled provider: the reader whose pool has the fewest connections in use.
        "reader_host_selector_strategy": "least_connections",
        "autocommit": True,
    }

    # Optional: internal connection pools for read/write splitting. Both arguments are optional.
    provider = SqlAlchemyPooledConnectionProvider(configure_pool, get_pool_key)
    ConnectionProviderManager.set_connection_provider(provider)

    # Setup step: open a connection and create the table.
    with AwsWrapperConnection.connect(psycopg.Connection.connect, **params) as conn:
        configure_initial_session_states(conn)
        execute_queries_with_failover_handling(conn, "DROP TABLE IF EXISTS bank_test")
        execute_queries_with_failover_handling(
            conn,
            "CREATE TABLE bank_test (id int primary key, name varchar(40), account_balance int)",
        )
        execute_queries_with_failover_handling(
            conn, "INSERT INTO bank_test VALUES (%s, %s, %s)", (0, "Jane Doe", 200)
        )
        execute_queries_with_failover_handling(
            conn, "INSERT INTO bank_test VALUES (%s, %s, %s)", (1, "John Smith", 200)
        )

    # Example step, twice: transfer on the writer, then read on a reader.
    writers, readers, reader_backends, rows_read = set(), set(), set(), 0
    try:
        for _ in range(2):
            with AwsWrapperConnection.connect(psycopg.Connection.connect, **params) as conn:
                configure_initial_session_states(conn)
                writers.add(instance_and_backend(conn)[0])
                execute_queries_with_failover_handling(
                    conn,
                    "UPDATE bank_test SET account_balance=account_balance - 100 WHERE name=%s",
                    ("Jane Doe",),
                )
                execute_queries_with_failover_handling(
                    conn,
                    "UPDATE bank_test SET account_balance=account_balance + 100 WHERE name=%s",
                    ("John Smith",),
                )

                # Internally switch to a reader connection (from the reader's pool).
                conn.read_only = True
                reader, backend = instance_and_backend(conn)
                readers.add(reader)
                reader_backends.add((reader, backend))
                for i in range(2):
                    cursor = execute_queries_with_failover_handling(
                        conn, "SELECT * FROM bank_test WHERE id = %s", (i,)
                    )
                    for record in cursor.fetchall():
                        print(record)
                        rows_read += 1
    finally:
        with AwsWrapperConnection.connect(psycopg.Connection.connect, **params) as conn:
            execute_queries_with_failover_handling(conn, "DROP TABLE bank_test")

        # Close the internal connection pools.
        ConnectionProviderManager.release_resources()

        # Clean up global resources created by the wrapper
        release_resources()

    reused = "yes" if len(reader_backends) == 1 else "no"
    print(
        f"RESULT pg_read_write_splitting: writer={','.join(sorted(writers))} "
        f"reader={','.join(sorted(readers))} rows_read={rows_read} "
        f"reader_connection_reused={reused}",
        flush=True,
    )
