"""AWS Secrets Manager on Aurora PostgreSQL (psycopg), written as aws-advanced-python-wrapper's
documentation writes it -- only the package name is ``aws_wrapper``.

The ``aws_secrets_manager`` plugin reads the user name and password from the secret (its JSON
``username`` and ``password``) with the AWS credentials of the standard chain.

    DB_HOST=... DB_PORT=5432 DB_NAME=... SECRET_ID=arn:aws:secretsmanager:... \
        SECRET_REGION=us-east-1 python examples/peer/pg_secrets_manager.py

Prints the instance and, last, ``RESULT pg_secrets_manager: ...``.
"""

from __future__ import annotations

import os

import psycopg

from aws_wrapper import AwsWrapperConnection, release_resources

# --- test harness (not part of the example): when DEVCLUSTER_HOSTS_FILE is set, make a local
# devcluster's RDS-shaped names resolve in this process --------------------------------------
if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    install_resolver_from_env()
# --- end of test harness ----------------------------------------------------------------------

HOST = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "5432"))
DATABASE = os.environ.get("DB_NAME", "postgres")
SECRET_ID = os.environ.get(
    "SECRET_ID",
    "arn:aws:secretsmanager:<Region>:<AccountId>:secret:Secre78tName-6RandomCharacters",
)
SECRET_REGION = os.environ.get("SECRET_REGION", "us-east-2")

if __name__ == "__main__":
    try:
        with (
            AwsWrapperConnection.connect(
                psycopg.Connection.connect,
                host=HOST,
                port=PORT,
                dbname=DATABASE,
                secrets_manager_secret_id=SECRET_ID,
                secrets_manager_region=SECRET_REGION,
                plugins="aws_secrets_manager",
            ) as awsconn,
            awsconn.cursor() as cursor,
        ):
            cursor.execute("SELECT pg_catalog.aurora_db_instance_identifier()")
            res = cursor.fetchone()
            assert res is not None
            for record in res:
                print(record)
            cursor.execute("SELECT current_user")
            row = cursor.fetchone()
            assert row is not None
            user = str(row[0])
    finally:
        # Clean up global resources created by the wrapper
        release_resources()

    print(f"RESULT pg_secrets_manager: user={user}", flush=True)
