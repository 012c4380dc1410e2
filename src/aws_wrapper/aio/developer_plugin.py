"""The ``dev`` plugin of async code (:mod:`aws_wrapper.aio`) with aws-advanced-python-wrapper's
``ExceptionSimulatorManager`` API (see :mod:`aws_wrapper.developer_plugin`); a callback's
``get_exception_to_raise`` may also be a coroutine function here. (The peer's async package
has no such module: its ``AsyncDeveloperPlugin`` keeps its own class-level API.)
"""

from __future__ import annotations

from aws_wrapper._async.plugins.dev import (
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
