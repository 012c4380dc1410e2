"""IAM database authentication on Aurora PostgreSQL (psycopg), written as
aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

No password: the ``iam`` plugin signs an IAM authentication token for ``user`` with the AWS
credentials of the standard chain (environment, ``~/.aws``, instance role, ...) and logs in
with it. The database user must be granted ``rds_iam``.

    DB_HOST=... DB_PORT=5432 DB_USER=... DB_NAME=... \
        python examples/peer/pg_iam_authentication.py

Prints the rows and, last, ``RESULT pg_iam_authentication: ...``.
"""

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
USER = os.environ.get("DB_USER", "john")
DATABASE = os.environ.get("DB_NAME", "postgres")

if __name__ == "__main__":
    try:
        with (
            AwsWrapperConnection.connect(
                psycopg.Connection.connect,
                host=HOST,
                port=PORT,
                dbname=DATABASE,
                user=USER,
                plugins="iam",
                wrapper_dialect="aurora-pg",
                autocommit=True,
            ) as awsconn,
            awsconn.cursor() as awscursor,
        ):
            awscursor.execute(
                "CREATE TEMPORARY TABLE bank_test "
                "(id int primary key, name varchar(40), account_balance int)"
            )
            awscursor.execute("INSERT INTO bank_test VALUES (%s, %s, %s)", (0, "Jane Doe", 200))
            awscursor.execute("INSERT INTO bank_test VALUES (%s, %s, %s)", (1, "John Smith", 200))
            awscursor.execute("SELECT * FROM bank_test")

            res = awscursor.fetchall()
            for record in res:
                print(record)
            awscursor.execute("DROP TABLE bank_test")

            awscursor.execute("SELECT current_user, pg_catalog.aurora_db_instance_identifier()")
            row = awscursor.fetchone()
            assert row is not None
            user, instance = row
    finally:
        # Clean up global resources created by the wrapper
        release_resources()

    print(
        f"RESULT pg_iam_authentication: user={user} instance={instance} rows={len(res)}", flush=True
    )
