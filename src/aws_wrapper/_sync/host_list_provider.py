# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/host_list_provider.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Host list providers: a single server (static), or an Aurora cluster (topology)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_wrapper import rds_utils
from aws_wrapper._interned import Interned
from aws_wrapper.addresses import peer_address
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import (
    CLUSTER_ID,
    CLUSTER_INSTANCE_HOST_PATTERN,
    GLOBAL_CLUSTER_INSTANCE_HOST_PATTERNS,
    HIGH_REFRESH_RATE_MS,
    TOPOLOGY_REFRESH_MS,
    Properties,
)
from aws_wrapper.topology import RegionTemplates

from .dialects import GlobalTopologyDialect
from .protocols import (
    ConnectionProvider,
    DatabaseDialect,
    DriverConnection,
    DriverDialect,
)
from .topology_monitor import ClusterTopologyMonitor, monitor_for, monitor_knowing


def global_templates(
    dialect: DatabaseDialect, props: Properties, initial_host: HostInfo
) -> RegionTemplates | None:
    """The instance templates per region of a global database (the property
    ``global_cluster_instance_host_patterns``, checked) when ``dialect`` reads a global
    topology; None otherwise, and when the property is unset (the cluster connected to is
    then handled as a plain Aurora cluster)."""
    value = props.get(GLOBAL_CLUSTER_INSTANCE_HOST_PATTERNS)
    if value is None or not isinstance(dialect, GlobalTopologyDialect):
        return None
    return rds_utils.parse_global_host_patterns(value, initial_host.port)


class StaticHostListProvider:
    """One host, taken as the writer. Used for plain databases and as the starting point.
    It holds no state of a connection: :func:`static_provider` gives one per host."""

    def __init__(self, host: HostInfo) -> None:
        self._hosts = (host.with_role(HostRole.WRITER),)
        self.cluster_id = host.url

    def refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    def force_refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    def identify(self, conn: DriverConnection) -> HostInfo | None:
        return self._hosts[0]

    def release_resources(self) -> None:
        return None


_STATIC: Interned[HostInfo, StaticHostListProvider] = Interned(256)


def static_provider(host: HostInfo) -> StaticHostListProvider:
    """The StaticHostListProvider of ``host``, one per host rather than one per connection,
    with its tuple and writer HostInfo (see aws_wrapper._interned)."""
    return _STATIC.get(host, StaticHostListProvider)


class RdsHostListProvider:
    """Hosts of an Aurora cluster, from the shared :class:`ClusterTopologyMonitor`.

    The instance host names come from ``cluster_instance_host_pattern`` or, by default, from
    the RDS endpoint the application connected to (``?.<id>.<region>.rds.amazonaws.com``).
    """

    def __init__(
        self,
        initial_host: HostInfo,
        dialect: DatabaseDialect,
        driver: DriverDialect,
        provider: ConnectionProvider,
        props: Properties,
    ) -> None:
        self.initial_host = initial_host
        self.dialect = dialect
        self.driver = driver
        pattern = props.get(CLUSTER_INSTANCE_HOST_PATTERN)
        templates = global_templates(dialect, props, initial_host)
        self.templates = templates
        if pattern is not None:
            template, port = rds_utils.parse_instance_host_pattern(pattern, initial_host.port)
        elif templates is not None:
            # the region of the endpoint, else the first region's (for an instance the
            # topology does not list yet)
            region = rds_utils.region_from_host(initial_host.host)
            template, port = templates.get(region or "") or next(iter(templates.values()))
        else:
            derived = rds_utils.instance_host_template(initial_host.host)
            if derived is None:
                raise ConfigurationError(
                    f"cannot tell the instance host names of the cluster behind "
                    f"'{initial_host.host}' (not an RDS endpoint): set the property "
                    "'cluster_instance_host_pattern' (e.g. '?.abc123.us-east-1.rds.amazonaws.com')"
                )
            template, port = derived, initial_host.port
        self.template = template
        self.port = port
        # the writer endpoint names one cluster everywhere (a bare cluster name does not); an
        # instance endpoint belongs to the cluster whose topology has it, when one is known
        cluster_id = props.get(CLUSTER_ID) or rds_utils.writer_cluster_host(initial_host.host)
        if templates is not None and props.get(CLUSTER_ID) is None:
            # every endpoint of a global database (global, regional, instances) shares one
            # monitor: its patterns name the whole global database
            cluster_id = "global:" + ",".join(
                f"{r}:{t}:{p}" for r, (t, p) in sorted(templates.items())
            )
        if cluster_id is None:
            known = monitor_knowing(initial_host)
            cluster_id = known.cluster_id if known is not None else initial_host.url
        self.cluster_id = cluster_id
        refresh_s = props.get(TOPOLOGY_REFRESH_MS) / 1000
        high_s = props.get(HIGH_REFRESH_RATE_MS) / 1000
        self.monitor = monitor_for(
            self.cluster_id,
            lambda: ClusterTopologyMonitor(
                self.cluster_id,
                template,
                port,
                dialect,
                driver,
                provider,
                props,
                initial_host,
                refresh_s,
                high_s,
                probe_timeout_s=2,
                templates=templates,
            ),
        )

    def refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        hosts = self.monitor.hosts
        if hosts:
            return hosts
        return self.force_refresh(conn)

    def force_refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        """The topology now: read on ``conn`` when given (the monitor keeps it), else the
        monitor's next refresh."""
        if conn is not None:
            try:
                entries = self.monitor.read_topology(conn)
            except Exception as e:
                if not self.driver.is_network_error(e):
                    raise
            else:
                hosts = self.monitor.build(entries)
                if hosts:
                    self.monitor.learn(hosts)
                    return hosts
        return self.monitor.wait_for_topology(verify_writer=False, timeout=5.0)

    def writer_verified(self, timeout: float) -> Sequence[HostInfo]:
        """The topology once the monitor has confirmed the writer (after a failover)."""
        return self.monitor.wait_for_topology(verify_writer=True, timeout=timeout)

    def identify(self, conn: DriverConnection) -> HostInfo | None:
        """The instance ``conn`` is on. Without a query when the address ``conn`` is connected
        to is one instance's in the topology monitor's address book (see
        :mod:`aws_wrapper.addresses`); otherwise the server is asked (and the topology read on
        ``conn`` while none is known yet). Not from the host name ``conn`` was opened to: a
        plugin may have opened it elsewhere (connect failover, stale DNS)."""
        known = self.monitor.host_at(peer_address(conn))
        if known is not None:
            return known
        host_id = self.dialect.host_id(conn, self.driver)
        if host_id is None:
            return None
        hosts: Sequence[HostInfo] = self.monitor.hosts
        if not any(h.host_id == host_id for h in hosts):
            hosts = self.force_refresh(conn)
        for host in hosts:
            if host.host_id == host_id:
                return host
        return HostInfo(rds_utils.instance_host(self.template, host_id), self.port, host_id=host_id)

    def release_resources(self) -> None:
        return None  # the monitor is shared: release_resources() of the module stops it
