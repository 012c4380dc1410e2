# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/read_write_splitting.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``read_write_splitting``: ``read_only = True`` moves the connection to a reader.

Setting the wrapper connection read-only (``conn.set_read_only(True)``;
``conn.read_only = True`` in blocking code) switches it to a reader of the cluster picked by
``reader_host_selector_strategy`` (among a custom endpoint's members when connected through
one); setting it back moves it to the writer. Both connections are kept, so switching back and
forth reuses them. A picked reader is asked its real role first — right after a failover the
topology can still call the new writer a reader. A cached connection is checked before it
is reused: one that is closed, lost (a network error counts as "dead", it never reaches the
caller) or of the other role now is dropped and replaced — after a failover of the writer,
leaving read-only reads the topology again and goes to the new writer. Inside a transaction
the switch is refused with :class:`ReadWriteSplittingError`. When no reader answers, the
connection stays on the writer (``read_write_splitting_fallback_to_writer``, default true) or
the switch fails. A network error during the switch leaves as
:class:`ReadWriteSplittingError` (or a failover error), never as the driver's.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from aws_wrapper.errors import (
    AwsWrapperError,
    PropertyError,
    ReadWriteSplittingError,
    TransactionResolutionUnknownError,
)
from aws_wrapper.host_selectors import selector_for
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.read_write_splitting import (
    READ_WRITE_FALLBACK_TO_WRITER,
    READER_HOST_SELECTOR_STRATEGY,
)
from aws_wrapper.properties import Properties
from aws_wrapper.telemetry import RW_SWITCH_SPAN, SERVER_ADDRESS, SERVER_PORT
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

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if method == "Connection.close":
            try:
                return call()
            finally:
                self._close_idle()
        provider = self.service.host_list_provider
        if not isinstance(provider, RdsHostListProvider):
            return call()  # a single server: nowhere to switch to
        read_only = bool(args[0])
        switch = partial(self._to_reader if read_only else self._to_writer, provider)
        return switch_read_only(self.service, read_only, switch, call)

    def recover(self, in_transaction: bool) -> bool:
        """The current connection was lost. On a reader, another reader takes its place (or
        the writer, with ``read_write_splitting_fallback_to_writer``); on the writer, failover
        (or a reconnect) does."""
        provider = self.service.host_list_provider
        host = self.service.current_host
        lost = self.service.current_connection
        if not isinstance(provider, RdsHostListProvider) or host is None or lost is None:
            return False
        if host.role is not HostRole.READER:
            return False
        if self._reader is not None and self._reader[0] is lost:
            self._reader = None
        self._to_reader(provider, replacing=host)
        replaced_lost(self.service, lost, host, in_transaction)
        return True

    # -- switching ---------------------------------------------------------------------------

    def _to_reader(
        self, provider: RdsHostListProvider, *, replacing: HostInfo | None = None
    ) -> None:
        """Make a reader connection current; ``replacing``: the lost reader to replace."""
        current_host = self.service.current_host
        if replacing is None:
            if current_host is not None and current_host.role is HostRole.READER:
                return
            self._remember_current()
        # still an open reader? (a failover may have promoted it, or its instance gone)
        cached = self._reader = self._checked(self._reader, provider, want_reader=True)
        if cached is not None:
            self._switch(cached)
            return
        hosts = self._reader_hosts(filter_hosts_for(self.service, provider.refresh()))
        avoid = replacing.url if replacing is not None else None
        readers = [h for h in hosts if h.role is HostRole.READER and h.url != avoid]
        while readers:
            choice = self._selector.select(readers, HostRole.READER, self.props)
            readers.remove(choice)
            conn = self._open(choice, provider, want_reader=True)
            if conn is not None:
                self._reader = (conn, choice.with_role(HostRole.READER))
                self._switch(self._reader)
                return
        if not self._fallback:
            raise ReadWriteSplittingError("no reader could be reached for read-only mode")
        if replacing is not None:
            logger.info("no other reader reachable: read-only mode goes on on the writer")
            self._to_writer(provider)
            return
        logger.info("no reader reachable: read-only mode stays on the writer")

    def _to_writer(self, provider: RdsHostListProvider) -> None:
        current_host = self.service.current_host
        if current_host is not None and current_host.role is HostRole.WRITER:
            return
        self._remember_current()
        cached = self._writer
        checked = self._writer = self._checked(cached, provider, want_reader=False)
        if checked is not None:
            if self._writer_allowed(checked[1]):
                self._switch(checked)
            return
        writer: HostInfo | None = None
        conn: DriverConnection | None = None
        if cached is None:
            # the cached topology first: the role check in _open catches a moved writer
            writer = writer_of(provider.refresh())
            if writer is not None:
                if not self._writer_allowed(writer):
                    return
                conn = self._open(writer, provider, want_reader=False)
        else:
            # the writer connection was lost or its instance is no writer any more: a
            # failover, probably; have the topology monitor look for the new writer now
            provider.monitor.report_failure(cached[1])
        if conn is None:
            writer = writer_of(provider.force_refresh(self._live_current()))
            if writer is None:
                raise ReadWriteSplittingError(
                    "the cluster's writer is unknown: cannot leave read-only"
                )
            if not self._writer_allowed(writer):
                return
            conn = self._open(writer, provider, want_reader=False)
            if conn is None:
                raise ReadWriteSplittingError(f"could not reach the writer {writer.url}")
        assert writer is not None
        target = self._writer = (conn, writer)
        self._switch(target)

    def _reader_hosts(self, hosts: list[HostInfo]) -> list[HostInfo]:
        """The hosts a reader is picked among (``gdb_rw``: the home region's)."""
        return hosts

    def _writer_allowed(self, writer: HostInfo) -> bool:
        """True: switch to ``writer``; False: stay on the current connection (``gdb_rw``
        with write forwarding); or raise :class:`ReadWriteSplittingError` (refused)."""
        return True

    def _checked(
        self,
        cached: tuple[DriverConnection, HostInfo] | None,
        provider: RdsHostListProvider,
        *,
        want_reader: bool,
    ) -> tuple[DriverConnection, HostInfo] | None:
        """``cached`` when it is open and still of the wanted role, else None: a closed or
        lost connection (any error while asking counts as lost, it is not raised) or one of
        the other role is dropped."""
        if cached is None:
            return None
        conn = cached[0]
        driver = self.service.driver_dialect
        alive = False
        if not driver.is_closed(conn):
            try:
                alive = provider.dialect.is_reader(conn, driver) == want_reader
            except Exception as e:
                logger.info(
                    "read_write_splitting: the cached connection to %s is lost (%s: %s)",
                    cached[1].url,
                    type(e).__name__,
                    e,
                )
        if alive:
            return cached
        if conn is not self.service.current_connection:
            self.service.release_connection(conn, reusable=False)
        return None

    def _live_current(self) -> DriverConnection | None:
        """The current connection to read the topology on, unless the driver knows it is
        closed (the topology monitor is asked then)."""
        conn = self.service.current_connection
        if conn is None or self.service.driver_dialect.is_closed(conn):
            return None
        return conn

    def _remember_current(self) -> None:
        conn, host = self.service.current_connection, self.service.current_host
        if conn is None or host is None or self.service.lost:
            return  # nothing to keep (a lost connection is released by recover())
        old = self._reader if host.role is HostRole.READER else self._writer
        if host.role is HostRole.READER:
            self._reader = (conn, host)
        else:
            self._writer = (conn, host)
        if old is not None and old[0] is not conn:
            # replaced behind our back (a failover put another connection in place)
            self.service.release_connection(old[0], reusable=False)

    def _switch(self, target: tuple[DriverConnection, HostInfo]) -> None:
        conn, host = target
        old = self.service.current_connection
        self.service.set_current_connection(conn, host)
        if old is not None and old is not conn and self.service.connection_provider.owns(old):
            # from an internal pool: give it back now rather than keep it (the AWS wrappers'
            # behaviour), so the next switch picks a host afresh and reuses a pooled connection
            if self._reader is not None and self._reader[0] is old:
                self._reader = None
            if self._writer is not None and self._writer[0] is old:
                self._writer = None
            self.service.release_connection(old)

    def _open(
        self, host: HostInfo, provider: RdsHostListProvider, *, want_reader: bool
    ) -> DriverConnection | None:
        driver = self.service.driver_dialect
        try:
            conn = self.service.connect(host, skip=self)
        except Exception as e:
            if driver.is_login_error(e):
                raise
            return None
        try:
            # topology can lag a failover: ask the instance itself
            if provider.dialect.is_reader(conn, driver) == want_reader:
                return conn
        except Exception:
            self.service.release_connection(conn, reusable=False)
            return None
        self.service.release_connection(conn)
        return None

    def _close_idle(self) -> None:
        current = self.service.current_connection
        for cached in (self._reader, self._writer):
            if cached is not None and cached[0] is not current:
                self.service.release_connection(cached[0])
        self._reader = self._writer = None


def switch_read_only(service: PluginService, read_only: bool, switch: Call, call: Call) -> Any:
    """The frame of a read/write switch (``read_write_splitting`` and ``srw``): refused inside
    a transaction; ``switch()`` makes the connection of the wanted role current; then
    read-only is set on it — through the rest of the pipeline (``call``) when the connection
    did not change, so that failover sees a lost connection there (MySQL: a statement).

    A network error (or any error on a connection the driver now knows closed) leaves as
    :class:`ReadWriteSplittingError` naming it (chained), never as the driver's error;
    wrapper errors (a failover's) pass through.
    """
    driver = service.driver_dialect
    current = service.current_connection
    # a lost connection (the driver knows it closed) holds no transaction: switch away
    if current is not None and not driver.is_closed(current) and driver.in_transaction(current):
        raise ReadWriteSplittingError(
            "cannot switch read_only inside a transaction: commit or roll back first"
        )
    telemetry = service.telemetry
    try:
        if telemetry is None:
            switch()
        else:
            before = service.current_host
            extra: dict[str, Any] = {"aws_wrapper.read_only": read_only}
            if before is not None:
                extra["aws_wrapper.switch.from"] = before.url
            with telemetry.span(RW_SWITCH_SPAN, extra) as span:
                switch()
                after = service.current_host
                if after is not None:
                    span.set_attribute("aws_wrapper.switch.to", after.url)
                    span.set_attribute("aws_wrapper.switch.to_role", after.role.value)
                    span.set_attribute(SERVER_ADDRESS, after.host)
                    span.set_attribute(SERVER_PORT, after.port)
    except AwsWrapperError:
        raise
    except Exception as e:
        if not driver.is_network_error(e):
            raise
        raise ReadWriteSplittingError(
            f"the switch to {'a reader' if read_only else 'the writer'} lost its connection: "
            f"{type(e).__name__}: {e}"
        ) from e
    conn = service.current_connection
    if conn is None:
        return None
    try:
        if conn is current:
            return call()
        return driver.set_read_only(conn, read_only)
    except AwsWrapperError:
        raise
    except Exception as e:
        # psycopg refuses a lost connection with a ProgrammingError: closed counts too
        if not (driver.is_network_error(e) or driver.is_closed(conn)):
            raise
        raise ReadWriteSplittingError(
            f"read_only could not be set: the connection to {service.current_host} was lost: "
            f"{type(e).__name__}: {e}"
        ) from e


def replaced_lost(
    service: PluginService, lost: DriverConnection, host: HostInfo, in_transaction: bool
) -> None:
    """After a read/write plugin replaced the ``lost`` connection to ``host`` (its
    ``recover``): release it, and say so if a transaction was open on it."""
    service.release_connection(lost, reusable=False)
    if in_transaction:
        now = service.current_host
        raise TransactionResolutionUnknownError(
            f"the connection to {host.url} was lost during a transaction; it was replaced by "
            f"one to {now.url if now else 'another host'}. Re-run the transaction."
        )
