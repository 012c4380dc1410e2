"""The wrapper's errors as Django sees them.

Django turns every DB-API error raised under its ``wrap_database_errors`` into the matching
``django.db.utils`` class (``OperationalError``, ``IntegrityError``, ...), the original as
``__cause__``. The backends of :mod:`aws_wrapper.django` do that too, and raise the failover
and read/write splitting errors as *twins*: classes that subclass both the Django class and
the wrapper's own, so either ``except`` clause catches them::

    except aws_wrapper.FailoverSuccessError:       # the same clause as outside Django
    except aws_wrapper.django.FailoverSuccessError: # the same class, by its Django name
    except django.db.OperationalError:              # any operational error, failover included

Every other wrapper error (``ConnectError``, ``ConfigurationError``, ...) becomes the plain
Django class of its PEP 249 base, as a driver error would.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from django.db import utils as dj
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseErrorWrapper

from aws_wrapper import errors as aw
from aws_wrapper.sync import AwsWrapperConnection


class FailoverError(dj.OperationalError, aw.FailoverError):
    """Base class of the failover errors, as raised through Django."""


class FailoverSuccessError(FailoverError, aw.FailoverSuccessError):
    """The connection failed outside a transaction and now uses a healthy host (the new
    writer); nothing was committed by the failing statement: run it again."""


class TransactionResolutionUnknownError(FailoverError, aw.TransactionResolutionUnknownError):
    """The connection failed inside a transaction (``transaction.atomic()``, or a failing
    commit) and now uses a healthy host: the transaction may or may not have committed."""


class FailoverFailedError(FailoverError, aw.FailoverFailedError):
    """No healthy host answered within ``failover_timeout_sec``."""


class ReadWriteSplittingError(dj.OperationalError, aw.ReadWriteSplittingError):
    """A switch between writer and reader was refused (inside a transaction) or could not be
    made."""


# most specific first
_TWINS: tuple[tuple[type[aw.AwsWrapperError], type[dj.Error]], ...] = (
    (aw.FailoverSuccessError, FailoverSuccessError),
    (aw.TransactionResolutionUnknownError, TransactionResolutionUnknownError),
    (aw.FailoverFailedError, FailoverFailedError),
    (aw.FailoverError, FailoverError),
    (aw.ReadWriteSplittingError, ReadWriteSplittingError),
)


def django_error_class(error_type: type[BaseException]) -> type[dj.Error] | None:
    """The Django twin raised for a wrapper error class (None: Django's own mapping applies)."""
    for source, twin in _TWINS:
        if issubclass(error_type, source):
            return twin
    return None


class AwsDatabaseErrorWrapper(DatabaseErrorWrapper):
    """Django's error wrapper, raising the twins above for the wrapper's failover and
    read/write splitting errors (``__cause__`` is the wrapper's error, whose ``__cause__`` is
    the driver's). Errors that already are Django's pass unchanged."""

    wrapper: BaseDatabaseWrapper  # set by DatabaseErrorWrapper.__init__

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None or exc_value is None:
            return
        if issubclass(exc_type, dj.Error):
            return  # already converted (a nested wrapper, or raised by Django itself)
        database: Any = getattr(self.wrapper, "Database", None)
        driver_error = database is not None and issubclass(exc_type, database.Error)
        if driver_error and not issubclass(exc_type, aw.AwsWrapperError):
            moved = self._fail_over_dead_connection(exc_value)
            if moved is not None:
                exc_type, exc_value = type(moved), moved
        twin = django_error_class(exc_type)
        if twin is not None:
            self.wrapper.errors_occurred = True
            raise twin(*exc_value.args).with_traceback(traceback) from exc_value
        super().__exit__(exc_type, exc_value, traceback)

    def _fail_over_dead_connection(self, error: BaseException) -> aw.FailoverError | None:
        """After a driver error from a call failover does not watch (psycopg: a named
        cursor's fetch), the wrapper connection is lost: its next call would fail over. Fail
        over now, through a rollback (harmless on a lost connection), so that the error Django
        raises says so, and return the wrapper's error (None: the connection is alive, or
        failover is not loaded or failed to act)."""
        conn = getattr(self.wrapper, "connection", None)
        if not isinstance(conn, AwsWrapperConnection) or not (conn.lost or conn.closed):
            return None
        try:
            conn.rollback()
        except aw.TransactionResolutionUnknownError as e:
            # a dead connection cannot say whether it was in a transaction; Django knows
            if self.wrapper.in_atomic_block or not self.wrapper.autocommit:
                return e
            host = conn.current_host
            moved = aw.FailoverSuccessError(
                f"the connection was lost outside a transaction ({error}); it is now "
                f"connected to {host.url if host else 'another host'}: run the query again"
            )
            moved.__cause__ = error
            return moved
        except aw.FailoverError as e:
            return e
        except Exception:
            return None
        return None


__all__ = [
    "AwsDatabaseErrorWrapper",
    "FailoverError",
    "FailoverFailedError",
    "FailoverSuccessError",
    "ReadWriteSplittingError",
    "TransactionResolutionUnknownError",
    "django_error_class",
]
