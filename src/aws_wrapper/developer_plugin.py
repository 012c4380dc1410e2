"""aws-advanced-python-wrapper's ``developer_plugin`` module, for the ``dev`` plugin of
blocking code (:mod:`aws_wrapper`): :class:`ExceptionSimulatorManager` makes the next connect
or call of a connection with ``plugins="dev"`` raise a chosen error, or asks a callback which
error to raise::

    from aws_wrapper.developer_plugin import ExceptionSimulatorManager

    ExceptionSimulatorManager.raise_exception_on_next_method(RuntimeError("test"), "Cursor.execute")

    class EveryThirdConnect:
        def __init__(self) -> None:
            self.n = 0

        def get_exception_to_raise(self, target_driver_func, driver_dialect, host_info, props,
                                   is_initial_connection, connect_func):
            self.n += 1
            return ConnectionRefusedError("simulated") if self.n % 3 == 0 else None

    ExceptionSimulatorManager.set_connect_callback(EveryThirdConnect())

Differences from the peer: ``target_driver_func`` is the driver dialect's ``connect(host,
props)`` (this library opens driver connections through its dialect), ``props`` is the
connection's :class:`aws_wrapper.properties.Properties`, and ``target`` of a method callback
is the wrapper connection or cursor. An empty ``method_name`` raises ``ValueError`` (the peer:
``RuntimeError``). The async twin is :mod:`aws_wrapper._async.plugins.dev`, whose callbacks may
also be coroutine functions.
"""

from __future__ import annotations

from aws_wrapper._sync.plugins.dev import (
    DeveloperPlugin,
    ExceptionSimulatorConnectCallback,
    ExceptionSimulatorManager,
    ExceptionSimulatorMethodCallback,
)

__all__ = [
    "DeveloperPlugin",
    "ExceptionSimulatorConnectCallback",
    "ExceptionSimulatorManager",
    "ExceptionSimulatorMethodCallback",
]
