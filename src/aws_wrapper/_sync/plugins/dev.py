# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/dev.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``dev``: make the next call or connect fail with an error of your choice.

For testing how an application (or another plugin) handles errors without breaking a server::

    from aws_wrapper import error_simulator as simulator
    simulator.raise_on_next_call(psycopg.OperationalError("boom"), "Cursor.execute")
    cur.execute("SELECT 1")  # raises the error, once

The simulator is shared by every connection of the process that has the ``dev`` plugin.
"""

from __future__ import annotations

from typing import Any

from aws_wrapper._compat import ThreadLock
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ..plugin import BasePlugin
from ..protocols import ALL_METHODS, CONNECT, Call, ConnectCall, DriverConnection


class ErrorSimulator:
    """One-shot errors for the next matching call or connect."""

    def __init__(self) -> None:
        self._lock = ThreadLock()
        self._calls: dict[str, BaseException] = {}
        self._connect: BaseException | None = None

    def raise_on_next_call(self, error: BaseException, method: str = ALL_METHODS) -> None:
        """Raise ``error`` on the next call of ``method`` (any method by default)."""
        with self._lock:
            self._calls[method] = error

    def raise_on_next_connect(self, error: BaseException) -> None:
        with self._lock:
            self._connect = error

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._connect = None

    def take_call(self, method: str) -> BaseException | None:
        if not self._calls:
            return None
        with self._lock:
            return self._calls.pop(method, None) or self._calls.pop(ALL_METHODS, None)

    def take_connect(self) -> BaseException | None:
        if self._connect is None:
            return None
        with self._lock:
            error, self._connect = self._connect, None
            return error


simulator = ErrorSimulator()


class DeveloperPlugin(BasePlugin):
    subscribed_methods = frozenset({ALL_METHODS, CONNECT})

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        error = simulator.take_connect()
        if error is not None:
            raise error
        return call()

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        error = simulator.take_call(method)
        if error is not None:
            raise error
        return call()
