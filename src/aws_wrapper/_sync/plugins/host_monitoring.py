# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/host_monitoring.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``host_monitoring_v2`` (alias ``host_monitoring``): enhanced failure monitoring (EFM).

A call that waits on a dead host (a network partition, a host that stopped answering without
closing its sockets) would hang until the OS gives up, minutes later. While a network-bound
call has been in flight for ``failure_detection_time_ms``, the host's monitor probes the host
on a connection of its own every ``failure_detection_interval_ms``; every interval a probe
stays unanswered counts as a failure, and after ``failure_detection_count`` failures in a row
the monitor aborts the calls in flight on that host. They fail with the driver's network error
at once, and ``failover_v2`` (if present) takes over.

There is one monitor per host and settings per process (per event loop in async code; a task
there, a thread in blocking code), shared by every connection to the host with the same
detection settings (``failure_detection_*`` and ``monitoring-`` properties; see
:func:`monitor_key`), started on first use and stopped after ``monitor_disposal_time_ms`` with
nothing to watch, or by ``release_resources()``.

Per call the plugin writes one timestamp before and clears it after: no allocation, no lock.
Aborting shuts the socket down (``DriverDialect.abort``), which is safe while another thread
is blocked reading it, and never frees it under that reader.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from typing import Any

from aws_wrapper._compat import ThreadLock, Worker, spawn
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.host_monitoring import (
    FAILURE_DETECTION_COUNT,
    FAILURE_DETECTION_ENABLED,
    FAILURE_DETECTION_INTERVAL_MS,
    FAILURE_DETECTION_TIME_MS,
    MONITOR_DISPOSAL_TIME_MS,
    MONITORING_PREFIX,
)
from aws_wrapper.properties import Properties
from aws_wrapper.telemetry import EFM_ABORT_SPAN, SERVER_ADDRESS

from ..monitors import HostConnectionWorker, MonitorRegistry
from ..plugin import BasePlugin
from ..protocols import (
    NETWORK_METHODS,
    Call,
    ConnectionProvider,
    DriverConnection,
    DriverDialect,
    PluginService,
)

logger = logging.getLogger("aws_wrapper")


class HostMonitor(HostConnectionWorker):
    """Watches one host for the connections that have calls in flight on it."""

    def __init__(
        self,
        host: HostInfo,
        driver: DriverDialect,
        provider: ConnectionProvider,
        props: Properties,
        grace_s: float,
        interval_s: float,
        count: int,
        disposal_s: float,
    ) -> None:
        timeout = max(1, math.ceil(interval_s))
        overrides: dict[str, Any] = {driver.connect_timeout_param: timeout}
        overrides.update(props.with_prefix(MONITORING_PREFIX))
        super().__init__(host, driver, provider, props.copy(driver=overrides))
        self.grace_s = grace_s
        self.interval_s = interval_s
        self.count = count
        self.disposal_s = disposal_s
        self._watched: weakref.WeakSet[HostMonitoringPlugin] = weakref.WeakSet()
        self._lock = ThreadLock()
        self._probe_ok = False
        self._warmup: Worker | None = None
        self.failures = 0
        self.aborts = 0
        self.probes = 0

    # -- life --------------------------------------------------------------------------------

    def watch(self, plugin: HostMonitoringPlugin) -> None:
        with self._lock:
            self._watched.add(plugin)
        self._start(self._run, name=f"aws-wrapper-efm-{self.host.url}")

    def unwatch(self, plugin: HostMonitoringPlugin) -> None:
        with self._lock:
            self._watched.discard(plugin)

    @property
    def has_connection(self) -> bool:
        return self._conn is not None

    def release_resources(self) -> None:
        self._stop_worker()
        self._drop_conn()
        _monitors.forget(self)

    # -- the worker --------------------------------------------------------------------------

    def _in_flight(self, now: float) -> list[HostMonitoringPlugin]:
        """Watched connections whose call has run past the grace time."""
        found = []
        for plugin in list(self._watched):
            since = plugin.since
            if since is not None and now - since >= self.grace_s:
                found.append(plugin)
        return found

    def _until_next_check(self, now: float) -> float:
        """Sleep until the oldest call in flight reaches the grace time; with none in flight,
        poll often enough (a quarter of the shorter of grace and interval) that a call which
        starts meanwhile is seen long before its grace time ends."""
        starts = [p.since for p in list(self._watched) if p.since is not None]
        if starts:
            return max(0.001, min(min(starts) + self.grace_s - now, self.interval_s))
        return max(0.01, min(self.interval_s, self.grace_s or self.interval_s) / 4)

    def _run(self) -> None:
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if not self._in_flight(now):
                    self.failures = 0
                    if self._watched:
                        idle_since = now
                    elif now - idle_since >= self.disposal_s:
                        break  # nothing to watch for a while: stop (watch() restarts)
                    warming = self._warmup is not None and self._warmup.is_alive()
                    if self._conn is None and self._watched and not warming:
                        # connect before it is needed, in the background: a connect that
                        # hangs (a host gone silent) must not keep this loop from watching
                        name = f"aws-wrapper-efm-probe-{self.host.url}"
                        self._warmup = spawn(self._probe, name=name)
                    self._wake.wait(self._until_next_check(time.monotonic()))
                    self._wake.clear()
                    continue
                idle_since = now
                self._probe_round()
        finally:
            warmup, self._warmup = self._warmup, None
            if warmup is not None:  # still connecting: it ends within the connect timeout
                warmup.cancel()
                warmup.join(self.interval_s + 1.0)
            self._drop_conn()

    def _probe_round(self) -> None:
        """One probe; every interval it stays unanswered is a failure."""
        started = time.monotonic()
        self._probe_ok = False
        self.probes += 1
        probe, self._warmup = self._warmup, None
        if probe is None or not probe.is_alive():  # else: the warm-up probe counts
            probe = spawn(self._probe, name=f"aws-wrapper-efm-probe-{self.host.url}")
        while True:
            if probe.join(self.interval_s):
                break
            self.failures += 1
            if self.failures >= self.count:
                self._declare_dead()
                conn = self._conn
                if conn is not None:
                    self.driver.abort(conn)  # ends the hung probe
                probe.join(self.interval_s)
                return
        if self._probe_ok:
            self.failures = 0
        else:
            self.failures += 1
            if self.failures >= self.count:
                self._declare_dead()
                return
        pause = self.interval_s - (time.monotonic() - started)
        if pause > 0:
            self._stop.wait(pause)

    def _probe(self) -> None:
        try:
            conn = self._ensure_conn()
            self.driver.ping(conn)
            self._probe_ok = True
        except Exception:
            self._probe_ok = False
            self._drop_conn()

    def _declare_dead(self) -> None:
        victims = self._in_flight(time.monotonic())
        if logger.isEnabledFor(logging.WARNING):
            logger.warning(
                "host %s did not answer %d probes (%.1f s apart): aborting %d call(s) in flight",
                self.host.url,
                self.failures,
                self.interval_s,
                len(victims),
            )
        for plugin in victims:
            self.aborts += 1  # counted first: the aborted caller may look at once
            plugin.abort_in_flight()
        self.failures = 0


# -- one monitor per (scope, host, settings) ---------------------------------------------------

_monitors: MonitorRegistry[HostMonitor] = MonitorRegistry()


def monitor_key(host: HostInfo, driver: DriverDialect, props: Properties) -> str:
    """What connections share a monitor by: the host, the driver, the detection settings and
    the monitoring connection's properties (as aws-advanced-python-wrapper does). A connection
    that asks for faster detection gets a monitor of its own rather than the settings of
    whichever connection reached the host first."""
    monitoring = sorted((k, repr(v)) for k, v in props.with_prefix(MONITORING_PREFIX).items())
    return "|".join(
        (
            host.url,
            driver.code,
            str(props.get(FAILURE_DETECTION_TIME_MS)),
            str(props.get(FAILURE_DETECTION_INTERVAL_MS)),
            str(props.get(FAILURE_DETECTION_COUNT)),
            repr(monitoring),
        )
    )


def host_monitors() -> list[HostMonitor]:
    """The host monitors of this scope (tests, diagnostics)."""
    return _monitors.all()


class CallStamp:
    """Where the start of the call in flight is written (``since``; None: none in flight)."""

    __slots__ = ("since",)

    def __init__(self) -> None:
        self.since: float | None = None


class HostMonitoringPlugin(BasePlugin):
    """Marks calls in flight for the host's monitor; see the module documentation.

    For the hottest methods (execute, executemany, commit, rollback) the wrapper writes the
    start of the call itself (``stamps_calls``), on :attr:`stamp` (which it may replace by an
    object of its own with a ``since`` attribute, one its calls touch anyway); the other
    network-bound methods come through :meth:`execute`."""

    stamps_calls = True

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self.enabled = props.get(FAILURE_DETECTION_ENABLED)
        self.grace_s = props.get(FAILURE_DETECTION_TIME_MS) / 1000
        self.interval_s = props.get(FAILURE_DETECTION_INTERVAL_MS) / 1000
        self.count = props.get(FAILURE_DETECTION_COUNT)
        self.disposal_s = props.get(MONITOR_DISPOSAL_TIME_MS) / 1000
        self.stamp: Any = CallStamp()
        self.monitor: HostMonitor | None = None
        self._conn: DriverConnection | None = None

    @property
    def subscribed_methods(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({NETWORK_METHODS}) if self.enabled else frozenset()

    @property
    def since(self) -> float | None:
        """When the call in flight on the connection started (None: none in flight)."""
        since: float | None = self.stamp.since
        return since

    @since.setter
    def since(self, value: float | None) -> None:
        self.stamp.since = value

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        self.since = time.monotonic()
        try:
            return call()
        finally:
            self.since = None

    def abort_in_flight(self) -> None:
        """Called by the monitor (another task or thread): break the call in flight."""
        conn = self._conn
        if conn is not None and self.since is not None:
            telemetry = self.service.telemetry
            if telemetry is None:
                self.service.driver_dialect.abort(conn)
                return
            # the span of the aborted call (set by the telemetry link) is the parent
            tel = telemetry.tel
            if tel.instruments is not None:
                tel.instruments.efm_aborts.add(
                    1, {SERVER_ADDRESS: telemetry.attributes()[SERVER_ADDRESS]}
                )
            extra = {
                "aws_wrapper.efm.in_flight_s": max(0.0, time.monotonic() - (self.since or 0.0))
            }
            with telemetry.span(EFM_ABORT_SPAN, extra, parent=telemetry.call_span):
                self.service.driver_dialect.abort(conn)

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        self._conn = self.service.current_connection
        if not self.enabled:
            return
        service = self.service
        key = monitor_key(new, service.driver_dialect, self.props)
        monitor = _monitors.get(
            key,
            lambda: HostMonitor(
                new,
                service.driver_dialect,
                service.monitor_connection_provider,
                self.props,
                self.grace_s,
                self.interval_s,
                self.count,
                self.disposal_s,
            ),
        )
        if self.monitor is not None and self.monitor is not monitor:
            self.monitor.unwatch(self)
        self.monitor = monitor
        monitor.watch(self)

    def release_resources(self) -> None:
        # the connection closes: stop being watched (the shared monitor lives on)
        if self.monitor is not None:
            self.monitor.unwatch(self)
            self.monitor = None
