# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/timing.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``connect_time`` and ``execute_time``: how long connects and calls take.

Totals are kept per process (all connections), readable with :meth:`totals` and reset with
:meth:`reset`; each measurement is also logged at DEBUG level on the ``aws_wrapper`` logger.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from ..plugin import BasePlugin
from ..protocols import ALL_METHODS, CONNECT, Call, ConnectCall, DriverConnection

logger = logging.getLogger("aws_wrapper")


class ConnectTimePlugin(BasePlugin):
    subscribed_methods = frozenset({CONNECT})
    _total_ns = 0
    _count = 0

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        start = time.perf_counter_ns()
        try:
            return call()
        finally:
            elapsed = time.perf_counter_ns() - start
            ConnectTimePlugin._total_ns += elapsed
            ConnectTimePlugin._count += 1
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("connect to %s took %.3f ms", host.url, elapsed / 1e6)

    @classmethod
    def totals(cls) -> tuple[int, int]:
        """(number of connects, total nanoseconds) since the last reset."""
        return cls._count, cls._total_ns

    @classmethod
    def reset(cls) -> None:
        cls._total_ns = cls._count = 0


_execute_totals = [0, 0]  # calls, nanoseconds (module level: cheaper than class attributes)


class ExecuteTimePlugin(BasePlugin):
    subscribed_methods = frozenset({ALL_METHODS})

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        start = time.perf_counter_ns()
        try:
            return call()
        finally:
            elapsed = time.perf_counter_ns() - start
            totals = _execute_totals
            totals[0] += 1
            totals[1] += elapsed
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s took %.3f ms", method, elapsed / 1e6)

    @classmethod
    def totals(cls) -> tuple[int, int]:
        """(number of calls, total nanoseconds) since the last reset."""
        return _execute_totals[0], _execute_totals[1]

    @classmethod
    def reset(cls) -> None:
        _execute_totals[0] = _execute_totals[1] = 0
