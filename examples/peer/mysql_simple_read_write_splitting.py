"""Simple read/write splitting (the ``srw`` plugin) on MySQL (mysql-connector-python),
written as aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

``srw`` needs no topology: ``conn.read_only = True`` moves the connection to
``srw_read_endpoint`` and ``False`` back to ``srw_write_endpoint`` (an RDS Proxy's read-only
and read/write endpoints, or an Aurora cluster's reader and cluster endpoints as here).

    DB_HOST=... DB_READER_HOST=... DB_PORT=3306 DB_USER=... DB_PASSWORD=... DB_NAME=... \
        python examples/peer/mysql_simple_read_write_splitting.py

Prints the rows read and, last, ``RESULT mysql_simple_read_write_splitting: ...``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_wrapper.pep249 import Connection

import mysql.connector

from aws_wrapper import AwsWrapperConnection, release_resources
from aws_wrapper.errors import (
    FailoverFailedError,
    FailoverSuccessError,
    TransactionResolutionUnknownError,
)

# --- test harness (not part of the example): when DEVCLUSTER_HOSTS_FILE is set, make a local
# devcluster's RDS-shaped names resolve in this process --------------------------------------
if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    install_resolver_from_env()
# --- end of test harness ----------------------------------------------------------------------

HOST = os.environ.get("DB_HOST", "rds-proxy-name.proxy-xyz.us-east-1.rds.amazonaws.com")
READER_HOST = os.environ.get(
    "DB_READER_HOST", "rds-proxy-name-read-only.endpoint.proxy-xyz.us-east-1.rds.amazonaws.com"
)
PORT = int(os.environ.get("DB_PORT", "3306"))
USER = os.environ.get("DB_USER", "john")
PASSWORD = os.environ.get("DB_PASSWORD", "pwd")
DATABASE = os.environ.get("DB_NAME", "mysql")


def configure_initial_session_states(conn: Connection) -> None:
    cursor = conn.cursor()
    cursor.execute("SET time_zone = '+00:00'")  # UTC (named zones need tz tables)


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


def current_instance(conn: Connection) -> str:
    cursor = execute_queries_with_failover_handling(conn, "SELECT @@aurora_server_id")
    return str(cursor.fetchone()[0])


if __name__ == "__main__":
    params: dict[str, Any] = {
        "host": HOST,
        "port": PORT,
        "database": DATABASE,
        "user": USER,
        "password": PASSWORD,
        "plugins": "srw,failover",
        "srw_write_endpoint": HOST,
        "srw_read_endpoint": READER_HOST,
        "srw_verify_new_connections": "True",
        "wrapper_dialect": "aurora-mysql",
        "autocommit": True,
    }

    # Setup step: open a connection and create the table.
    with AwsWrapperConnection.connect(mysql.connector.Connect, **params) as conn:
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

    # Example step: transfer on the writer, then read on a reader.
    rows_read = 0
    try:
        with AwsWrapperConnection.connect(mysql.connector.Connect, **params) as conn:
            configure_initial_session_states(conn)
            writer = current_instance(conn)
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

            # Internally switch to a connection to the read endpoint.
            conn.read_only = True
            reader = current_instance(conn)
            for i in range(2):
                cursor = execute_queries_with_failover_handling(
                    conn, "SELECT * FROM bank_test WHERE id = %s", (i,)
                )
                for record in cursor.fetchall():
                    print(record)
                    rows_read += 1
    finally:
        with AwsWrapperConnection.connect(mysql.connector.Connect, **params) as conn:
            execute_queries_with_failover_handling(conn, "DROP TABLE bank_test")

        # Clean up global resources created by the wrapper
        release_resources()

    print(
        f"RESULT mysql_simple_read_write_splitting: writer={writer} reader={reader} "
        f"rows_read={rows_read}",
        flush=True,
    )
