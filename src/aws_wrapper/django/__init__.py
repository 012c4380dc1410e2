"""Django integration: database backends on wrapper connections, failover errors as Django
errors, read/write splitting.

::

    DATABASES = {
        "default": {
            "ENGINE": "aws_wrapper.django.postgresql",      # or "aws_wrapper.django.mysql"
            "HOST": "app.cluster-abc.us-east-1.rds.amazonaws.com",
            "NAME": "app", "USER": "app", "PASSWORD": "...",
            "OPTIONS": {"plugins": "failover_v2,read_write_splitting"},
        }
    }

    from aws_wrapper.django import read_only

    with read_only():                      # on a reader inside, back on the writer after
        report = list(Order.objects.filter(...))

A failover surfaces as :class:`FailoverSuccessError` (outside a transaction: run the query
again) or :class:`TransactionResolutionUnknownError` (inside ``transaction.atomic()``): both
are ``django.db.OperationalError`` *and* the wrapper's errors of the same name, so
``except aws_wrapper.FailoverSuccessError`` works in Django code too. See docs/django.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from aws_wrapper.sync import AwsWrapperConnection

from .errors import (
    FailoverError,
    FailoverFailedError,
    FailoverSuccessError,
    ReadWriteSplittingError,
    TransactionResolutionUnknownError,
)
from .routers import ReadReplicaRouter


def wrapper_connection(using: str | None = None) -> AwsWrapperConnection:
    """The wrapper connection of a database alias, connected if it was not (for its
    ``current_host``, ``read_only``, ...). Raises ``ImproperlyConfigured`` when the alias
    does not use an aws_wrapper engine."""
    return _wrapper_of(connections[using or DEFAULT_DB_ALIAS], using or DEFAULT_DB_ALIAS)


def _wrapper_of(connection: BaseDatabaseWrapper, alias: str) -> AwsWrapperConnection:
    connection.ensure_connection()
    conn = connection.connection
    if not isinstance(conn, AwsWrapperConnection):
        raise ImproperlyConfigured(
            f"database {alias!r} does not use an aws_wrapper engine "
            "(aws_wrapper.django.postgresql or aws_wrapper.django.mysql)"
        )
    return conn


@contextmanager
def read_only(using: str | None = None) -> Iterator[AwsWrapperConnection]:
    """Run the block with the connection of ``using`` (default: ``"default"``) in read-only
    mode: on a reader with the ``read_write_splitting`` (or ``srw``) plugin, read-only on the
    server otherwise. The previous mode is restored on exit. Usable as a decorator.

    Refused inside a transaction (``transaction.atomic()``, or an open transaction with
    ``AUTOCOMMIT`` off) with :class:`ReadWriteSplittingError`: a transaction cannot move to
    another instance. Yields the wrapper connection.
    """
    alias = using or DEFAULT_DB_ALIAS
    connection = connections[alias]
    if connection.in_atomic_block:
        raise ReadWriteSplittingError(
            f"read_only(using={alias!r}) inside a transaction (transaction.atomic()): a "
            "transaction cannot switch between writer and reader; enter read_only() outside "
            "the atomic block"
        )
    conn = _wrapper_of(connection, alias)
    previous = conn.read_only
    with connection.wrap_database_errors:
        conn.set_read_only(True)
    try:
        yield conn
    except BaseException:
        _restore(connection, conn, previous, quiet=True)
        raise
    _restore(connection, conn, previous, quiet=False)


def _restore(
    connection: BaseDatabaseWrapper, conn: AwsWrapperConnection, previous: bool, quiet: bool
) -> None:
    if connection.connection is not conn or conn.closed:
        return  # closed or replaced inside the block: a new connection is not read-only
    try:
        with connection.wrap_database_errors:
            conn.set_read_only(previous)
    except Exception:
        # never leave a connection behind on a reader: the next query reconnects
        connection.close()
        if not quiet:
            raise


__all__ = [
    "FailoverError",
    "FailoverFailedError",
    "FailoverSuccessError",
    "ReadReplicaRouter",
    "ReadWriteSplittingError",
    "TransactionResolutionUnknownError",
    "read_only",
    "wrapper_connection",
]
