# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/limitless.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``limitless``: Aurora PostgreSQL Limitless Database (see docs/limitless.md).

A DB shard group endpoint (``<name>.shardgrp-<id>.<region>.rds.amazonaws.com``) answers DNS
with its transaction routers in turn, whatever their load. The plugin connects to a router
itself instead:

- one :class:`RouterMonitor` per shard group (host and port) per process (per event loop in
  async code) reads ``aurora_limitless_router_endpoints()`` every
  ``limitless_transaction_router_monitor_interval_ms`` on a connection of its own (driver
  parameters ``limitless-router-monitor-*`` for it only), and stops when no connect has used
  it for ``limitless_transaction_router_monitor_disposal_time_ms``;
- ``connect`` to the shard group picks a router at random weighted by its load
  (:mod:`aws_wrapper.limitless`) and connects to it by name through the rest of the plugins
  (an IAM token is made for the router's name; an internal pool keeps a pool per router);
  when that fails it tries the other routers, least loaded first, within
  ``limitless_get_transaction_router_max_retries`` attempts and ``limitless_max_retries_ms``;
  a router that failed is avoided until the monitor's next reading;
- with no router known yet (the first connect), it waits for the monitor's first reading
  (``limitless_wait_for_transaction_router_info``, the default) or connects to the shard
  group endpoint as given.

When no router answers: :class:`~aws_wrapper.errors.ConnectError` naming the shard group and
the routers tried. MySQL / MariaDB: :class:`~aws_wrapper.errors.UnsupportedOperationError` at
connect (Limitless Database is Aurora PostgreSQL only).
"""

from __future__ import annotations

import logging
import math
import time
from functools import partial
from typing import Any

from aws_wrapper._compat import Event, spawn
from aws_wrapper.aurora_queries import PG_LIMITLESS_ROUTERS
from aws_wrapper.errors import (
    AwsWrapperError,
    ConnectError,
    LoginError,
    UnsupportedOperationError,
    first_line,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.limitless import Router, by_least_load, parse_rows, pick_weighted
from aws_wrapper.plugins.limitless import (
    LIMITLESS_GET_ROUTER_MAX_RETRIES,
    LIMITLESS_GET_ROUTER_RETRY_INTERVAL_MS,
    LIMITLESS_MAX_RETRIES_MS,
    LIMITLESS_MONITOR_DISPOSAL_TIME_MS,
    LIMITLESS_MONITOR_INTERVAL_MS,
    LIMITLESS_MONITOR_PREFIX,
    LIMITLESS_WAIT_FOR_ROUTER_INFO,
)
from aws_wrapper.properties import Properties

from ..monitors import HostConnectionWorker, MonitorRegistry
from ..plugin import BasePlugin
from ..protocols import CONNECT, ConnectCall, DriverConnection, PluginService

logger = logging.getLogger("aws_wrapper")

MONITOR_CONNECT_TIMEOUT_S = 5
"""The monitor's connect timeout at most (shorter with a short interval; at least 2 s, the
least libpq takes), unless ``limitless-router-monitor-connect_timeout`` sets one."""
READ_TIMEOUT_S = 5.0
"""A reading of the routers (connect aside) that takes longer is abandoned (its connection
aborted: the router it was on has gone silent) and the next one goes to another router."""


class RouterMonitor(HostConnectionWorker):
    """The transaction routers of one shard group, read on a connection of its own."""

    def __init__(
        self, key: str, shard_group: HostInfo, service: PluginService, props: Properties
    ) -> None:
        driver = service.driver_dialect
        self.interval_s = props.get(LIMITLESS_MONITOR_INTERVAL_MS) / 1000
        self.disposal_s = props.get(LIMITLESS_MONITOR_DISPOSAL_TIME_MS) / 1000
        self.retry_s = props.get(LIMITLESS_GET_ROUTER_RETRY_INTERVAL_MS) / 1000
        connect_timeout = max(2, min(MONITOR_CONNECT_TIMEOUT_S, math.ceil(self.interval_s)))
        overrides: dict[str, Any] = {driver.connect_timeout_param: connect_timeout}
        overrides.update(props.with_prefix(LIMITLESS_MONITOR_PREFIX))
        monitor_props = props.copy(driver=overrides)
        super().__init__(
            shard_group,
            driver,
            service.monitor_connection_provider,
            monitor_props,
            autocommit=True,
        )
        self.key = key
        self.shard_group = shard_group
        self.read_timeout_s = max(1.0, min(READ_TIMEOUT_S, self.interval_s))
        self.connect_timeout_s = float(connect_timeout)
        self.routers: tuple[Router, ...] = ()
        self.refreshed_at = 0.0
        """``time.monotonic()`` at the start of the last reading that succeeded."""
        self.failed: dict[str, float] = {}
        """Routers (lower-case names) a connect failed on, and when: avoided until a reading
        that started after it."""
        self.reads = 0
        self.failed_reads = 0
        self.last_error: str | None = None
        self.last_used = time.monotonic()
        self.released = False
        self._read_event = Event()

    # -- used by the plugins -----------------------------------------------------------------

    def touch(self) -> None:
        """A connect uses the monitor: it stays (and runs) for another disposal time."""
        self.last_used = time.monotonic()
        if not self.running and not self.released:
            self._start(self._run, name=f"aws-wrapper-limitless-{self.key}")

    @property
    def read_event(self) -> Event:
        """Set when the next reading ends (successful or not)."""
        return self._read_event

    def avoided(self) -> set[str]:
        """Routers a connect failed on since the last reading started."""
        since = self.refreshed_at
        return {host for host, at in list(self.failed.items()) if at >= since}

    def wake_now(self) -> None:
        """Read now (a connect waits for the routers)."""
        self._wake.set()

    def mark_failed(self, host: str) -> None:
        self.failed[host.lower()] = time.monotonic()

    def release_resources(self) -> None:
        self.released = True
        self._stop_worker()
        self._drop_conn()
        _monitors.forget(self)

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if time.monotonic() - self.last_used >= self.disposal_s and _monitors.forget_if(
                    self, lambda: time.monotonic() - self.last_used >= self.disposal_s
                ):
                    self.released = True
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "limitless: router monitor of %s unused for %.0f s: stopped",
                            self.key,
                            self.disposal_s,
                        )
                    break
                ok = self._read_round()
                delay = self.interval_s if ok or self.retry_s <= 0 else self.retry_s
                if not ok and self.routers:
                    delay = self.interval_s  # routers known: no hurry
                self._wake.wait(min(delay, self.interval_s))
                self._wake.clear()
        finally:
            self._drop_conn()

    def _read_round(self) -> bool:
        """One reading, abandoned after the connect and read timeouts (the connection it was
        on aborted). True when it succeeded."""
        started = time.monotonic()
        result: list[tuple[Router, ...]] = []
        errors: list[BaseException] = []
        worker = spawn(self._read, result, errors, name=f"aws-wrapper-limitless-read-{self.key}")
        deadline = started + self.connect_timeout_s + self.read_timeout_s
        finished = False
        while not finished and not self._stop.is_set():
            finished = worker.join(max(0.0, min(0.1, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
        if not finished:
            conn = self._conn
            if conn is not None:
                self.driver.abort(conn)  # ends the hung read
            worker.cancel()
            worker.join(1.0)
            errors.append(TimeoutError(f"no answer from {self.host.url} within the read timeout"))
            if self.host is not self.shard_group:
                self.mark_failed(self.host.host)
            self._conn = None
        ok = bool(result) and not errors
        self.reads += 1
        if ok:
            self.routers = result[0]
            self.refreshed_at = started
            self.last_error = None
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "limitless: %s routers: %s",
                    self.key,
                    ", ".join(f"{r.host} (load {r.load:g})" for r in self.routers) or "none",
                )
        else:
            self.failed_reads += 1
            self.last_error = first_line(errors[0]) if errors else "no routers in the answer"
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "limitless: reading the routers of %s on %s failed: %s",
                    self.key,
                    self.host.url,
                    self.last_error,
                )
            self._drop_conn()
            self._next_host()
        event, self._read_event = self._read_event, Event()
        event.set()
        return ok

    def _next_host(self) -> None:
        """After a failed reading: the next connection goes to the least loaded router not
        avoided (the shard group endpoint when none is known)."""
        avoid = self.avoided() | {self.host.host.lower()}
        order = by_least_load(self.routers, avoid)
        self.host = HostInfo(order[0].host, order[0].port) if order else self.shard_group

    def _read(self, result: list[tuple[Router, ...]], errors: list[BaseException]) -> None:
        try:
            conn = self._ensure_conn()
            rows = self.driver.fetch(conn, PG_LIMITLESS_ROUTERS.sql)
            routers = parse_rows(rows, self.shard_group.port)
            if not routers:
                raise LookupError(
                    f"{self.host.url} reports no transaction router "
                    "(aurora_limitless_router_endpoints() answered no row)"
                )
            result.append(routers)
        except Exception as e:
            errors.append(e)


_monitors: MonitorRegistry[RouterMonitor] = MonitorRegistry()


def router_monitors() -> list[RouterMonitor]:
    """The router monitors of this process (of the running event loop in async code)."""
    return _monitors.all()


class LimitlessPlugin(BasePlugin):
    """Connects to a lightly loaded transaction router of the shard group."""

    subscribed_methods = frozenset({CONNECT})

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        engine = service.driver_dialect.engine
        if engine != "postgresql":
            raise UnsupportedOperationError(
                "the limitless plugin needs Aurora PostgreSQL (Limitless Database is PostgreSQL "
                f"only); this connection's engine is {engine} (driver "
                f"{service.driver_dialect.code}): remove 'limitless' from plugins"
            )
        self.max_retries = props.get(LIMITLESS_GET_ROUTER_MAX_RETRIES)
        self.budget_s = props.get(LIMITLESS_MAX_RETRIES_MS) / 1000
        self.retry_s = props.get(LIMITLESS_GET_ROUTER_RETRY_INTERVAL_MS) / 1000
        self.wait_for_info = props.get(LIMITLESS_WAIT_FOR_ROUTER_INFO)
        self.last_router: Router | None = None
        """The router the last connect of this plugin went to (None: the endpoint as given)."""

    def _monitor(self, host: HostInfo) -> RouterMonitor:
        key = f"{host.host.lower()}:{host.port}"
        monitor = _monitors.get(
            key,
            partial(RouterMonitor, key, host, self.service, self.props),
            stale=lambda m: m.released,
            on_get=RouterMonitor.touch,
        )
        return monitor

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        monitor = self._monitor(host)
        routers = monitor.routers
        if any(r.host.lower() == host.host.lower() for r in routers):
            return call()  # a router asked for by name: as asked
        started = time.monotonic()
        deadline = started + self.budget_s
        if not routers:
            if not self.wait_for_info:
                self.last_router = None
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "limitless: no router of %s known yet: connecting to it as given",
                        host.url,
                    )
                return call()
            routers = self._wait_for_routers(monitor, host, started, deadline)
        return self._connect_router(monitor, host, props, routers, started, deadline)

    def _wait_for_routers(
        self, monitor: RouterMonitor, host: HostInfo, started: float, deadline: float
    ) -> tuple[Router, ...]:
        """The routers, from the monitor's first reading (waiting for up to
        ``max_retries + 1`` readings within the budget)."""
        first_failed = monitor.failed_reads
        while not monitor.routers:
            failures = monitor.failed_reads - first_failed
            remaining = deadline - time.monotonic()
            if failures > self.max_retries or remaining <= 0:
                raise ConnectError(
                    f"limitless: no transaction router information for the shard group "
                    f"{host.url} after {failures} failed reading(s) in "
                    f"{(time.monotonic() - started) * 1000:.0f} ms "
                    f"(limitless_get_transaction_router_max_retries={self.max_retries}, "
                    f"limitless_max_retries_ms={self.budget_s * 1000:.0f}): "
                    f"{monitor.last_error or 'no answer yet'}",
                    host.url,
                )
            event = monitor.read_event
            monitor.wake_now()
            event.wait(remaining)
        return monitor.routers

    def _connect_router(
        self,
        monitor: RouterMonitor,
        host: HostInfo,
        props: Properties,
        routers: tuple[Router, ...],
        started: float,
        deadline: float,
    ) -> DriverConnection:
        tried: list[str] = []
        last_error: BaseException | None = None
        candidate = pick_weighted(routers, monitor.avoided())
        if candidate is None:  # every router failed lately: the least loaded of them
            order = by_least_load(routers)
            candidate = order[0] if order else None
        attempts = 0
        while candidate is not None:
            attempts += 1
            target = HostInfo(candidate.host, candidate.port)
            try:
                conn = self.service.connect(target, props, skip=self)
            except Exception as e:
                if isinstance(e, LoginError) or self.service.is_login_error(e):
                    if isinstance(e, AwsWrapperError):
                        raise
                    raise LoginError(
                        f"login to the transaction router {target.url} failed: {first_line(e)}",
                        target.url,
                    ) from e
                monitor.mark_failed(candidate.host)
                tried.append(candidate.host)
                last_error = e
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "limitless: connect to router %s failed: %s",
                        candidate.url,
                        first_line(e),
                    )
            else:
                self.last_router = candidate
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "limitless: %s -> router %s (load %g, weight %d)",
                        host.url,
                        candidate.url,
                        candidate.load,
                        candidate.weight,
                    )
                return conn
            if attempts > self.max_retries or time.monotonic() >= deadline:
                break
            fresh = monitor.routers or routers
            avoid = monitor.avoided() | {t.lower() for t in tried}
            order = by_least_load(fresh, avoid) or by_least_load(fresh, {t.lower() for t in tried})
            candidate = order[0] if order else None
        elapsed_ms = (time.monotonic() - started) * 1000
        detail = f": last error: {first_line(last_error)}" if last_error is not None else ""
        raise ConnectError(
            f"limitless: no transaction router of the shard group {host.url} answered: tried "
            f"{', '.join(tried) or 'none'} ({attempts} attempt(s) in {elapsed_ms:.0f} ms; "
            f"limitless_get_transaction_router_max_retries={self.max_retries}, "
            f"limitless_max_retries_ms={self.budget_s * 1000:.0f}){detail}",
            host.url,
        ) from last_error
