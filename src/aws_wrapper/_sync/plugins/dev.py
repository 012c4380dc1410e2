# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/dev.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``dev``: make the next call or connect fail with an error of your choice.

For testing how an application (or another plugin) handles errors without breaking a server::

    from aws_wrapper import error_simulator as simulator
    simulator.raise_on_next_call(psycopg.OperationalError("boom"), "Cursor.execute")
    cur.execute("SELECT 1")  # raises the error, once

The simulator is shared by every connection of the process that has the ``dev`` plugin.

:class:`ExceptionSimulatorManager` is the same simulator with the API of
aws-advanced-python-wrapper's ``developer_plugin`` (``aws_wrapper.developer_plugin``): one-shot
errors (``raise_exception_on_next_connect``, ``raise_exception_on_next_method``) and callbacks
that choose an error for each connect or call (``set_connect_callback``,
``set_method_callback``). A callback's ``get_exception_to_raise(...)`` returns the error to
raise, or None to let the connect or call go on; in async code it may also be a coroutine
function.
"""

from __future__ import annotations

from typing import Any, Protocol

from aws_wrapper._compat import ThreadLock
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ..plugin import BasePlugin
from ..protocols import ALL_METHODS, CONNECT, Call, ConnectCall, DriverConnection, DriverDialect


class ExceptionSimulatorConnectCallback(Protocol):
    """Chooses the error of a connect: ``target_driver_func`` is the driver dialect's
    ``connect(host, props)``, ``connect_func`` the rest of the connect pipeline."""

    def get_exception_to_raise(
        self,
        target_driver_func: Any,
        driver_dialect: DriverDialect,
        host_info: HostInfo,
        props: Properties,
        is_initial_connection: bool,
        connect_func: ConnectCall,
    ) -> Any: ...


class ExceptionSimulatorMethodCallback(Protocol):
    """Chooses the error of a call: ``target`` is the wrapper connection or cursor,
    ``method_name`` the pipeline name (``"Cursor.execute"``), ``execute_func`` the rest of the
    pipeline, ``args`` the call's arguments."""

    def get_exception_to_raise(
        self, target: Any, method_name: str, execute_func: Call, *args: Any, **kwargs: Any
    ) -> Any: ...


class ErrorSimulator:
    """One-shot errors for the next matching call or connect, and callbacks that choose one."""

    def __init__(self) -> None:
        self._lock = ThreadLock()
        self._calls: dict[str, BaseException] = {}
        self._connect: BaseException | None = None
        self.connect_callback: ExceptionSimulatorConnectCallback | None = None
        self.method_callback: ExceptionSimulatorMethodCallback | None = None

    def raise_on_next_call(self, error: BaseException, method: str = ALL_METHODS) -> None:
        """Raise ``error`` on the next call of ``method`` (any method by default)."""
        if not method:
            raise ValueError("method: give a pipeline method name such as 'Cursor.execute', or '*'")
        with self._lock:
            self._calls[method] = error

    def raise_on_next_connect(self, error: BaseException) -> None:
        with self._lock:
            self._connect = error

    def clear(self) -> None:
        """Forget the pending errors and the callbacks."""
        with self._lock:
            self._calls.clear()
            self._connect = None
            self.connect_callback = None
            self.method_callback = None

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

    def pending_calls(self) -> bool:
        return bool(self._calls)


simulator = ErrorSimulator()


def _chosen(answer: Any) -> BaseException | None:
    """A callback's answer: an error to raise, or None (awaited first in async code)."""
    if answer is None or isinstance(answer, BaseException):
        return answer
    raise TypeError(
        f"get_exception_to_raise() must return an exception or None, got {type(answer).__name__}"
    )


class ExceptionSimulatorManager:
    """aws-advanced-python-wrapper's ``ExceptionSimulatorManager``: the ``dev`` plugin's
    simulator (:data:`simulator`) as static methods."""

    @staticmethod
    def raise_exception_on_next_connect(error: BaseException) -> None:
        """Raise ``error`` on the next connect of a connection with the ``dev`` plugin."""
        simulator.raise_on_next_connect(error)

    @staticmethod
    def raise_exception_on_next_method(error: BaseException, method_name: str = "*") -> None:
        """Raise ``error`` on the next call of ``method_name`` (``"Cursor.execute"``,
        ``"Connection.commit"``, ...; ``"*"``: any call)."""
        if method_name == "":
            raise ValueError(
                "method_name: give a pipeline method name such as 'Cursor.execute', or '*'"
            )
        simulator.raise_on_next_call(error, method_name)

    @staticmethod
    def set_connect_callback(connect_callback: ExceptionSimulatorConnectCallback | None) -> None:
        """Ask ``connect_callback.get_exception_to_raise(...)`` at every connect that has no
        one-shot error pending (None: remove it)."""
        simulator.connect_callback = connect_callback

    @staticmethod
    def set_method_callback(method_callback: ExceptionSimulatorMethodCallback | None) -> None:
        """Ask ``method_callback.get_exception_to_raise(...)`` at every call when no one-shot
        error is pending (None: remove it)."""
        simulator.method_callback = method_callback


class DeveloperPlugin(BasePlugin):
    subscribed_methods = frozenset({ALL_METHODS, CONNECT})

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        error = simulator.take_connect()
        if error is None:
            callback = simulator.connect_callback
            if callback is not None:
                driver = self.service.driver_dialect
                error = _chosen(
                    callback.get_exception_to_raise(
                        driver.connect, driver, host, props, is_initial, call
                    )
                )
        if error is not None:
            raise error
        return call()

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if simulator.pending_calls():
            error = simulator.take_call(method)
            if error is not None:
                raise error
            # an error waits for another method: no callback meanwhile (as upstream)
            return call()
        callback = simulator.method_callback
        if callback is not None:
            error = _chosen(callback.get_exception_to_raise(target, method, call, *args))
            if error is not None:
                raise error
        return call()
