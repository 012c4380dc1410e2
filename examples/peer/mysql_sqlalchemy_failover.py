"""SQLAlchemy + aws_wrapper: failover on Aurora MySQL, written as
aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

The engine's connections come from ``aws_wrapper.mysql_connector.connect`` (the
``creator``), with the failover plugin. A unit of work that fails with a failover error
(SQLAlchemy raises it as ``sqlalchemy.exc.OperationalError``) is run again, and lands on the
new writer.

    DB_HOST=... DB_PORT=3306 DB_USER=... DB_PASSWORD=... DB_NAME=... \
        python examples/peer/mysql_sqlalchemy_failover.py

Prints one line per unit of work and, last, ``RESULT mysql_sqlalchemy_failover: ...``.
"""

import os
import time

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from aws_wrapper import release_resources
from aws_wrapper.mysql_connector import connect

# --- test harness (not part of the example): when DEVCLUSTER_HOSTS_FILE is set, make a local
# devcluster's RDS-shaped names resolve in this process --------------------------------------
if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    install_resolver_from_env()
# --- end of test harness ----------------------------------------------------------------------

CLUSTER_ENDPOINT = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "3306"))
DB_NAME = os.environ.get("DB_NAME", "mysql")
USER = os.environ.get("DB_USER", "john")
PASSWORD = os.environ.get("DB_PASSWORD", "pwd")
ITERATIONS = int(os.environ.get("ITERATIONS", "20"))
PAUSE_SEC = float(os.environ.get("PAUSE_SEC", "0.5"))


def build_engine() -> Engine:
    return create_engine(
        "mysql+aws_wrapper_mysqlconnector://",
        creator=lambda: connect(
            f"host={CLUSTER_ENDPOINT} port={PORT} database={DB_NAME} "
            f"user={USER} password={PASSWORD}",
            wrapper_dialect="aurora-mysql",
            plugins="failover",
            use_pure=True,
        ),
    )


def run_unit_of_work(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT @@aurora_server_id")).scalar_one())


def run_workload(engine: Engine, iterations: int) -> tuple[list[str], list[str]]:
    instances: list[str] = []
    retries: list[str] = []
    for i in range(iterations):
        try:
            instance = run_unit_of_work(engine)
        except OperationalError as exc:
            # The wrapper's failover error, wrapped by SQLAlchemy: the connection failed and the
            # wrapper moved it to the new writer. Run the unit of work again.
            retries.append(type(exc.orig).__name__)
            print(f"iter {i}: operational error ({type(exc.orig).__name__}); retrying", flush=True)
            instance = run_unit_of_work(engine)
        print(f"iter {i}: connected to instance {instance}", flush=True)
        if not instances or instances[-1] != instance:
            instances.append(instance)
        time.sleep(PAUSE_SEC)
    return instances, retries


def main() -> None:
    engine = build_engine()
    try:
        instances, retries = run_workload(engine, ITERATIONS)
    finally:
        engine.dispose()
        release_resources()
    print(
        f"RESULT mysql_sqlalchemy_failover: iterations={ITERATIONS} "
        f"instances={'->'.join(instances)} retried={','.join(retries) or 'none'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
