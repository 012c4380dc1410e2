"""``gdb_rw``: read/write splitting of an Aurora Global Database, kept to a home region.

``read_write_splitting`` (see :mod:`.read_write_splitting`) with the hosts chosen by region
(the home region: ``gdb_rw_home_region``, else the region the endpoint names):

* read-only mode picks a reader of the home region (``gdb_rw_restrict_reader_to_home_region``,
  default true; no host of the home region in the topology: :class:`ReadWriteSplittingError`;
  false: a reader of any region);
* leaving read-only mode while the writer is in another region is refused with
  :class:`ReadWriteSplittingError` (``gdb_rw_restrict_writer_to_home_region``, default true;
  false: the connection follows the writer there) — unless
  ``gdb_enable_global_write_forwarding`` is true: the connection then stays where it is (a
  reader of the home region), for Aurora's global write forwarding to carry its writes to the
  primary region (as aws-advanced-python-wrapper does; the wrapper does not turn forwarding on
  in the session, and the devcluster does not emulate it).
"""

from __future__ import annotations

import logging

from aws_wrapper.errors import ReadWriteSplittingError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.gdb_rw import (
    GDB_ENABLE_GLOBAL_WRITE_FORWARDING,
    GDB_RW_HOME_REGION,
    GDB_RW_RESTRICT_READER_TO_HOME_REGION,
    GDB_RW_RESTRICT_WRITER_TO_HOME_REGION,
)
from aws_wrapper.properties import Properties

from ..protocols import PluginService
from .gdb_failover import home_region, region_of
from .read_write_splitting import ReadWriteSplittingPlugin

logger = logging.getLogger("aws_wrapper")


class GdbReadWriteSplittingPlugin(ReadWriteSplittingPlugin):
    """See the module documentation."""

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self.home_region = home_region(
            props, service.initial_host.host, GDB_RW_HOME_REGION, "gdb_rw"
        )
        self._restrict_writer = props.get(GDB_RW_RESTRICT_WRITER_TO_HOME_REGION)
        self._restrict_reader = props.get(GDB_RW_RESTRICT_READER_TO_HOME_REGION)
        self._write_forwarding = props.get(GDB_ENABLE_GLOBAL_WRITE_FORWARDING)

    def _reader_hosts(self, hosts: list[HostInfo]) -> list[HostInfo]:
        if not self._restrict_reader:
            return hosts
        home = [h for h in hosts if region_of(h) == self.home_region]
        if not home:
            raise ReadWriteSplittingError(
                f"gdb_rw: no instance of the home region {self.home_region} in the topology "
                "for read-only mode (gdb_rw_restrict_reader_to_home_region)"
            )
        return home

    def _writer_allowed(self, writer: HostInfo) -> bool:
        region = region_of(writer)
        if not self._restrict_writer or region == self.home_region:
            return True
        if self._write_forwarding:
            logger.info(
                "gdb_rw: the writer %s is in %s, outside the home region %s: the connection "
                "stays on %s for global write forwarding",
                writer.url,
                region,
                self.home_region,
                self.service.current_host,
            )
            return False
        raise ReadWriteSplittingError(
            f"gdb_rw: the writer {writer.url} is in region {region}, outside the home region "
            f"{self.home_region}: leaving read-only mode is refused "
            "(gdb_rw_restrict_writer_to_home_region; gdb_enable_global_write_forwarding keeps "
            "the reader connection for write forwarding instead)"
        )
