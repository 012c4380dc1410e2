"""``srw``: simple read/write splitting between two configured endpoints, no topology.

Setting the wrapper connection read-only (``await conn.set_read_only(True)``;
``conn.read_only = True`` in blocking code) switches it to a connection through
``srw_read_endpoint``; setting it back switches to one through ``srw_write_endpoint``. Both
connections are kept, so switching back and forth reuses them. Nothing is read from the
cluster's topology: this works through any two endpoints (Aurora cluster and reader endpoints,
custom endpoints, RDS Proxy, a plain primary and replica).

With ``srw_verify_new_connections`` (default true) each new connection is asked its role, and
one of the wrong role (a reader endpoint's DNS naming the new writer right after a failover)
is closed and opened again every ``srw_connect_retry_interval_ms`` until
``srw_connect_retry_timeout_ms``; a cached connection is asked again before it is reused, and
dropped when its role changed. The initial connection is verified the same way when its role
is known (``srw_verify_initial_connection_type``, or the kind of RDS endpoint). Inside a
transaction the switch is refused with :class:`ReadWriteSplittingError`. When the read
endpoint cannot be reached, the connection stays on the writer
(``read_write_splitting_fallback_to_writer``, default true) or the switch fails.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aws_wrapper import rds_utils
from aws_wrapper._compat import asleep
from aws_wrapper.errors import PropertyError, ReadWriteSplittingError
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.read_write_splitting import (
    READ_WRITE_FALLBACK_TO_WRITER,
)
from aws_wrapper.plugins.simple_read_write_splitting import (
    SRW_CONNECT_RETRY_INTERVAL_MS,
    SRW_CONNECT_RETRY_TIMEOUT_MS,
    SRW_READ_ENDPOINT,
    SRW_VERIFY_INITIAL_CONNECTION_TYPE,
    SRW_VERIFY_NEW_CONNECTIONS,
    SRW_WRITE_ENDPOINT,
)
from aws_wrapper.properties import Prop, Properties

from ..host_list_provider import RdsHostListProvider
from ..plugin import BasePlugin
from ..protocols import CONNECT, Call, ConnectCall, DriverConnection, PluginService
from .read_write_splitting import replaced_lost, switch_read_only

logger = logging.getLogger("aws_wrapper")

_Cached = tuple[DriverConnection, HostInfo]
_ENDPOINT_RE = re.compile(
    r"(?:\[(?P<v6>[0-9a-fA-F:.]+(?:%\w+)?)\]|(?P<host>[^\s:/@\[\]]+))(?::(?P<port>[0-9]{1,5}))?"
)
_ROLE_OF_ENDPOINT = {
    rds_utils.RdsUrlType.RDS_WRITER_CLUSTER: "writer",
    rds_utils.RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER: "writer",
    rds_utils.RdsUrlType.RDS_READER_CLUSTER: "reader",
}


def parse_endpoint(prop: Prop[str | None], props: Properties, default_port: int) -> HostInfo:
    """The required endpoint property ``prop``: ``host``, ``host:port`` or ``[IPv6]:port``."""
    raw = props.get(prop)
    text = (raw or "").strip()
    if not text:
        raise PropertyError(
            f"property '{prop.name}' is required by the srw plugin ('host' or 'host:port')",
            prop.name,
        )
    if ":" in text and rds_utils.is_ip_address(text):  # a bare IPv6 address: no port
        return HostInfo(text.strip("[]"), default_port)
    m = _ENDPOINT_RE.fullmatch(text)
    if m is None or (m["port"] is not None and not 1 <= int(m["port"]) <= 65535):
        raise PropertyError(
            f"property '{prop.name}': {raw!r} is not 'host' or 'host:port' (port 1-65535)",
            prop.name,
        )
    port = int(m["port"]) if m["port"] is not None else default_port
    return HostInfo(m["v6"] or m["host"], port)


class SimpleReadWriteSplittingPlugin(BasePlugin):
    subscribed_methods = frozenset({CONNECT, "Connection.set_read_only", "Connection.close"})
    needs_topology = False

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        port = service.initial_host.port
        self._read = parse_endpoint(SRW_READ_ENDPOINT, props, port).with_role(HostRole.READER)
        self._write = parse_endpoint(SRW_WRITE_ENDPOINT, props, port).with_role(HostRole.WRITER)
        self._verify = props.get(SRW_VERIFY_NEW_CONNECTIONS)
        self._timeout_ms = props.get(SRW_CONNECT_RETRY_TIMEOUT_MS)
        self._interval = props.get(SRW_CONNECT_RETRY_INTERVAL_MS) / 1000
        self._initial_role = props.get(SRW_VERIFY_INITIAL_CONNECTION_TYPE)
        self._fallback = props.get(READ_WRITE_FALLBACK_TO_WRITER)
        self._writer: _Cached | None = None
        self._reader: _Cached | None = None

    # -- hooks -------------------------------------------------------------------------------

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        role = self._initial_role or _ROLE_OF_ENDPOINT.get(rds_utils.classify(host.host))
        if not is_initial or not self._verify or role is None:
            return await call()
        want_reader = role == "reader"
        driver = self.service.driver_dialect
        deadline = time.monotonic() + self._timeout_ms / 1000
        while True:
            conn: DriverConnection | None = None
            try:
                conn = await call()
                if await self.service.dialect.is_reader(conn, driver) == want_reader:
                    return conn
                problem = f"it reached {'the writer' if want_reader else 'a reader'}"
            except Exception as e:
                if conn is None and (
                    not driver.is_network_error(e) or time.monotonic() + self._interval > deadline
                ):
                    raise  # the endpoint does not answer (or refuses): its own error
                problem = f"{type(e).__name__}: {e}"
            if time.monotonic() + self._interval > deadline:
                if self._initial_role is None and conn is not None:
                    # the role was only inferred from the host name: go on, as the AWS wrappers
                    logger.warning(
                        "srw: no %s connection through %s within %d ms (%s): going on with it",
                        role,
                        host.url,
                        self._timeout_ms,
                        problem,
                    )
                    return conn
                if conn is not None:
                    await self.service.release_connection(conn)
                raise ReadWriteSplittingError(
                    f"srw: the initial connection through {host.url} is not on a {role} "
                    f"(srw_verify_initial_connection_type) within {self._timeout_ms} ms "
                    f"(srw_connect_retry_timeout_ms); last: {problem}"
                )
            if conn is not None:
                await self.service.release_connection(conn)
            await asleep(self._interval)

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if method == "Connection.close":
            try:
                return await call()
            finally:
                await self._close_idle()
        read_only = bool(args[0])
        switch = self._to_reader if read_only else self._to_writer
        return await switch_read_only(self.service, read_only, switch, call)

    async def recover(self, in_transaction: bool) -> bool:
        """The current connection was lost: a new one through the same endpoint takes its
        place (the read endpoint falls back to the writer with
        ``read_write_splitting_fallback_to_writer``); raises ReadWriteSplittingError when
        there is none."""
        lost, host = self.service.current_connection, self.service.current_host
        if lost is None or host is None:
            return False
        if self._reader is not None and self._reader[0] is lost:
            on_reader = True
        elif self._writer is not None and self._writer[0] is lost:
            on_reader = False
        else:
            on_reader = host.role is HostRole.READER or host.same_place(self._read)
        target: _Cached | None = None
        if on_reader:
            self._reader = None
            try:
                target = self._reader = await self._open(self._read, want_reader=True)
            except ReadWriteSplittingError:
                if not self._fallback:
                    raise
                logger.warning("srw: %s unreachable: read-only mode goes on on the writer", host)
        if target is None:
            if self._writer is not None and self._writer[0] is lost:
                self._writer = None
            target = self._writer = await self._usable(self._writer, want_reader=False)
            if target is None:
                target = self._writer = await self._open(self._write, want_reader=False)
        await self.service.set_current_connection(*target)
        await replaced_lost(self.service, lost, host, in_transaction)
        return True

    # -- switching ---------------------------------------------------------------------------

    async def _to_reader(self) -> None:
        await self._remember_current()
        current = self.service.current_connection
        if self._reader is not None and self._reader[0] is current:
            return
        target = self._reader = await self._usable(self._reader, want_reader=True)
        if target is None:
            try:
                target = self._reader = await self._open(self._read, want_reader=True)
            except ReadWriteSplittingError:
                if not self._fallback or current is None:
                    raise
                logger.warning(
                    "srw: %s unreachable: read-only mode stays on the writer", self._read
                )
                return
        await self.service.set_current_connection(*target)

    async def _to_writer(self) -> None:
        await self._remember_current()
        current = self.service.current_connection
        if self._writer is not None and self._writer[0] is current:
            return
        target = self._writer = await self._usable(self._writer, want_reader=False)
        if target is None:
            target = self._writer = await self._open(self._write, want_reader=False)
        await self.service.set_current_connection(*target)

    async def _remember_current(self) -> None:
        """Cache the current connection as the writer or the reader when it is neither yet
        (the initial connection, or one a failover put in place)."""
        conn, host = self.service.current_connection, self.service.current_host
        if conn is None or host is None:
            return
        if any(c is not None and c[0] is conn for c in (self._reader, self._writer)):
            return
        is_reader = host.role is HostRole.READER or host.same_place(self._read)
        if self._verify:
            try:
                is_reader = await self.service.dialect.is_reader(conn, self.service.driver_dialect)
            except Exception:
                pass  # keep the guess; a dead connection fails the application's next call
        old = self._reader if is_reader else self._writer
        if is_reader:
            self._reader = (conn, host)
        else:
            self._writer = (conn, host)
        if old is not None:
            await self.service.release_connection(old[0])

    async def _usable(self, cached: _Cached | None, *, want_reader: bool) -> _Cached | None:
        """``cached`` when it is open (and, verifying, still of its role), else None (it is
        released)."""
        if cached is None:
            return None
        driver = self.service.driver_dialect
        conn = cached[0]
        try:
            if not driver.is_closed(conn) and (
                not self._verify
                or await self.service.dialect.is_reader(conn, driver) == want_reader
            ):
                return cached
        except Exception:
            pass
        logger.info(
            "srw: the cached connection to %s is closed or changed role: dropped", cached[1]
        )
        if conn is not self.service.current_connection:
            await self.service.release_connection(conn)
        return None

    async def _open(self, endpoint: HostInfo, *, want_reader: bool) -> _Cached:
        """A new connection through ``endpoint``, of the wanted role when verifying (retried
        until the timeout); raises :class:`ReadWriteSplittingError` when there is none."""
        service, driver = self.service, self.service.driver_dialect
        deadline = time.monotonic() + self._timeout_ms / 1000
        attempts = 0
        while True:
            attempts += 1
            conn: DriverConnection | None = None
            error: Exception | None = None
            try:
                conn = await service.connect(endpoint, skip=self)
                if not self._verify or await service.dialect.is_reader(conn, driver) == want_reader:
                    return conn, await self._host_of(conn, endpoint)
                problem = f"it reached {'the writer' if want_reader else 'a reader'}"
            except Exception as e:
                if conn is None and driver.is_login_error(e):
                    raise
                error, problem = e, f"{type(e).__name__}: {e}"
            if conn is not None:
                await service.release_connection(conn)
            if not self._verify or time.monotonic() + self._interval > deadline:
                within = f" within {self._timeout_ms} ms" if self._verify else ""
                role = "reader" if want_reader else "writer"
                raise ReadWriteSplittingError(
                    f"srw: no {role} connection through {endpoint.url}{within} "
                    f"({attempts} attempt(s); last: {problem})"
                ) from error
            await asleep(self._interval)

    async def _host_of(self, conn: DriverConnection, endpoint: HostInfo) -> HostInfo:
        """The instance ``conn`` is on when another plugin keeps the topology (failover and
        the tracker then see the instance), else the endpoint."""
        provider = self.service.host_list_provider
        if isinstance(provider, RdsHostListProvider):
            try:
                known = await provider.identify(conn)
            except Exception:
                known = None
            if known is not None:
                return known.with_role(endpoint.role) if self._verify else known
        return endpoint

    async def _close_idle(self) -> None:
        current = self.service.current_connection
        for cached in (self._reader, self._writer):
            if cached is not None and cached[0] is not current:
                await self.service.release_connection(cached[0])
        self._reader = self._writer = None
