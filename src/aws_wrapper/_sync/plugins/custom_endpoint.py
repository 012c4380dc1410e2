# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/custom_endpoint.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``custom_endpoint``: keep connections among the members of an Aurora custom endpoint.

When a connection is opened through a custom endpoint
(``<name>.cluster-custom-<id>.<region>.rds.amazonaws.com``), the plugin attaches it to the
endpoint's shared :class:`CustomEndpointMonitor` — ONE per endpoint per process (per event loop
in async code) — which asks RDS (``DescribeDBClusterEndpoints``, through the pluggable
:class:`~aws_wrapper.custom_endpoint.CustomEndpointSource`) for the members every
``custom_endpoint_info_refresh_rate_ms``. With ``wait_for_custom_endpoint_info`` (the default)
the connect waits, at most ``wait_for_custom_endpoint_info_timeout_ms``, until the members are
known.

Plugins that choose an instance themselves (failover, read/write splitting) restrict their
choice with :func:`filter_hosts_for` (or the plugin's :meth:`CustomEndpointPlugin.filter_hosts`
and :meth:`CustomEndpointPlugin.allowed_host_ids`).

The RDS call blocks (boto3): in async code it runs in a thread of the wrapper's bounded
offload pool, never on the event loop.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from aws_wrapper._compat import (
    Event,
    ThreadLock,
    Worker,
    spawn,
)
from aws_wrapper.custom_endpoint import (
    CUSTOM_ENDPOINT_IDLE_MONITOR_EXPIRATION_MS,
    CUSTOM_ENDPOINT_INFO_REFRESH_RATE_MS,
    CUSTOM_ENDPOINT_RDS_ENDPOINT,
    CUSTOM_ENDPOINT_REGION,
    WAIT_FOR_CUSTOM_ENDPOINT_INFO,
    WAIT_FOR_CUSTOM_ENDPOINT_INFO_TIMEOUT_MS,
    CustomEndpointError,
    CustomEndpointInfo,
    CustomEndpointNotFoundError,
    CustomEndpointSource,
    custom_endpoint_source,
    endpoint_id_from_host,
    filter_hosts,
)
from aws_wrapper.errors import ConfigurationError, PropertyError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties
from aws_wrapper.rds_utils import region_from_host

from ..monitors import MonitorRegistry
from ..plugin import BasePlugin
from ..protocols import CONNECT, NETWORK_METHODS, Call, ConnectCall, DriverConnection, PluginService

logger = logging.getLogger("aws_wrapper")

_FINAL = (CustomEndpointNotFoundError, ConfigurationError)
"""Errors of a fetch that waiting longer will not cure: a waiting connect fails at once."""

_FIRST_RETRY_S = 0.5
"""While the members are unknown, a failed fetch is retried after this, doubling up to the
refresh rate (so a connect that waits is not left with a 30 s gap after one transient error)."""


class CustomEndpointMonitor:
    """The shared view of one custom endpoint; see the module documentation.

    ``info`` is None until the first successful fetch; a later failed fetch keeps the last
    known ``info`` and records ``error``. Settings (source, refresh rate, idle expiration) are
    those of the connection that started the monitor.
    """

    def __init__(
        self,
        key: str,
        endpoint_host: str,
        endpoint_id: str,
        region: str,
        source: CustomEndpointSource,
        refresh_s: float,
        idle_expiration_s: float,
    ) -> None:
        self.key = key
        self.endpoint_host = endpoint_host
        self.endpoint_id = endpoint_id
        self.region = region
        self.source = source
        self.refresh_s = refresh_s
        self.idle_expiration_s = idle_expiration_s
        self.info: CustomEndpointInfo | None = None
        self.error: BaseException | None = None
        self.fetches = 0
        self.version = 0
        self.last_used = time.monotonic()
        self.expired = False
        self._changed = Event()
        self._stop = Event()
        self._worker: Worker | None = None
        self._lock = ThreadLock()

    # -- life --------------------------------------------------------------------------------

    def ensure_started(self) -> None:
        with self._lock:
            if not self.expired and (self._worker is None or not self._worker.is_alive()):
                self._stop = Event()
                self._worker = spawn(
                    self._run, name=f"aws-wrapper-custom-endpoint-{self.endpoint_id}"
                )

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    @property
    def active(self) -> bool:
        """Running and not expired: worth attaching to."""
        return not self.expired and self.running

    def touch(self) -> None:
        """A connection used the endpoint: postpone the idle expiration."""
        self.last_used = time.monotonic()

    def release_resources(self) -> None:
        self._stop.set()
        worker = self._worker
        if worker is not None and not worker.join(5.0):
            worker.cancel()  # stuck in a slow RDS call (async); a thread ends after it
            worker.join(1.0)
        forget(self)

    # -- API ---------------------------------------------------------------------------------

    def wait_for_info(self, timeout: float) -> CustomEndpointInfo | None:
        """The members once known; None when ``timeout`` seconds pass first, the last fetch
        failed for good (no such endpoint, no boto3), or the monitor stops."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed  # before the checks: a publish after them sets it
            info = self.info
            if info is not None or isinstance(self.error, _FINAL):
                return info
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.running:
                return None
            changed.wait(remaining)

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        retry_s = _FIRST_RETRY_S
        next_fetch = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_fetch:
                    ok = self._fetch()
                    if ok or self.info is not None:
                        retry_s = _FIRST_RETRY_S
                        interval = self.refresh_s
                    else:
                        interval = min(retry_s, self.refresh_s)
                        retry_s = min(retry_s * 2, self.refresh_s)
                    next_fetch = time.monotonic() + interval
                if self._expire_if_idle():
                    logger.debug("custom endpoint %s: monitor idle, stopped", self.endpoint_host)
                    return
                wake_at = min(next_fetch, self.last_used + self.idle_expiration_s)
                self._stop.wait(max(0.0, wake_at - time.monotonic()))
        finally:
            self._publish()  # wake waiters: the monitor is gone

    def _fetch(self) -> bool:
        self.fetches += 1
        try:
            info = self.source.fetch(self.endpoint_id, self.region)
        except Exception as e:
            if self._stop.is_set():
                return False
            first = self.error is None or str(self.error) != str(e)
            self.error = e
            level = logging.WARNING if first else logging.DEBUG
            logger.log(level, "custom endpoint %s: %s", self.endpoint_host, e)
            self._publish()
            return False
        self.error = None
        if info != self.info:
            if self.info is not None:
                logger.info("custom endpoint %s changed: %s", self.endpoint_host, _describe(info))
            else:
                logger.debug("custom endpoint %s: %s", self.endpoint_host, _describe(info))
            self.info = info
        self._publish()
        return True

    def _expire_if_idle(self) -> bool:
        def idle() -> bool:
            if time.monotonic() - self.last_used < self.idle_expiration_s:
                return False
            self.expired = True
            return True

        return _monitors.forget_if(self, idle)

    def _publish(self) -> None:
        self.version += 1
        changed, self._changed = self._changed, Event()
        changed.set()


def _describe(info: CustomEndpointInfo) -> str:
    if info.static_members:
        members = f"members {', '.join(sorted(info.static_members))}"
    elif info.excluded_members:
        members = f"all instances but {', '.join(sorted(info.excluded_members))}"
    else:
        members = "all instances"
    return f"{info.role_type.value}, {members}"


# -- the registry: one monitor per (event loop | process, endpoint) -------------------------

_monitors: MonitorRegistry[CustomEndpointMonitor] = MonitorRegistry()


def monitor_for(key: str, make: Callable[[], CustomEndpointMonitor]) -> CustomEndpointMonitor:
    """The monitor of ``key`` in this scope, created (and started) on first use or after the
    previous one expired or was released; marked as used."""
    monitor = _monitors.get(key, make, stale=lambda m: m.expired, on_get=lambda m: m.touch())
    monitor.ensure_started()
    return monitor


def monitors() -> list[CustomEndpointMonitor]:
    """The monitors of this scope (for tests and diagnostics)."""
    return _monitors.all()


def forget(monitor: CustomEndpointMonitor) -> None:
    _monitors.forget(monitor)


# -- the plugin -----------------------------------------------------------------------------

# plugin service -> its custom endpoint plugin (weakly both ways: no cycle kept alive)
_plugins: weakref.WeakKeyDictionary[Any, weakref.ref[CustomEndpointPlugin]] = (
    weakref.WeakKeyDictionary()
)


class CustomEndpointPlugin(BasePlugin):
    """See the module documentation."""

    subscribed_methods = frozenset({CONNECT})

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self._wait = props.get(WAIT_FOR_CUSTOM_ENDPOINT_INFO)
        self._wait_ms = props.get(WAIT_FOR_CUSTOM_ENDPOINT_INFO_TIMEOUT_MS)
        self._refresh_s = props.get(CUSTOM_ENDPOINT_INFO_REFRESH_RATE_MS) / 1000
        self._idle_s = props.get(CUSTOM_ENDPOINT_IDLE_MONITOR_EXPIRATION_MS) / 1000
        self._region = props.get(CUSTOM_ENDPOINT_REGION)
        self._rds_endpoint = props.get(CUSTOM_ENDPOINT_RDS_ENDPOINT)
        self._monitor: CustomEndpointMonitor | None = None
        if endpoint_id_from_host(service.initial_host.host) is not None:
            # keep the monitor in use (and wait for it after an expiry) on every network call;
            # through any other endpoint only connects are watched (no per-call cost)
            self.subscribed_methods = frozenset({CONNECT, NETWORK_METHODS})
        _plugins[service] = weakref.ref(self)

    # -- hooks -------------------------------------------------------------------------------

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        endpoint_id = endpoint_id_from_host(host.host)
        if endpoint_id is None:
            return call()
        monitor = self._attach(host.host, endpoint_id)
        if self._wait and monitor.info is None:
            self._wait_for_info(monitor)
        return call()

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        monitor = self._monitor
        if monitor is not None:
            if monitor.active:
                monitor.touch()
            else:  # expired or released: a new one
                monitor = self._attach(monitor.endpoint_host, monitor.endpoint_id)
            if self._wait and monitor.info is None:
                self._wait_for_info(monitor)
        return call()

    def release_resources(self) -> None:
        # the connection is closing; the monitor is shared, it stays (or expires when idle)
        self._monitor = None

    # -- what other plugins ask --------------------------------------------------------------

    @property
    def monitor(self) -> CustomEndpointMonitor | None:
        return self._monitor

    @property
    def info(self) -> CustomEndpointInfo | None:
        """The endpoint's latest known information (None: not through a custom endpoint, or
        not known yet)."""
        monitor = self._monitor
        return monitor.info if monitor is not None else None

    def allowed_host_ids(self) -> frozenset[str] | None:
        """The instance ids this connection may use (the endpoint's static members); None when
        not restricted by a list: no custom endpoint, members unknown, or an endpoint of "all
        instances but ``blocked_host_ids()``"."""
        info = self.info
        return info.allowed_host_ids if info is not None else None

    def blocked_host_ids(self) -> frozenset[str]:
        """Instance ids excluded from the endpoint (meaningful when ``allowed_host_ids()`` is
        None)."""
        info = self.info
        if info is None or info.static_members:
            return frozenset()
        return info.excluded_members

    def filter_hosts(self, hosts: Sequence[HostInfo]) -> list[HostInfo]:
        """``hosts`` that belong to the custom endpoint (all of them when it is not known)."""
        return filter_hosts(hosts, self.info)

    # -- internals ---------------------------------------------------------------------------

    def _attach(self, endpoint_host: str, endpoint_id: str) -> CustomEndpointMonitor:
        region = self._region or region_from_host(endpoint_host)
        if region is None:
            raise PropertyError(
                f"cannot tell the AWS region of custom endpoint '{endpoint_host}': set "
                "the property 'custom_endpoint_region'",
                "custom_endpoint_region",
            )
        host = endpoint_host.strip().lower()
        source = custom_endpoint_source(self._rds_endpoint)
        monitor = self._monitor = monitor_for(
            f"{host}|{region}",
            lambda: CustomEndpointMonitor(
                f"{host}|{region}",
                host,
                endpoint_id,
                region,
                source,
                self._refresh_s,
                self._idle_s,
            ),
        )
        return monitor

    def _wait_for_info(self, monitor: CustomEndpointMonitor) -> CustomEndpointInfo:
        info = monitor.wait_for_info(self._wait_ms / 1000)
        error = monitor.error
        info = info or monitor.info  # known since (a later fetch succeeded)
        if info is not None:
            return info
        if isinstance(error, CustomEndpointNotFoundError):
            raise CustomEndpointNotFoundError(str(error), monitor.endpoint_host) from error
        if isinstance(error, ConfigurationError):
            raise ConfigurationError(
                f"custom endpoint '{monitor.endpoint_host}': {error}"
            ) from error
        why = f"; last error: {error}" if error is not None else ""
        raise CustomEndpointError(
            f"custom endpoint '{monitor.endpoint_host}': its members are not known after "
            f"{self._wait_ms} ms (wait_for_custom_endpoint_info_timeout_ms){why}. Set "
            "wait_for_custom_endpoint_info=False to connect without waiting.",
            monitor.endpoint_host,
        ) from error


def custom_endpoint_plugin_for(service: PluginService) -> CustomEndpointPlugin | None:
    """The ``custom_endpoint`` plugin of the connection of ``service``, if it has one."""
    ref = _plugins.get(service)
    return ref() if ref is not None else None


def filter_hosts_for(service: PluginService, hosts: Sequence[HostInfo]) -> list[HostInfo]:
    """``hosts`` restricted to the custom endpoint the connection of ``service`` was opened
    through; all of them without the plugin, without a custom endpoint, or while its members
    are unknown. For failover and read/write splitting."""
    plugin = custom_endpoint_plugin_for(service)
    return plugin.filter_hosts(hosts) if plugin is not None else list(hosts)


__all__ = [
    "CustomEndpointMonitor",
    "CustomEndpointPlugin",
    "custom_endpoint_plugin_for",
    "filter_hosts_for",
    "monitor_for",
    "monitors",
]
