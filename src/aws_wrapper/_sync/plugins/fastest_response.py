# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/fastest_response.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``fastest_response_strategy``: measures every host's response time, so that the
``fastest_response`` host selector (``reader_host_selector_strategy=fastest_response``, ...)
picks the fastest reader.

Loaded, the plugin follows the cluster's topology (at connect, on every connection change and
before every switch to read-only) and makes sure each host of it (readers and writer) has a
:class:`ResponseTimeMonitor`: one per host per process (per event loop in async code; a task
there, a thread in blocking code), shared by every connection, never one per connection. A
monitor opens a connection of its own to its host and, every ``response_measurement_interval_ms``
— the first time at once — measures a round of pings; the round's median is the host's figure
(see :mod:`aws_wrapper.response_times` for how figures are compared, cached and expire). The
plugin installs :func:`aws_wrapper.response_times.response_time` as the selector's source.

A monitor that no open connection uses stops after ``monitor_disposal_time_ms``; every monitor
stops with ``release_resources()``. Queries never go through this plugin: it subscribes to
``set_read_only`` only.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Sequence
from functools import partial
from typing import Any

from aws_wrapper import response_times
from aws_wrapper._compat import ThreadLock
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.fastest_response import (
    FRT_PREFIX,
    RESPONSE_MEASUREMENT_INTERVAL_MS,
)
from aws_wrapper.plugins.host_monitoring import (
    MONITOR_DISPOSAL_TIME_MS,
)
from aws_wrapper.properties import Properties

from ..connection_provider import DIRECT
from ..host_list_provider import RdsHostListProvider
from ..monitors import HostConnectionWorker, MonitorRegistry
from ..plugin import BasePlugin
from ..protocols import (
    Call,
    ConnectionProvider,
    DriverConnection,
    DriverDialect,
    PluginService,
)

logger = logging.getLogger("aws_wrapper")

MAX_CONNECT_TIMEOUT_S = 10
"""Bound of the monitor's connect timeout (the interval, rounded up, when shorter)."""


class ResponseTimeMonitor(HostConnectionWorker):
    """Measures the response time of one host for the connections that use it."""

    def __init__(
        self,
        host: HostInfo,
        driver: DriverDialect,
        props: Properties,
        interval_s: float,
        disposal_s: float,
        samples: int = response_times.SAMPLES_PER_ROUND,
        provider: ConnectionProvider = DIRECT,
    ) -> None:
        timeout = max(1, min(MAX_CONNECT_TIMEOUT_S, math.ceil(interval_s)))
        overrides: dict[str, Any] = {driver.connect_timeout_param: timeout}
        overrides.update(props.with_prefix(FRT_PREFIX))
        # never a pooled connection (it would hold a pool slot and count as an application
        # connection for least_connections); logged in like the application
        super().__init__(host, driver, provider, props.copy(driver=overrides), autocommit=True)
        self.interval_s = interval_s
        self.disposal_s = disposal_s
        self.samples = samples
        self._users: weakref.WeakSet[FastestResponseStrategyPlugin] = weakref.WeakSet()
        self._lock = ThreadLock()
        self._last_used = response_times.clock()
        self.expired = False
        """True once stopped for good (idle, or released): the registry makes a new one."""
        self.figure: float | None = None
        """The last round's median, in seconds (None: unknown, or the last round failed)."""
        self._valid_until = 0.0
        self._sample_started: float | None = None
        self.rounds = 0
        self.failures = 0

    # -- life --------------------------------------------------------------------------------

    def use(self, plugin: FastestResponseStrategyPlugin) -> None:
        with self._lock:
            self._users.add(plugin)
            self._last_used = response_times.clock()

    def unuse(self, plugin: FastestResponseStrategyPlugin) -> None:
        with self._lock:
            self._users.discard(plugin)
            self._last_used = response_times.clock()

    def ensure_started(self) -> None:
        self._start(self._run, name=f"aws-wrapper-frt-{self.host.url}")

    @property
    def has_connection(self) -> bool:
        return self._conn is not None

    def response_time(self, now: float) -> float | None:
        """The figure at ``now`` (see :func:`aws_wrapper.response_times.current_figure`)."""
        return response_times.current_figure(
            self.figure, self._valid_until, self._sample_started, now
        )

    def release_resources(self) -> None:
        self.expired = True
        _monitors.forget(self)
        response_times.untrack(self.host.url, self)
        self._stop.set()
        conn = self._conn
        if conn is not None and self._sample_started is not None:
            self.driver.abort(conn)  # a ping hanging on a dead host ends now
        self._stop_worker()
        self._drop_conn()

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        response_times.track(self.host.url, self)
        try:
            while not self._stop.is_set():
                started = response_times.clock()
                if self._expire_if_idle(started):
                    break  # nobody uses it: stop (the next use makes a new monitor)
                self._round()
                pause = self.interval_s - (response_times.clock() - started)
                if pause > 0:
                    self._stop.wait(pause)
        finally:
            self._sample_started = None
            response_times.untrack(self.host.url, self)
            self._drop_conn()

    def _expire_if_idle(self, now: float) -> bool:
        def idle() -> bool:
            with self._lock:
                if self._users:
                    self._last_used = now
                    return False
                if now - self._last_used < self.disposal_s:
                    return False
                self.expired = True
                return True

        return _monitors.forget_if(self, idle)

    def _round(self) -> None:
        """One round of pings; publishes their median, or unknown when one fails."""
        samples: list[float] = []
        try:
            conn = self._ensure_conn()
            for _ in range(self.samples):
                if self._stop.is_set():
                    return
                start = response_times.clock()
                self._sample_started = start
                self.driver.ping(conn)
                samples.append(response_times.clock() - start)
                self._sample_started = None
        except Exception as e:
            self._sample_started = None
            self.failures += 1
            self.figure = None
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("response time of %s unknown: %s", self.host.url, e)
            self._drop_conn()
            return
        figure = response_times.round_figure(samples)
        now = response_times.clock()
        self._valid_until = response_times.valid_until(now, self.interval_s)
        self.figure = figure
        self.rounds += 1


# -- one monitor per (scope, host, driver) ---------------------------------------------------

_monitors: MonitorRegistry[ResponseTimeMonitor] = MonitorRegistry()


def response_time_monitors() -> list[ResponseTimeMonitor]:
    """The response time monitors of this scope (tests, diagnostics)."""
    return _monitors.all()


class FastestResponseStrategyPlugin(BasePlugin):
    """Keeps a monitor running for every host of the topology; see the module documentation."""

    subscribed_methods = frozenset({"Connection.set_read_only"})
    needs_topology = True

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self.interval_s = props.get(RESPONSE_MEASUREMENT_INTERVAL_MS) / 1000
        self.disposal_s = props.get(MONITOR_DISPOSAL_TIME_MS) / 1000
        self._used: dict[str, ResponseTimeMonitor] = {}
        response_times.install()

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        provider = self.service.host_list_provider
        if args and args[0] and isinstance(provider, RdsHostListProvider):
            # a reader is about to be picked: measure every host the topology has now
            try:
                self._follow(provider.refresh())
            except Exception:
                pass  # the topology is the next plugin's concern
        return call()

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        provider = self.service.host_list_provider
        if isinstance(provider, RdsHostListProvider) and provider.monitor.hosts:
            self._follow(provider.monitor.hosts)

    def notify_host_list_changed(self, hosts: Sequence[HostInfo]) -> None:
        if isinstance(self.service.host_list_provider, RdsHostListProvider):
            self._follow(hosts)

    def _follow(self, hosts: Sequence[HostInfo]) -> None:
        """Use (and start) the monitors of ``hosts``; stop using those of other hosts."""
        code = self.service.driver_dialect.code
        wanted = {f"{h.url}|{code}": h for h in hosts}
        for key in [k for k in self._used if k not in wanted]:
            self._used.pop(key).unuse(self)
        for key, host in wanted.items():
            monitor = self._used.get(key)
            if monitor is None or monitor.expired:
                monitor = _monitors.get(
                    key,
                    partial(self._make, host),
                    stale=lambda m: m.expired,
                    on_get=lambda m: m.use(self),
                )
                self._used[key] = monitor
            monitor.ensure_started()

    def _make(self, host: HostInfo) -> ResponseTimeMonitor:
        service = self.service
        return ResponseTimeMonitor(
            host,
            service.driver_dialect,
            self.props,
            self.interval_s,
            self.disposal_s,
            provider=service.monitor_connection_provider,
        )

    def release_resources(self) -> None:
        # the connection closes: stop using the monitors (they are shared: they live on)
        for monitor in self._used.values():
            monitor.unuse(self)
        self._used.clear()
