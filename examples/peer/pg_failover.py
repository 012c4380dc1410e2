"""Failover on Aurora PostgreSQL (psycopg), written as aws-advanced-python-wrapper's
documentation writes it -- only the package name is ``aws_wrapper``.

The application catches the failover errors and retries: after FailoverSuccessError the
connection is already on the new writer, the old cursor is gone and session state the
application set itself is reapplied before the statement runs again.

    DB_HOST=... DB_PORT=5432 DB_USER=... DB_PASSWORD=... DB_NAME=... \
        python examples/peer/pg_failover.py

Prints one line per iteration (``iter N: writer <instance>``) and, last,
``RESULT pg_failover: ...`` (see examples/peer/README.md).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from aws_wrapper.pep249 import Connection

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

HOST = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "5432"))
USER = os.environ.get("DB_USER", "john")
PASSWORD = os.environ.get("DB_PASSWORD", "pwd")
DATABASE = os.environ.get("DB_NAME", "postgres")
ITERATIONS = int(os.environ.get("ITERATIONS", "10"))
PAUSE_SEC = float(os.environ.get("PAUSE_SEC", "0.5"))

failovers_handled: list[str] = []


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

    except FailoverSuccessError as e:
        # The statement failed and the wrapper reconnected to a healthy writer. The old cursor
        # cannot be used again and session state the application set must be set again.
        failovers_handled.append(type(e).__name__)
        print(f"failover handled: {type(e).__name__}; retrying the statement", flush=True)
        configure_initial_session_states(conn)
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return cursor

    except FailoverFailedError:
        # No healthy instance was found in time: open a new connection later, check what the
        # failed transaction did and run it again if needed.
        raise

    except TransactionResolutionUnknownError:
        # The failover happened inside a transaction: whether it committed is unknown. Check
        # its effects and run it again if needed.
        raise


if __name__ == "__main__":
    props: dict[str, Any] = {
        "monitoring-connect_timeout": 10,
        "monitoring-socket_timeout": 10,
    }

    writers: list[str] = []
    try:
        with AwsWrapperConnection.connect(
            psycopg.Connection.connect,
            host=HOST,
            port=PORT,
            dbname=DATABASE,
            user=USER,
            password=PASSWORD,
            plugins="failover,host_monitoring",
            connect_timeout=30,
            socket_timeout=30,
            autocommit=True,
            **props,
        ) as awsconn:
            configure_initial_session_states(awsconn)
            execute_queries_with_failover_handling(awsconn, "DROP TABLE IF EXISTS bank_test")
            execute_queries_with_failover_handling(
                awsconn,
                "CREATE TABLE bank_test "
                "(id int primary key, name varchar(40), account_balance int)",
            )
            for i in range(ITERATIONS):
                # Idempotent, so that running it again after a failover cannot fail.
                execute_queries_with_failover_handling(
                    awsconn,
                    "INSERT INTO bank_test VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (i, f"Customer {i}", 200),
                )
                cursor = execute_queries_with_failover_handling(
                    awsconn, "SELECT pg_catalog.aurora_db_instance_identifier()"
                )
                writer = cursor.fetchone()[0]
                if not writers or writers[-1] != writer:
                    writers.append(writer)
                print(f"iter {i}: writer {writer}", flush=True)
                time.sleep(PAUSE_SEC)

            cursor = execute_queries_with_failover_handling(
                awsconn, "SELECT count(*), sum(account_balance) FROM bank_test"
            )
            rows, total = cursor.fetchone()
            execute_queries_with_failover_handling(awsconn, "DROP TABLE bank_test")
    finally:
        # Clean up global resources created by the wrapper
        release_resources()

    print(
        f"RESULT pg_failover: rows={rows} total={total} writers={'->'.join(writers)} "
        f"failovers={','.join(failovers_handled) or 'none'}",
        flush=True,
    )
