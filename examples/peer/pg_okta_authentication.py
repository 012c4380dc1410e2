"""Federated authentication with Okta on Aurora PostgreSQL (psycopg), written as
aws-advanced-python-wrapper's documentation writes it -- only the package name is
``aws_wrapper``.

The ``okta`` plugin gets a session token from Okta for ``idp_username``, the SAML assertion of
the AWS Account Federation app ``app_id``, temporary AWS credentials for it (STS
AssumeRoleWithSAML) and logs in as ``db_user`` with an IAM authentication token.

    DB_HOST=... DB_PORT=5432 DB_NAME=... DB_USER=... IDP_ENDPOINT=... APP_ID=... \
        IDP_USERNAME=... IDP_PASSWORD=... IAM_ROLE_ARN=... IAM_IDP_ARN=... IAM_REGION=... \
        python examples/peer/pg_okta_authentication.py

Prints the instance and, last, ``RESULT pg_okta_authentication: ...``.
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

HOST = os.environ.get("DB_HOST", "database.cluster-xyz.us-east-2.rds.amazonaws.com")
PORT = int(os.environ.get("DB_PORT", "5432"))
DATABASE = os.environ.get("DB_NAME", "postgres")
DB_USER = os.environ.get("DB_USER", "john")
IDP_ENDPOINT = os.environ.get("IDP_ENDPOINT", "ec2amaz-ab3cdef.example.com")
APP_ID = os.environ.get("APP_ID", "abcde1fgh3kLZTBz1S5d7")
IDP_USERNAME = os.environ.get("IDP_USERNAME", "some_federated_username@example.com")
IDP_PASSWORD = os.environ.get("IDP_PASSWORD", "some_password")
IAM_ROLE_ARN = os.environ.get(
    "IAM_ROLE_ARN", "arn:aws:iam::123456789012:role/okta_example_iam_role"
)
IAM_IDP_ARN = os.environ.get("IAM_IDP_ARN", "arn:aws:iam::123456789012:saml-provider/okta_example")
IAM_REGION = os.environ.get("IAM_REGION", "us-east-2")

if __name__ == "__main__":
    try:
        with (
            AwsWrapperConnection.connect(
                psycopg.Connection.connect,
                host=HOST,
                port=PORT,
                dbname=DATABASE,
                plugins="okta",
                idp_endpoint=IDP_ENDPOINT,
                app_id=APP_ID,
                iam_role_arn=IAM_ROLE_ARN,
                iam_idp_arn=IAM_IDP_ARN,
                iam_region=IAM_REGION,
                idp_username=IDP_USERNAME,
                idp_password=IDP_PASSWORD,
                db_user=DB_USER,
                autocommit=True,
            ) as awsconn,
            awsconn.cursor() as awscursor,
        ):
            awscursor.execute("SELECT * FROM pg_catalog.aurora_db_instance_identifier()")

            res = awscursor.fetchone()
            assert res is not None
            print(res)
            awscursor.execute("SELECT current_user")
            row = awscursor.fetchone()
            assert row is not None
            user = row[0]
    finally:
        # Clean up global resources created by the wrapper
        release_resources()

    print(f"RESULT pg_okta_authentication: user={user} instance={res[0]}", flush=True)
