"""Django's PostgreSQL backend (psycopg 3) on wrapper connections.

``ENGINE: "aws_wrapper.django.postgresql"``. Everything is Django's own backend, except that
connections are opened by ``aws_wrapper.connect`` (wrapper properties in ``OPTIONS``), and
what Django sets once per connection is set so that it holds on every driver connection the
wrapper opens later (a failover's, a reader's): the time zone and ``assume_role`` go in the
startup ``options``, the isolation level through the wrapper (which replays it), loaders
registered after connecting in adapters shared by those driver connections.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base as pg
from django.db.backends.postgresql.operations import DatabaseOperations as PgDatabaseOperations
from django.db.backends.postgresql.psycopg_any import IsolationLevel, register_tzloader
from django.utils.asyncio import async_unsafe
from psycopg import ClientCursor
from psycopg.pq import Format

from aws_wrapper.sync import AwsWrapperConnection

from .._backend import READ_ONLY_OPTION, AwsBackendMixin, open_connection, wrapper_options
from . import database
from .database import ClientBindingConnection, ServerBindingConnection, SharedAdapters

POOL_REFUSED = (
    "OPTIONS['pool'] is not supported by aws_wrapper.django.postgresql: Django's pool "
    "(psycopg_pool) would hold plain psycopg connections, outside the wrapper (no failover, "
    "no read/write splitting). Use persistent connections (CONN_MAX_AGE, CONN_HEALTH_CHECKS) "
    "and, for the instance connections the wrapper opens, its internal pools "
    "(OPTIONS['connection_provider'] = aws_wrapper.PooledConnectionProvider(...)); see "
    "docs/django.md"
)


def _startup_value(value: str) -> str:
    """A value for libpq's ``options`` (backslash-escaped spaces and backslashes)."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


class DatabaseOperations(PgDatabaseOperations):
    def compose_sql(self, sql: Any, params: Any) -> Any:
        """Merge parameters client-side (migrations, ``last_executed_query``) with the current
        driver connection's adapters: psycopg's ``ClientCursor`` wants a psycopg connection."""
        self.connection.ensure_connection()
        raw = self.connection.connection.driver_connection
        return ClientCursor(raw).mogrify(sql, params)


class DatabaseWrapper(AwsBackendMixin, pg.DatabaseWrapper):
    Database = database
    ops_class = DatabaseOperations

    @property
    def pool(self) -> None:
        """Django's connection pool is refused (see :data:`POOL_REFUSED`)."""
        return None

    def close_pool(self) -> None:
        return None

    def get_connection_params(self) -> dict[str, Any]:
        options = self.settings_dict["OPTIONS"]
        if options.get("pool"):
            raise ImproperlyConfigured(POOL_REFUSED)
        wrapper_options(options)
        params: dict[str, Any] = super().get_connection_params()
        params.pop(READ_ONLY_OPTION, None)
        # Session settings every driver connection must start with: Django sets them once
        # per connection, the wrapper opens new driver connections underneath.
        startup = [params["options"]] if params.get("options") else []
        if self.timezone_name:
            startup.append(f"-c TimeZone={_startup_value(self.timezone_name)}")
        role = options.get("assume_role")
        if role:
            startup.append(f"-c role={_startup_value(str(role))}")
        if startup:
            params["options"] = " ".join(startup)
        context = params.get("context")
        if context is not None:
            params["context"] = SharedAdapters(context.adapters)
        return params

    @async_unsafe
    def get_new_connection(self, conn_params: Any) -> AwsWrapperConnection:
        options = self.settings_dict["OPTIONS"]
        level = options.get("isolation_level")
        if level is None:
            self.isolation_level = IsolationLevel.READ_COMMITTED
        else:
            try:
                self.isolation_level = IsolationLevel(level)
            except ValueError:
                raise ImproperlyConfigured(
                    f"Invalid transaction isolation level {level} specified. Use one of the "
                    "psycopg.IsolationLevel values."
                ) from None
        factory = (
            ServerBindingConnection
            if options.get("server_side_binding") is True
            else ClientBindingConnection
        )
        return open_connection(
            self.alias,
            factory.connect,
            conn_params,
            isolation_level=self.isolation_level if level is not None else None,
            read_only=wrapper_options(options),
        )

    @async_unsafe
    def create_cursor(self, name: str | None = None) -> Any:
        conn = self.connection
        assert conn is not None
        if name:
            # a wrapper cursor over a named driver cursor: the driver connection's
            # server_cursor_factory (see database.ClientBindingConnection) makes it
            cursor = conn.cursor(name, scrollable=False, withhold=conn.autocommit)
        else:
            cursor = conn.cursor()
        # A time zone changed since connecting (override_settings): Django registers a loader
        # on the cursor; a wrapper cursor may change driver cursors, so register it on the
        # adapters shared by the connection's driver connections instead.
        tzloader = conn.adapters.get_loader(pg.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != tzloader.timezone:
            register_tzloader(self.timezone, conn)
        return cursor
