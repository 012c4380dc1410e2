"""SQLAlchemy dialects over aws_wrapper: failover, read/write splitting, host monitoring and AWS
authentication for SQLAlchemy engines, blocking and asyncio.

==========================================  ===================  ==========================
URL                                         ``create_engine``    ``create_async_engine``
==========================================  ===================  ==========================
``postgresql+aws_wrapper_psycopg://``       psycopg              psycopg (async)
``mysql+aws_wrapper_pymysql://``            PyMySQL
``mysql+aws_wrapper_aiomysql://``                                aiomysql
``mysql+aws_wrapper_mysqlconnector://``     mysql-connector
==========================================  ===================  ==========================

``mariadb+aws_wrapper_pymysql://`` (``_aiomysql``, ``_mysqlconnector``): the same for MariaDB,
as SQLAlchemy's ``mariadb+pymysql://``.

Wrapper properties go in the URL's query or ``connect_args``::

    engine = create_async_engine(
        "postgresql+aws_wrapper_psycopg://app:pw@app.cluster-xyz.us-east-1.rds.amazonaws.com/app"
        "?plugins=failover_v2,read_write_splitting&failover_timeout_sec=30"
    )
    readers = engine.execution_options(aws_read_only=True)   # read/write splitting

The dialects are registered as ``sqlalchemy.dialects`` entry points by the package, and again
when this module is imported. See docs/sqlalchemy.md.
"""

from __future__ import annotations

from sqlalchemy.dialects import registry

from ._base import AWS_READ_ONLY, AwsReadOnlyCharacteristic, is_retryable, wrapper_connection

DIALECTS = {
    "postgresql.aws_wrapper_psycopg": ("aws_wrapper.sqlalchemy.psycopg", "dialect"),
    "postgresql.aws_wrapper_psycopg_async": ("aws_wrapper.sqlalchemy.psycopg", "dialect_async"),
    "mysql.aws_wrapper_pymysql": (
        "aws_wrapper.sqlalchemy.mysql",
        "MySQLDialect_aws_wrapper_pymysql",
    ),
    "mysql.aws_wrapper_aiomysql": (
        "aws_wrapper.sqlalchemy.mysql",
        "MySQLDialect_aws_wrapper_aiomysql",
    ),
    "mysql.aws_wrapper_mysqlconnector": (
        "aws_wrapper.sqlalchemy.mysql",
        "MySQLDialect_aws_wrapper_mysqlconnector",
    ),
    "mariadb.aws_wrapper_pymysql": (
        "aws_wrapper.sqlalchemy.mysql",
        "MariaDBDialect_aws_wrapper_pymysql",
    ),
    "mariadb.aws_wrapper_aiomysql": (
        "aws_wrapper.sqlalchemy.mysql",
        "MariaDBDialect_aws_wrapper_aiomysql",
    ),
    "mariadb.aws_wrapper_mysqlconnector": (
        "aws_wrapper.sqlalchemy.mysql",
        "MariaDBDialect_aws_wrapper_mysqlconnector",
    ),
}
"""Dialect name (``<backend>.<driver>``) -> (module, attribute), as in pyproject.toml's entry
points."""


def register() -> None:
    """Register the dialects with SQLAlchemy (for an installation without the package's entry
    points, e.g. the source tree on ``sys.path``). Importing this module does it."""
    for name, (module, attribute) in DIALECTS.items():
        registry.register(name, module, attribute)


register()

__all__ = [
    "AWS_READ_ONLY",
    "DIALECTS",
    "AwsReadOnlyCharacteristic",
    "is_retryable",
    "register",
    "wrapper_connection",
]
