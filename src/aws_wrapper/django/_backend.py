"""What the PostgreSQL and MySQL backends of :mod:`aws_wrapper.django` share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property

from aws_wrapper import errors as aw
from aws_wrapper.sync import AwsWrapperConnection

from .errors import AwsDatabaseErrorWrapper

# OPTIONS key the backends read themselves (never passed to the driver): open the connection
# in read-only mode, i.e. on a reader with the read_write_splitting plugin.
READ_ONLY_OPTION = "read_only"


def wrapper_options(options: Mapping[str, Any]) -> bool:
    """The backend's own OPTIONS, checked: whether to open the connection read-only."""
    value = options.get(READ_ONLY_OPTION, False)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(
            f"OPTIONS[{READ_ONLY_OPTION!r}] must be True or False, got {value!r}"
        )
    return value


def open_connection(
    alias: str,
    driver: Callable[..., Any] | str,
    params: Mapping[str, Any],
    *,
    isolation_level: object | None = None,
    read_only: bool = False,
) -> AwsWrapperConnection:
    """``aws_wrapper.connect(driver=driver, **params)``, then the isolation level and
    read-only mode set through the wrapper (which keeps them across failover and read/write
    switches). A configuration error (an unknown OPTIONS name, a bad property value, an
    unknown plugin code) becomes ``ImproperlyConfigured`` naming the database alias."""
    try:
        conn = AwsWrapperConnection.connect(driver, "", **params)
    except aw.ConfigurationError as e:
        raise ImproperlyConfigured(f"DATABASES[{alias!r}]: {e}") from e
    try:
        if isolation_level is not None:
            conn.set_isolation_level(str(getattr(isolation_level, "name", isolation_level)))
        if read_only:
            conn.set_read_only(True)
    except BaseException:
        conn.close()
        raise
    return conn


class AwsBackendMixin(BaseDatabaseWrapper):
    """Behaviour both backends add to Django's (put first in the bases)."""

    connection: AwsWrapperConnection | None
    Database: ModuleType

    @cached_property
    def wrap_database_errors(self) -> DatabaseErrorWrapper:
        return AwsDatabaseErrorWrapper(self)

    def is_usable(self) -> bool:
        """Whether the connection answers ``SELECT 1``. A failover while asking is an answer
        too: the wrapper connection moved to the new writer and is usable."""
        if self.connection is None:
            return False
        try:
            self._ping(self.connection)
        except aw.FailoverSuccessError:
            try:
                self._ping(self.connection)
            except self.Database.Error:
                return False
        except self.Database.Error:
            return False
        return True

    @staticmethod
    def _ping(connection: AwsWrapperConnection) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
