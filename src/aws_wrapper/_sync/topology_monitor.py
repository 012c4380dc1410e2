# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/topology_monitor.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The cluster topology monitor: ONE per cluster per process (per event loop in async code).

It keeps its own monitoring connection (never an application's) to the writer and reads the
topology every ``topology_refresh_ms``. When the writer is unknown — its connection failed,
the topology names no writer, or a failover asks — it enters *panic mode*: every
``cluster_topology_high_refresh_rate_ms`` it probes every known instance in parallel, on
connections of its own, until one says it is the writer (``is_reader`` false) and its own
topology agrees. Waiters (failover) are woken by every new topology.

Every connection to the cluster shares the monitor's topology, so an application with a
thousand connections still has one monitoring connection per cluster.

Outside panic mode it also resolves its instances' host names into an address book
(:mod:`aws_wrapper.addresses`): a new connection is matched to its instance by the address it
is connected to, without asking the server which instance it is.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from aws_wrapper import telemetry
from aws_wrapper._compat import (
    Event,
    ThreadLock,
    Worker,
    spawn,
)
from aws_wrapper.addresses import Address, AddressBook, dns_addresses, quick_addresses
from aws_wrapper.blue_green import is_old
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import TOPOLOGY_MONITORING_PREFIX, Properties
from aws_wrapper.telemetry import CLUSTER_ID, TOPOLOGY_PANIC_SPAN, TOPOLOGY_REFRESH_SPAN
from aws_wrapper.topology import RegionTemplates, TopologyEntry, build_hosts, writer_of

from .connection_provider import close_quietly
from .dialects import GlobalTopologyDialect
from .monitors import BackgroundWorker, MonitorRegistry
from .protocols import ConnectionProvider, DatabaseDialect, DriverConnection, DriverDialect

logger = logging.getLogger("aws_wrapper")


class ClusterTopologyMonitor(BackgroundWorker):
    """Shared topology of one cluster; see the module documentation."""

    def __init__(
        self,
        cluster_id: str,
        template: str,
        port: int,
        dialect: DatabaseDialect,
        driver: DriverDialect,
        provider: ConnectionProvider,
        props: Properties,
        initial_host: HostInfo,
        refresh_s: float,
        high_refresh_s: float,
        probe_timeout_s: int,
        templates: RegionTemplates | None = None,
    ) -> None:
        super().__init__()
        self.cluster_id = cluster_id
        self.template = template
        self.port = port
        # a global database: the instances of every region, each named by its region's
        # template (global_cluster_instance_host_patterns); the writer is followed across
        # regions like within one
        self.templates = templates if isinstance(dialect, GlobalTopologyDialect) else None
        self.dialect = dialect
        self.driver = driver
        self.provider = provider
        self.initial_host = initial_host
        self.refresh_s = refresh_s
        self.high_refresh_s = high_refresh_s
        overrides: dict[str, Any] = {driver.connect_timeout_param: probe_timeout_s}
        overrides.update(props.with_prefix(TOPOLOGY_MONITORING_PREFIX))
        self._props = props.copy(driver=overrides)
        self.hosts: tuple[HostInfo, ...] = ()
        self.updated_at = 0.0
        self.version = 0
        self._changed = Event()
        self._panic = True  # until a writer is confirmed
        self._panic_span: Any = None  # telemetry: the span of the panic mode under way
        self._panic_links: list[Any] = []
        self._panic_from = 0
        self._conn: DriverConnection | None = None
        self._conn_host: HostInfo | None = None
        self._lock = ThreadLock()
        self._listeners: weakref.WeakSet[Any] = weakref.WeakSet()
        self._probing: set[str] = set()
        # panic mode: a connection per instance kept from round to round, so a round is one
        # query per instance, not a connect (the instance being promoted is seen at once)
        self._probe_conns: dict[str, DriverConnection] = {}
        self._probe_workers: list[Worker] = []
        # the writer a probe found (its connection, host, topology): kept here, not in its
        # round, as a probe can outlive the round that started it (a slow instance, one
        # farther away) and its find must not be lost; the next round adopts it
        self._found: tuple[DriverConnection, HostInfo, list[HostInfo]] | None = None
        self.probe_timeout_s = probe_timeout_s
        self.probes = 0
        # the addresses of the instances (see aws_wrapper.addresses): rebuilt in the
        # background when the topology changes and every refresh, trusted for a while
        self._book: AddressBook | None = None
        self._book_refresh_s = max(5.0, refresh_s / 2)  # every round, DNS at most every 5 s
        self._book_ttl_s = max(60.0, 3 * refresh_s)
        self.books = 0  # books built (tests, diagnostics)

    # -- life --------------------------------------------------------------------------------

    def ensure_started(self) -> None:
        self._start(self._run, name=f"aws-wrapper-topology-{self.cluster_id}")

    @property
    def has_connection(self) -> bool:
        """True while the monitor holds its monitoring connection (the writer is known)."""
        return self._conn is not None

    def release_resources(self) -> None:
        self._stop_worker()
        # probes still connecting (to a dead host, say) end now, not when the loop closes
        workers, self._probe_workers = self._probe_workers, []
        for worker in workers:
            worker.cancel()
        self._close_conn()
        self._close_probe_conns()
        self._drop_found()
        _monitors.forget(self)

    # -- API ---------------------------------------------------------------------------------

    def add_listener(self, listener: Any) -> None:
        """``listener.writer_changed(old, new)`` is called when the writer moves."""
        self._listeners.add(listener)

    def report_failure(self, host: HostInfo | None) -> None:
        """A connection to ``host`` failed: if it was the writer, look for a new one now."""
        if host is None or (self.hosts and writer_of(self.hosts) == host) or not self.hosts:
            self._panic = True
            tel = telemetry.for_monitors()
            if tel is not None:  # the failover (or call) that reported it: linked from panic
                link = tel.link_to_current()
                if link is not None:
                    self._panic_links.append(link)
            self._wake.set()

    def wait_for_topology(
        self, *, verify_writer: bool, timeout: float, newer_than: int | None = None
    ) -> tuple[HostInfo, ...]:
        """The topology after the next refresh (``verify_writer``: after the writer was
        confirmed by panic-mode probing). Returns the current topology on timeout."""
        self.ensure_started()
        if verify_writer:
            self._panic = True
        start_version = self.version if newer_than is None else newer_than
        self._wake.set()
        deadline = time.monotonic() + timeout
        while self.version == start_version or (verify_writer and self._panic):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._changed.wait(remaining)
        return self.hosts

    def learn(self, hosts: Sequence[HostInfo]) -> None:
        """A topology read on an application connection: adopted while the monitor knows
        none yet, so it knows which instances to probe even before its first round."""
        if hosts and not self.hosts:
            self._publish(hosts)

    def in_panic(self) -> bool:
        return self._panic

    def host_at(self, address: Address | None) -> HostInfo | None:
        """The instance of the topology at ``address`` (a connection's peer address), from the
        address book; None when the book does not know it for sure (no query is made)."""
        book = self._book
        if book is None or address is None:
            return None
        if time.monotonic() - book.built_at > self._book_ttl_s:
            return None  # not refreshed for long (the monitor is stuck): ask the server
        host_id = book.host_id_at(address)
        if host_id is None:
            return None
        for host in self.hosts:
            if host.host_id == host_id:
                return host
        return None

    def read_topology(self, conn: DriverConnection) -> list[TopologyEntry] | None:
        """The topology rows as the instance of ``conn`` reports them (a global database's:
        every region's instances, with their regions)."""
        dialect = self.dialect
        if self.templates is not None and isinstance(dialect, GlobalTopologyDialect):
            return dialect.global_topology(conn, self.driver)
        return dialect.topology(conn, self.driver)

    def build(self, entries: Sequence[TopologyEntry] | None) -> list[HostInfo]:
        """Hosts from topology rows (see :func:`aws_wrapper.topology.build_hosts`)."""
        return build_hosts(entries or (), self.template, self.port, templates=self.templates)

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    if self._panic:
                        if self._panic_span is None:
                            self._panic_began()
                        self._panic_round()
                    else:
                        with telemetry.monitor_span(
                            TOPOLOGY_REFRESH_SPAN, {CLUSTER_ID: self.cluster_id}
                        ):
                            self._normal_round()
                except Exception as e:  # keep monitoring whatever happens
                    logger.warning("topology monitor %s: %s", self.cluster_id, e)
                    self._close_conn()
                    self._panic = True
                if self._panic_span is not None and not self._panic:
                    self._panic_ended()
                self._refresh_book()
                # rounds start every interval (a slow round does not push the next one back)
                interval = self.high_refresh_s if self._panic else self.refresh_s
                pause = interval - (time.monotonic() - started)
                if pause > 0:
                    self._wake.wait(pause)
                self._wake.clear()
        finally:
            if self._panic_span is not None:
                self._panic_ended()
            self._close_conn()
            self._close_probe_conns()
            self._drop_found()

    def _panic_began(self) -> None:
        """Telemetry: a span for the panic mode starting (a root, linked to the spans that
        reported the failure), ended when a writer is confirmed."""
        tel = telemetry.for_monitors()
        if tel is None or not tel.traces:
            return
        links, self._panic_links = self._panic_links, []
        self._panic_from = self.probes
        self._panic_span = tel.start_root(
            TOPOLOGY_PANIC_SPAN, {CLUSTER_ID: self.cluster_id}, links or None
        )

    def _panic_ended(self) -> None:
        span, self._panic_span = self._panic_span, None
        writer = writer_of(self.hosts) if not self._panic else None
        if writer is not None:
            span.set_attribute("aws_wrapper.topology.writer", writer.url)
        span.set_attribute("aws_wrapper.topology.rounds", self.probes - self._panic_from)
        span.end()

    def _refresh_book(self) -> None:
        """Resolve the instance host names into a new address book when the topology changed
        or the book is half a refresh interval old (never raises: a name that does not resolve
        is left out). Not in panic mode: probing must not wait for DNS, and an instance keeps
        its address across a failover (only roles change, and they are read from the
        topology)."""
        hosts = self.hosts
        book = self._book
        if (
            self._panic
            or not hosts
            or (
                book is not None
                and book.hosts is hosts
                and time.monotonic() - book.built_at < self._book_refresh_s
            )
        ):
            return
        resolved: list[tuple[str, list[Address]]] = []
        for host in hosts:
            if host.host_id is None:
                continue
            try:
                addresses = quick_addresses(host.host, host.port)
                if addresses is None:
                    addresses = dns_addresses(host.host, host.port)
            except Exception as e:  # a resolver hook that failed: that host stays unknown
                logger.debug("topology monitor %s: resolving %s: %s", self.cluster_id, host, e)
                continue
            resolved.append((host.host_id, addresses))
        self._book = AddressBook(resolved, hosts)
        self.books += 1

    def _normal_round(self) -> None:
        if self._conn is None or self.driver.is_closed(self._conn):
            self._panic = True
            return
        try:
            entries = self.read_topology(self._conn)
        except Exception as e:
            if not self.driver.is_network_error(e):
                raise
            self._close_conn()
            self._panic = True
            return
        hosts = self.build(entries)
        writer = writer_of(hosts)
        if writer is None or self._conn_host is None or writer.host_id != self._conn_host.host_id:
            # the writer moved (or is unknown): confirm it by probing
            self._panic = True
            return
        self._publish(hosts)

    def _panic_round(self) -> None:
        """Probe every known instance at once; adopt the first that proves to be the writer,
        without waiting for the others (a dead host's probe can hang until its connect
        timeout: it finishes on its own, and the host is not probed again meanwhile)."""
        self.probes += 1
        settled = Event()  # a writer was found, or every probe of this round has ended
        with self._lock:  # counted before any starts: a probe ending at once must not
            # settle the round while the others are still being started
            hosts = [h for h in self._candidates() if h.url not in self._probing]
            if self._found is not None:
                hosts = []
            self._probing.update(h.url for h in hosts)
        pending = [len(hosts)]
        for host in hosts:
            worker = spawn(
                self._probe_into, host, settled, pending, name=f"aws-wrapper-probe-{host.url}"
            )
            self._probe_workers = [w for w in self._probe_workers if w.is_alive()] + [worker]
        if pending[0]:
            # no writer among fast answers: the next round starts at the high refresh rate,
            # not after the slowest probe's connect timeout
            settled.wait(self.probe_timeout_s + 0.5)
        with self._lock:
            winner, self._found = self._found, None
        if winner is not None:
            conn, host, hosts = winner
            self._close_conn()
            self._conn, self._conn_host = conn, host
            self._panic = False
            self._publish(hosts)
            self._close_probe_conns()

    def _probe_into(self, host: HostInfo, settled: Event, pending: list[int]) -> None:
        result = None
        try:
            result = self._probe(host)
        finally:
            with self._lock:
                self._probing.discard(host.url)
                won = (
                    result is not None
                    and self._found is None
                    and self._panic
                    and not self._stop.is_set()
                )
                if won:
                    self._found = result
                pending[0] -= 1
                last = pending[0] == 0
            if won or last:
                settled.set()
            if won:
                self._wake.set()  # its round may be over: the next one starts now
        if result is not None and not won:
            close_quietly(self.driver, result[0])

    def _drop_found(self) -> None:
        with self._lock:
            found, self._found = self._found, None
        if found is not None:
            close_quietly(self.driver, found[0])

    def _candidates(self) -> list[HostInfo]:
        seen: dict[str, HostInfo] = {}
        for h in (*self.hosts, self.initial_host):
            seen.setdefault(h.url, h)
        return list(seen.values())

    def _probe(self, host: HostInfo) -> tuple[DriverConnection, HostInfo, list[HostInfo]] | None:
        """Ask ``host`` (on the connection kept from the last round, else a new one); if it is
        the writer and its topology agrees, the connection, the host (as the topology names
        it) and the topology. Otherwise the connection is kept for the next round."""
        with self._lock:
            conn = self._probe_conns.pop(host.url, None)
        if conn is not None and self.driver.is_closed(conn):
            close_quietly(self.driver, conn)
            conn = None
        if conn is None:
            try:
                conn = self.provider.connect(host, self._props, self.driver)
            except Exception:
                return None
        try:
            host_id = self.dialect.host_id(conn, self.driver)
            if not is_old(host_id or "") and not self.dialect.is_reader(conn, self.driver):
                entries = self.read_topology(conn)
                hosts = self.build(entries)
                writer = writer_of(hosts)
                if writer is not None and writer.host_id == host_id:
                    return conn, writer, hosts
        except Exception:
            close_quietly(self.driver, conn)  # dead, or failing: a new one next round
            return None
        # a reader, or a writer its own topology does not name yet (just promoted); not kept
        # when the name led to another instance than the one it names (DNS moving: a
        # blue/green switchover), so the next round follows the name again
        with self._lock:
            keep = (
                self._panic
                and not self._stop.is_set()
                and host.url not in self._probe_conns
                and (host.host_id is None or host.host_id == host_id)
            )
            if keep:
                self._probe_conns[host.url] = conn
        if not keep:
            close_quietly(self.driver, conn)
        return None

    def _close_probe_conns(self) -> None:
        with self._lock:
            conns = list(self._probe_conns.values())
            self._probe_conns.clear()
        for conn in conns:
            close_quietly(self.driver, conn)

    def _publish(self, hosts: Sequence[HostInfo]) -> None:
        old_writer = writer_of(self.hosts)
        new = tuple(hosts)
        self.updated_at = time.monotonic()
        if new != self.hosts:
            self.hosts = new
            new_writer = writer_of(new)
            if new_writer is not None and (old_writer is None or old_writer.url != new_writer.url):
                if old_writer is not None and logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "cluster %s: writer is now %s (was %s)",
                        self.cluster_id,
                        new_writer.url,
                        old_writer.url,
                    )
                for listener in list(self._listeners):
                    listener.writer_changed(old_writer, new_writer)
        self.version += 1
        changed, self._changed = self._changed, Event()
        changed.set()

    def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        self._conn_host = None
        if conn is not None:
            close_quietly(self.driver, conn)


# -- the registry: one monitor per (event loop | process, cluster) --------------------------

_monitors: MonitorRegistry[ClusterTopologyMonitor] = MonitorRegistry()


def monitor_for(
    cluster_id: str, make: Callable[[], ClusterTopologyMonitor]
) -> ClusterTopologyMonitor:
    """The monitor of ``cluster_id`` in this scope, created (and started) on first use."""
    monitor = _monitors.get(cluster_id, make)
    monitor.ensure_started()
    return monitor


def monitors() -> list[ClusterTopologyMonitor]:
    """The monitors of this scope (for tests and diagnostics)."""
    return _monitors.all()


def monitor_knowing(host: HostInfo) -> ClusterTopologyMonitor | None:
    """The monitor of this scope whose topology has ``host`` (an instance endpoint of a
    cluster the process already knows), or None."""
    for monitor in _monitors.all():
        if any(h.same_place(host) for h in monitor.hosts):
            return monitor
    return None
