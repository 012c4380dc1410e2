# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/gdb_failover.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``gdb_failover``: failover of an Aurora Global Database, by home region.

``failover_v2`` (see :mod:`.failover`) with the target chosen by region: when a connection
is lost, the plugin waits for the topology monitor to confirm the writer (in whatever region
it now is), then takes ``active_home_failover_mode`` when the home region
(``failover_home_region``) holds the writer and ``inactive_home_failover_mode`` when another
region does:

==============================  ==============================================================
mode                            lands on
==============================  ==============================================================
strict-writer                   the writer (wherever it is)
strict-home-reader              a reader of the home region
strict-out-of-home-reader       a reader of another region
strict-any-reader               a reader of any region
home-reader-or-writer           a reader of the home region, else the writer
out-of-home-reader-or-writer    a reader of another region, else the writer
any-reader-or-writer            a reader of any region, else the writer
==============================  ==============================================================

Everything else is failover_v2's: the errors (FailoverSuccessError,
TransactionResolutionUnknownError, FailoverFailedError after ``failover_timeout_sec``), the
session state carried over, connect failover, the retry of transient rejections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from aws_wrapper import rds_utils
from aws_wrapper._compat import sleep
from aws_wrapper.errors import FailoverFailedError, PropertyError
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.gdb_failover import (
    ACTIVE_HOME_FAILOVER_MODE,
    FAILOVER_HOME_REGION,
    GDB_FAILOVER_MODES,
    INACTIVE_HOME_FAILOVER_MODE,
)
from aws_wrapper.properties import Prop, Properties
from aws_wrapper.topology import writer_of

from ..host_list_provider import RdsHostListProvider
from ..protocols import DriverConnection, PluginService
from .custom_endpoint import filter_hosts_for
from .failover import FailoverPlugin

logger = logging.getLogger("aws_wrapper")

STRICT_WRITER = "strict-writer"
STRICT_HOME_READER = "strict-home-reader"
STRICT_OUT_OF_HOME_READER = "strict-out-of-home-reader"
STRICT_ANY_READER = "strict-any-reader"
HOME_READER_OR_WRITER = "home-reader-or-writer"
OUT_OF_HOME_READER_OR_WRITER = "out-of-home-reader-or-writer"
ANY_READER_OR_WRITER = "any-reader-or-writer"

_WRITER_ENDPOINTS = (
    rds_utils.RdsUrlType.RDS_WRITER_CLUSTER,
    rds_utils.RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER,
)


def parse_mode(prop: Prop[str | None], props: Properties) -> str | None:
    """The gdb failover mode of ``prop`` (``_`` taken for ``-``), None when unset; a
    PropertyError naming the property for anything else."""
    value = props.get(prop)
    if value is None or not value.strip():
        return None
    mode = value.strip().lower().replace("_", "-")
    if mode not in GDB_FAILOVER_MODES:
        raise PropertyError(
            f"property '{prop.name}': unknown mode {value!r}; valid: "
            + ", ".join(GDB_FAILOVER_MODES),
            prop.name,
        )
    return mode


def home_region(props: Properties, endpoint: str, prop: Prop[str | None], plugin: str) -> str:
    """The home region: ``prop`` when set, else the region ``endpoint`` names; a PropertyError
    naming ``prop`` when neither gives one."""
    value = props.get(prop)
    if value is not None and value.strip():
        region = value.strip().lower()
        if not rds_utils.is_region(region):
            raise PropertyError(
                f"property '{prop.name}': {value!r} is not an AWS region (e.g. 'us-east-1')",
                prop.name,
            )
        return region
    named = rds_utils.region_from_host(endpoint)
    if named is None:
        raise PropertyError(
            f"property '{prop.name}' is required by {plugin}: the endpoint '{endpoint}' names "
            "no region (a global writer endpoint, an IP address or a custom DNS name); set it "
            "to the application's home region, e.g. 'us-east-1'",
            prop.name,
        )
    return named


def region_of(host: HostInfo) -> str | None:
    """The region of ``host``: as the global topology says, else as its name says."""
    return host.region or rds_utils.region_from_host(host.host)


class GdbFailoverPlugin(FailoverPlugin):
    """See the module documentation."""

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        endpoint = service.initial_host.host
        self.home_region = home_region(props, endpoint, FAILOVER_HOME_REGION, "gdb_failover")
        default = (
            STRICT_WRITER
            if rds_utils.classify(endpoint) in _WRITER_ENDPOINTS
            else HOME_READER_OR_WRITER
        )
        self.active_mode = parse_mode(ACTIVE_HOME_FAILOVER_MODE, props) or default
        self.inactive_mode = parse_mode(INACTIVE_HOME_FAILOVER_MODE, props) or default
        self.mode = self.active_mode
        # how long a failover waits for the monitor to confirm the writer before a reader
        # mode goes on with the last known topology (the writer's region unreachable)
        self._writer_wait = max(1.0, self._timeout / 3)

    def is_home(self, host: HostInfo | None) -> bool:
        return host is not None and region_of(host) == self.home_region

    def mode_for(self, writer: HostInfo | None) -> str:
        """The mode that applies while ``writer`` is the writer."""
        return self.active_mode if self.is_home(writer) else self.inactive_mode

    def _find(
        self,
        provider: RdsHostListProvider,
        deadline: float,
        *,
        failed: HostInfo | None,
        cause: BaseException,
    ) -> tuple[DriverConnection, HostInfo]:
        """A verified connection per the mode of the writer's region, or FailoverFailedError."""
        avoid = failed.url if failed is not None else None
        first = True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FailoverFailedError(
                    f"gdb_failover ({self.mode}, home region {self.home_region}) found no "
                    f"healthy host within {self._timeout:g} s (failover_timeout_sec)"
                ) from cause
            if first or provider.monitor.in_panic():
                wait = remaining if not first else min(remaining, self._writer_wait)
                hosts = provider.writer_verified(wait)
            else:
                # a round found no host: read the topology again (an instance that rejoins
                # as a reader shows up there)
                hosts = provider.force_refresh()
            writer = writer_of(hosts)
            verified = writer is not None and not provider.monitor.in_panic()
            self.mode = self.mode_for(writer)
            if first:
                logger.info(
                    "gdb_failover: writer %s (%s), home region %s: mode %s",
                    writer.url if writer is not None else "unknown",
                    "confirmed" if verified else "not confirmed",
                    self.home_region,
                    self.mode,
                )
            first = False
            if self.mode == STRICT_WRITER:
                if writer is None or not verified:
                    continue
                conn = self._open(provider, writer, deadline, want_reader=False)
                if conn is not None:
                    return conn, writer
                provider.monitor.report_failure(None)
                continue
            found = self._in_mode(provider, hosts, deadline, avoid)
            if found is not None:
                return found
            # the failed instance is avoided in the first round only: it may come back as a
            # reader (an old writer rejoins), and the topology and the role check say so
            avoid = None
            sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _allowed_reader(self, host: HostInfo) -> bool:
        mode = self.mode
        if mode in (STRICT_HOME_READER, HOME_READER_OR_WRITER):
            return self.is_home(host)
        if mode in (STRICT_OUT_OF_HOME_READER, OUT_OF_HOME_READER_OR_WRITER):
            return region_of(host) is not None and not self.is_home(host)
        return True  # strict-any-reader, any-reader-or-writer

    def _in_mode(
        self,
        provider: RdsHostListProvider,
        hosts: Sequence[HostInfo],
        deadline: float,
        avoid: str | None,
    ) -> tuple[DriverConnection, HostInfo] | None:
        """A reader the mode allows (the writer too, last, in the -or-writer modes)."""
        known = filter_hosts_for(self.service, hosts)
        readers = [
            h
            for h in known
            if h.role is HostRole.READER and h.url != avoid and self._allowed_reader(h)
        ]
        or_writer = self.mode.endswith("-or-writer")
        while readers:
            choice = self._selector.select(readers, HostRole.READER, self.props)
            readers.remove(choice)
            conn = self._open(provider, choice, deadline, want_reader=None if or_writer else True)
            if conn is not None:
                return conn, choice
        if or_writer:
            writer = writer_of(known)
            if writer is not None and writer.url != avoid:
                conn = self._open(provider, writer, deadline, want_reader=None)
                if conn is not None:
                    return conn, writer
        return None
