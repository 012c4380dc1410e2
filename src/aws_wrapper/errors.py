"""Exceptions: the PEP 249 hierarchy and the wrapper's own errors.

Every exception that leaves the wrapper's API is an :class:`Error`. Errors raised by the
driver (``psycopg.errors.UniqueViolation``, ``pymysql.err.IntegrityError``,
``mysql.connector.errors.*``) keep their class and gain ours (see :func:`adopt`): one error is
both a ``psycopg.errors.UniqueViolation`` and an ``aws_wrapper.IntegrityError``, so existing
``except`` clauses keep working and PEP 249 ones work too. Errors raised by the wrapper belong
to this module's hierarchy and subclass the matching PEP 249 class, so
``except aws_wrapper.OperationalError`` catches a failover error.

Failover errors an application must handle:

* :class:`FailoverSuccessError` - the connection failed and was replaced by a connection to a
  healthy host; no transaction was open. Session state was restored; re-run the statement.
* :class:`TransactionResolutionUnknownError` - as above, but a transaction was open: whether it
  committed is unknown. Re-run the whole transaction if it is idempotent or check first.
* :class:`FailoverFailedError` - no healthy host was found within ``failover_timeout_sec``.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any, Final


class Warning(Exception):  # the PEP 249 name, shadowing the builtin on purpose
    """PEP 249 Warning."""


class Error(Exception):
    """PEP 249 base class of all errors."""


class InterfaceError(Error):
    """An error related to the interface rather than the database."""


class DatabaseError(Error):
    """An error related to the database."""


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


class AwsWrapperError(Error):
    """Base class of every error the wrapper raises itself.

    As in aws-advanced-python-wrapper: ``AwsWrapperError(message="", original_error=None)``;
    :attr:`driver_error` is the driver's error behind it (``original_error``, else the error
    it was raised ``from``), or None."""

    def __init__(self, message: str = "", original_error: BaseException | None = None) -> None:
        super().__init__(message)
        if isinstance(original_error, AwsWrapperError):
            original_error = original_error.driver_error
        self._original_error = original_error

    @property
    def driver_error(self) -> BaseException | None:
        """The driver's error behind this one, if any."""
        found = getattr(self, "_original_error", None)
        if found is None:
            cause = self.__cause__
            found = cause.driver_error if isinstance(cause, AwsWrapperError) else cause
        return found


class UnsupportedOperationError(AwsWrapperError, NotSupportedError):
    """An operation the wrapper (or the plugin asked) does not support."""


class QueryTimeoutError(AwsWrapperError, OperationalError):
    """A call to the database did not answer within its time limit."""


class ConfigurationError(AwsWrapperError, InterfaceError):
    """Bad connection configuration: unknown or malformed property, unknown plugin code,
    unknown driver. The message names the offending property or value."""


class PropertyError(ConfigurationError):
    """A connection property is unknown or has a bad value."""

    def __init__(self, message: str, prop: str) -> None:
        super().__init__(message)
        self.prop = prop


class UnknownPluginError(ConfigurationError):
    """A plugin code in ``plugins=`` is not known."""


class DuplicatePluginError(ConfigurationError):
    """A plugin registration reuses a code or alias another registration holds (pass
    ``replace=True`` to :func:`aws_wrapper.register_plugin` to replace it)."""


class UnsupportedDriverError(ConfigurationError):
    """The connect function or driver name does not belong to a supported driver."""


class AwsConnectError(AwsWrapperError, OperationalError):
    """A connection could not be opened (the peer's name; :class:`ConnectError` is one)."""


class ConnectError(AwsConnectError):
    """A connection to a host could not be opened. Names the host; never the password."""

    def __init__(self, message: str, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


class LoginError(ConnectError):
    """The server rejected the credentials."""


class ConnectionClosedError(AwsWrapperError, InterfaceError):
    """An operation was attempted on a closed wrapper connection or cursor."""


class FailoverError(AwsWrapperError, OperationalError):
    """Base class of the errors raised by the failover plugins."""


class FailoverSuccessError(FailoverError):
    """The connection was replaced by a connection to a healthy host; re-run the statement."""


class TransactionResolutionUnknownError(FailoverError):
    """The connection was replaced during a transaction whose outcome is unknown."""


class FailoverFailedError(FailoverError):
    """No healthy host was reached within the failover timeout."""


class ReadWriteSplittingError(AwsWrapperError, OperationalError, InterfaceError):
    """A read/write switch was refused or could not be made. Both an
    :class:`OperationalError` and (as in aws-advanced-python-wrapper) an
    :class:`InterfaceError`."""


class AwsAuthError(LoginError):
    """AWS authentication failed before the database was reached: no or bad AWS credentials,
    a secret that cannot be read, an identity provider that refused the login. Names what
    failed; never shows a password, token, assertion or secret value."""

    def __init__(self, message: str, host: str | None = None) -> None:
        super().__init__(message, host)


class PoolTimeoutError(AwsWrapperError, OperationalError):
    """No connection of an internal pool came free in time (or the pool is closed)."""


class BlueGreenError(AwsWrapperError, OperationalError):
    """Base class of the errors raised by the blue/green plugin (``bg``)."""


class BlueGreenTimeoutError(BlueGreenError):
    """A connect or call held during a blue/green switchover (phase IN_PROGRESS) was still
    held after ``bg_connect_timeout_ms``; retry it later."""


class GreenEndpointRejectedError(BlueGreenError):
    """A new connection by a green host name (``...-green-xxxxxx...``) after a blue/green
    switchover: those names are going away; connect by the blue (original) names."""

    def __init__(self, message: str, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


PEP249_ERROR_NAMES = (
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)


_SPECIFIC: Final = (
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "DatabaseError",
    "InterfaceError",
    "Error",
)
_adopted: dict[type[Exception], type[Exception]] = {}


def pep249_class(cls: type[BaseException]) -> type[Error]:
    """Our PEP 249 class for a foreign exception class: the one its driver hierarchy names
    (``psycopg.errors.UniqueViolation`` -> :class:`IntegrityError`); for errors below the
    drivers, :class:`OperationalError` for the network (``OSError``, ``EOFError``),
    :class:`NotSupportedError` for ``NotImplementedError``, else :class:`InterfaceError`."""
    names = {k.__name__ for k in cls.__mro__}
    here = globals()
    for name in _SPECIFIC:
        if name in names:
            found: type[Error] = here[name]
            return found
    if issubclass(cls, OSError | EOFError):
        return OperationalError
    if issubclass(cls, NotImplementedError):
        return NotSupportedError
    return InterfaceError


def _adopted_class(cls: type[Exception]) -> type[Exception]:
    found = _adopted.get(cls)
    if found is None:
        # named like the driver's class, so tracebacks and logs read as before; pickled as
        # the driver's class (a process without aws_wrapper can load it)
        found = type(
            cls.__name__,
            (cls, pep249_class(cls)),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__reduce__": partialmethod(_reduce_as, cls),
            },
        )
        _adopted[cls] = found
    return found


def _reduce_as(error: BaseException, original: type[BaseException]) -> Any:
    reduced = super(type(error), error).__reduce__()
    if isinstance(reduced, tuple) and reduced and reduced[0] is type(error):
        return (original, *reduced[1:])
    return reduced


def adopt(error: Exception) -> Exception:
    """``error`` made an instance of our PEP 249 class while it stays one of its own.

    A driver's error (a Python class) changes class in place to a subclass of both, keeping
    its identity, attributes (``sqlstate``, ``errno``, ``diag``) and traceback. An error of a
    built-in class (``OSError``, ``TypeError``), whose class cannot change, comes back as a new
    instance of such a subclass, with the same arguments: raise it ``from error``. An
    :class:`Error` comes back as is."""
    if isinstance(error, Error):
        return error
    cls = _adopted_class(type(error))
    try:
        error.__class__ = cls
    except TypeError:
        try:
            twin = cls(*error.args)
        except Exception:
            twin = pep249_class(type(error))(str(error))
        return twin
    return error


def paired_error_classes(driver_errors: object) -> dict[str, tuple[type[Exception], ...]]:
    """For each PEP 249 exception name, (the driver's class, aws_wrapper's class).

    For frameworks that look a DB-API module's exceptions up by name (SQLAlchemy, Django):
    their ``isinstance(e, dbapi.Error)`` and ``except dbapi.Error`` take a tuple, so errors of
    both hierarchies are recognised — the driver's pass through the wrapper unchanged, the
    wrapper's own subclass the classes here (a ``FailoverSuccessError`` is an
    ``OperationalError``). ``driver_errors``: the driver module (or its errors module)."""
    here = globals()
    return {name: (getattr(driver_errors, name), here[name]) for name in PEP249_ERROR_NAMES}


__all__ = [
    "PEP249_ERROR_NAMES",
    "AwsAuthError",
    "AwsConnectError",
    "AwsWrapperError",
    "BlueGreenError",
    "BlueGreenTimeoutError",
    "ConfigurationError",
    "ConnectError",
    "ConnectionClosedError",
    "DataError",
    "DatabaseError",
    "DuplicatePluginError",
    "Error",
    "FailoverError",
    "FailoverFailedError",
    "FailoverSuccessError",
    "GreenEndpointRejectedError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "LoginError",
    "NotSupportedError",
    "OperationalError",
    "PoolTimeoutError",
    "ProgrammingError",
    "PropertyError",
    "QueryTimeoutError",
    "ReadWriteSplittingError",
    "TransactionResolutionUnknownError",
    "UnknownPluginError",
    "UnsupportedDriverError",
    "UnsupportedOperationError",
    "Warning",
    "adopt",
    "paired_error_classes",
    "pep249_class",
]


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its class name when it has none): what a log
    line quotes of an error a monitor recovers from."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
