"""``read_write_splitting``: ``read_only = True`` moves the connection to a reader.

Setting the wrapper connection read-only (``conn.read_only = True``, ``await
conn.set_read_only(True)`` in asyncio) switches it to a reader of the cluster picked by
``reader_host_selector_strategy`` (among a custom endpoint's members when connected through
one); setting it back moves it to the writer. Both connections are kept, so switching back and
forth reuses them. A picked reader is asked its real role first — right after a failover the
topology can still call the new writer a reader. Inside a transaction the switch is refused
with :class:`ReadWriteSplittingError`. When no reader answers, the connection stays on the
writer (``read_write_splitting_fallback_to_writer``, default true) or the switch fails.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_wrapper.errors import PropertyError, ReadWriteSplittingError
from aws_wrapper.host_selectors import selector_for
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import (
    READ_WRITE_FALLBACK_TO_WRITER,
    READER_HOST_SELECTOR_STRATEGY,
    Properties,
)
from aws_wrapper.topology import writer_of

from ..host_list_provider import RdsHostListProvider
from ..plugin import BasePlugin
from ..protocols import Call, DriverConnection, PluginService
from .custom_endpoint import filter_hosts_for

logger = logging.getLogger("aws_wrapper")


class ReadWriteSplittingPlugin(BasePlugin):
    subscribed_methods = frozenset({"Connection.set_read_only", "Connection.close"})
    needs_topology = True

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        try:
            self._selector = selector_for(props.get(READER_HOST_SELECTOR_STRATEGY))
        except ValueError as e:
            raise PropertyError(
                f"property 'reader_host_selector_strategy': {e}", "reader_host_selector_strategy"
            ) from None
        self._fallback = props.get(READ_WRITE_FALLBACK_TO_WRITER)
        self._writer: tuple[DriverConnection, HostInfo] | None = None
        self._reader: tuple[DriverConnection, HostInfo] | None = None

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if method == "Connection.close":
            try:
                return await call()
            finally:
                await self._close_idle()
        provider = self.service.host_list_provider
        if not isinstance(provider, RdsHostListProvider):
            return await call()  # a single server: nowhere to switch to
        read_only = bool(args[0])
        driver = self.service.driver_dialect
        current = self.service.current_connection
        if current is not None and driver.in_transaction(current):
            raise ReadWriteSplittingError(
                "cannot switch read_only inside a transaction: commit or roll back first"
            )
        if read_only:
            await self._to_reader(provider)
        else:
            await self._to_writer(provider)
        conn = self.service.current_connection
        if conn is not None:
            await driver.set_read_only(conn, read_only)
        return None

    # -- switching ---------------------------------------------------------------------------

    async def _to_reader(self, provider: RdsHostListProvider) -> None:
        current_host = self.service.current_host
        if current_host is not None and current_host.role is HostRole.READER:
            return
        self._remember_current()
        cached = self._reader
        driver = self.service.driver_dialect
        if cached is not None and not driver.is_closed(cached[0]):
            try:  # still a reader? (a failover may have promoted it)
                still_reader = await provider.dialect.is_reader(cached[0], driver)
            except Exception:
                still_reader = False
            if still_reader:
                await self._switch(cached)
                return
            self._reader = None
            if cached[0] is not self.service.current_connection:
                await self.service.release_connection(cached[0], reusable=False)
        hosts = filter_hosts_for(self.service, await provider.refresh())
        readers = [h for h in hosts if h.role is HostRole.READER]
        while readers:
            choice = self._selector.select(readers, HostRole.READER, self.props)
            readers.remove(choice)
            conn = await self._open(choice, provider, want_reader=True)
            if conn is not None:
                self._reader = (conn, choice.with_role(HostRole.READER))
                await self._switch(self._reader)
                return
        if not self._fallback:
            raise ReadWriteSplittingError("no reader could be reached for read-only mode")
        logger.info("no reader reachable: read-only mode stays on the writer")

    async def _to_writer(self, provider: RdsHostListProvider) -> None:
        current_host = self.service.current_host
        if current_host is not None and current_host.role is HostRole.WRITER:
            return
        self._remember_current()
        cached = self._writer
        driver = self.service.driver_dialect
        if (
            cached is not None
            and not driver.is_closed(cached[0])
            and not await provider.dialect.is_reader(cached[0], driver)
        ):
            await self._switch(cached)
            return
        # the cached topology first: the role check in _open catches a moved writer
        writer = writer_of(await provider.refresh())
        conn = None if writer is None else await self._open(writer, provider, want_reader=False)
        if conn is None:
            writer = writer_of(await provider.force_refresh(self.service.current_connection))
            if writer is None:
                raise ReadWriteSplittingError(
                    "the cluster's writer is unknown: cannot leave read-only"
                )
            conn = await self._open(writer, provider, want_reader=False)
            if conn is None:
                raise ReadWriteSplittingError(f"could not reach the writer {writer.url}")
        assert writer is not None
        target = self._writer = (conn, writer)
        await self._switch(target)

    def _remember_current(self) -> None:
        conn, host = self.service.current_connection, self.service.current_host
        if conn is None or host is None:
            return
        if host.role is HostRole.READER:
            self._reader = (conn, host)
        else:
            self._writer = (conn, host)

    async def _switch(self, target: tuple[DriverConnection, HostInfo]) -> None:
        conn, host = target
        old = self.service.current_connection
        await self.service.set_current_connection(conn, host)
        if old is not None and old is not conn and self.service.connection_provider.owns(old):
            # from an internal pool: give it back now rather than keep it (the AWS wrappers'
            # behaviour), so the next switch picks a host afresh and reuses a pooled connection
            if self._reader is not None and self._reader[0] is old:
                self._reader = None
            if self._writer is not None and self._writer[0] is old:
                self._writer = None
            await self.service.release_connection(old)

    async def _open(
        self, host: HostInfo, provider: RdsHostListProvider, *, want_reader: bool
    ) -> DriverConnection | None:
        driver = self.service.driver_dialect
        try:
            conn = await self.service.connect(host, skip=self)
        except Exception as e:
            if driver.is_login_error(e):
                raise
            return None
        try:
            # topology can lag a failover: ask the instance itself
            if await provider.dialect.is_reader(conn, driver) == want_reader:
                return conn
        except Exception:
            await self.service.release_connection(conn, reusable=False)
            return None
        await self.service.release_connection(conn)
        return None

    async def _close_idle(self) -> None:
        current = self.service.current_connection
        for cached in (self._reader, self._writer):
            if cached is not None and cached[0] is not current:
                await self.service.release_connection(cached[0])
        self._reader = self._writer = None
