"""aws-advanced-python-wrapper's ``pep249`` module: the PEP 249 exception classes (the very
classes of :mod:`aws_wrapper.errors`, so ``except aws_wrapper.pep249.Error`` catches what
aws_wrapper raises), the peer's two extra ones, and the ``Connection`` / ``Cursor``
protocols (for type hints)."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from aws_wrapper.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)


class ConnectionTimeout(OperationalError):
    """A connection attempt timed out (the peer's name; aws_wrapper raises
    :class:`aws_wrapper.errors.ConnectError` with the driver's timeout error as the cause)."""


class PipelineAborted(OperationalError):
    """A pipeline was aborted (the peer's name, for psycopg pipelines)."""


@runtime_checkable
class Connection(Protocol):
    """A PEP 249 connection (aws_wrapper's :class:`aws_wrapper.AwsWrapperConnection` is one)."""

    def close(self) -> None: ...

    def cursor(self, *args: Any, **kwargs: Any) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@runtime_checkable
class Cursor(Protocol):
    """A PEP 249 cursor (aws_wrapper's :class:`aws_wrapper.AwsWrapperCursor` is one)."""

    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> Any: ...

    def close(self) -> None: ...

    def execute(self, *args: Any, **kwargs: Any) -> Any: ...

    def executemany(self, *args: Any, **kwargs: Any) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchmany(self, size: int = ...) -> Any: ...

    def fetchall(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


__all__ = [
    "Connection",
    "ConnectionTimeout",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "PipelineAborted",
    "ProgrammingError",
    "Warning",
]
