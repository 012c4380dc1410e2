"""Aurora connect-time and tracking plugins: ``aurora_connection_tracker``, ``stale_dns`` and
``initial_connection``.

* ``stale_dns``: a connection opened through the cluster (writer) endpoint that lands on a
  reader — the endpoint's DNS still names the old writer after a failover — is replaced by a
  connection to the writer the topology names.
* ``initial_connection``: the Aurora initial connection strategy. Through the writer endpoint,
  keep trying (``open_connection_retry_timeout_ms``) until the connection is on the writer;
  through the reader endpoint, connect to a reader picked from the topology by
  ``reader_initial_connection_host_selector_strategy`` and check it is one.
* ``aurora_connection_tracker``: remembers which instance every connection is on; when the
  writer moves, connections still open to the old writer are aborted at once, so idle (pooled)
  connections fail fast on their next use and fail over instead of writing to a reader.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence

from aws_wrapper import rds_utils
from aws_wrapper._compat import AThreadLock, asleep
from aws_wrapper.errors import ConnectError, PropertyError
from aws_wrapper.forking import at_fork_in_child, bury
from aws_wrapper.host_selectors import selector_for
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.aurora import (
    OPEN_CONNECTION_RETRY_INTERVAL_MS,
    OPEN_CONNECTION_RETRY_TIMEOUT_MS,
    READER_INITIAL_STRATEGY,
)
from aws_wrapper.properties import Properties
from aws_wrapper.topology import writer_of

from ..host_list_provider import RdsHostListProvider
from ..plugin import BasePlugin
from ..protocols import CONNECT, ConnectCall, DriverConnection, DriverDialect, PluginService

logger = logging.getLogger("aws_wrapper")
_WRITER = rds_utils.RdsUrlType.RDS_WRITER_CLUSTER
_READER = rds_utils.RdsUrlType.RDS_READER_CLUSTER
_GLOBAL_WRITER = rds_utils.RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER
_WRITERS = (_WRITER, _GLOBAL_WRITER)
"""Endpoints that lead to the writer: a cluster's, and a global database's writer endpoint."""


def topology_provider(
    service: PluginService, host: HostInfo, props: Properties
) -> RdsHostListProvider:
    """The service's topology provider, or one made now (during the first connect the
    service still has the static provider)."""
    provider = service.host_list_provider
    if isinstance(provider, RdsHostListProvider):
        return provider
    return RdsHostListProvider(
        host, service.dialect, service.driver_dialect, service.monitor_connection_provider, props
    )


async def _close(service: PluginService, conn: DriverConnection) -> None:
    await service.release_connection(conn)


class StaleDnsPlugin(BasePlugin):
    subscribed_methods = frozenset({CONNECT})
    needs_topology = True

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        conn = await call()
        service = self.service
        if not service.dialect.has_topology or rds_utils.classify(host.host) not in _WRITERS:
            return conn
        if not await service.dialect.is_reader(conn, service.driver_dialect):
            return conn
        provider = topology_provider(service, host, props)
        writer = writer_of(await provider.force_refresh(conn))
        if writer is None:
            return conn
        logger.info("%s resolves to a reader (stale DNS): connecting to %s", host.host, writer)
        fresh = await service.connect(writer, props, skip=self)
        await _close(service, conn)
        return fresh


class InitialConnectionPlugin(BasePlugin):
    subscribed_methods = frozenset({CONNECT})
    needs_topology = True

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self._timeout = props.get(OPEN_CONNECTION_RETRY_TIMEOUT_MS) / 1000
        self._interval = props.get(OPEN_CONNECTION_RETRY_INTERVAL_MS) / 1000
        try:
            self._selector = selector_for(props.get(READER_INITIAL_STRATEGY))
        except ValueError as e:
            raise PropertyError(
                f"property 'reader_initial_connection_host_selector_strategy': {e}",
                "reader_initial_connection_host_selector_strategy",
            ) from None

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        kind = rds_utils.classify(host.host)
        if (
            not is_initial
            or kind not in (*_WRITERS, _READER)
            or not self.service.dialect.has_topology
        ):
            return await call()
        deadline = time.monotonic() + self._timeout
        want_reader = kind is _READER
        last: BaseException | None = None
        while True:
            try:
                conn = await self._attempt(host, props, call, want_reader)
                if conn is not None:
                    return conn
            except Exception as e:
                if not self.service.driver_dialect.is_network_error(e):
                    raise
                last = e
            if time.monotonic() + self._interval > deadline:
                if last is not None:
                    raise last
                return await call()  # give up on the role: the endpoint's connection
            await asleep(self._interval)

    async def _attempt(
        self, host: HostInfo, props: Properties, call: ConnectCall, want_reader: bool
    ) -> DriverConnection | None:
        service = self.service
        dialect, driver = service.dialect, service.driver_dialect
        provider = topology_provider(service, host, props)
        hosts: Sequence[HostInfo] = provider.monitor.hosts
        if want_reader:
            readers = [h for h in hosts if h.role is HostRole.READER]
            if readers:  # pick one ourselves: the endpoint's DNS round robin is not a choice
                choice = self._selector.select(readers, HostRole.READER, props)
                conn = await service.connect(choice, props, skip=self)
                if await dialect.is_reader(conn, driver):
                    return conn
                await _close(service, conn)
                provider.monitor.report_failure(None)
                return None
            conn = await call()
            if await dialect.is_reader(conn, driver) or len(hosts) == 1:
                return conn
            await _close(service, conn)
            return None
        conn = await call()
        if not await dialect.is_reader(conn, driver):
            return conn
        writer = writer_of(await provider.force_refresh(conn))
        await _close(service, conn)
        if writer is None:
            return None
        fresh = await service.connect(writer, props, skip=self)
        if not await dialect.is_reader(fresh, driver):
            return fresh
        await _close(service, fresh)
        raise ConnectError(f"{writer.url} is not the writer yet", writer.url)


class _Tracked:
    """Driver connections (with their driver dialect) per instance, process-wide."""

    def __init__(self) -> None:
        self.lock = AThreadLock()
        self.by_host: dict[str, weakref.WeakKeyDictionary[object, DriverDialect]] = {}


_tracked = _Tracked()


@at_fork_in_child
def _forget_tracked_after_fork() -> None:
    """A forked child must never abort its parent's connections (a shutdown acts on the
    shared socket): it tracks only the connections it opens itself."""
    global _tracked
    bury(_tracked)
    _tracked = _Tracked()


class AuroraConnectionTrackerPlugin(BasePlugin):
    subscribed_methods = frozenset({CONNECT})
    needs_topology = True
    aborted = 0

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        conn = self.service.current_connection
        if conn is None:
            return
        with _tracked.lock:
            if old is not None:
                for conns in _tracked.by_host.values():
                    conns.pop(old, None)
            conns = _tracked.by_host.setdefault(new.url, weakref.WeakKeyDictionary())
            conns[conn] = self.service.driver_dialect
        provider = self.service.host_list_provider
        if isinstance(provider, RdsHostListProvider):
            provider.monitor.add_listener(self)

    def writer_changed(self, old: HostInfo | None, new: HostInfo) -> None:
        """Called by the topology monitor: abort every connection still on the old writer."""
        if old is None or old.url == new.url:
            return
        with _tracked.lock:
            found = _tracked.by_host.pop(old.url, None)
            stale = list(found.items()) if found is not None else []
        for conn, driver in stale:
            if not driver.is_closed(conn):
                AuroraConnectionTrackerPlugin.aborted += 1  # counted before the caller wakes
                driver.abort(conn)
        if stale:
            logger.info("aborted %d connection(s) to the old writer %s", len(stale), old.url)
