"""Fault-injecting TCP proxy: one per devcluster instance, in front of its real server.

A :class:`FaultProxy` listens on the instance's own loopback address (``127.0.S.i:PORT``)
and forwards every connection to the real server (``127.0.0.1:server_port``). Faults
(:class:`~aws_wrapper_devcluster.model.Fault`) take effect immediately, for new and for
established connections::

    proxy = FaultProxy("127.0.5.2", 5432, "127.0.0.1", 40001, name="devcluster-2")
    await proxy.start()
    proxy.set_fault(Fault(FaultKind.BLACKHOLE))   # connects hang, queries stall
    proxy.set_fault(HEALTHY)                      # everything flows again
    await proxy.stop()

Faults, as a client sees them:

``none``
    Transparent forwarding in both directions, with backpressure (a slow reader slows its
    writer down; nothing is buffered without bound) and half-close: an EOF from one side
    is passed on as an EOF to the other, and the pair is closed once both sides ended.
    An error (reset) on one side resets the other. When the real server refuses the
    connection, the client's connection is reset at once.
``blackhole``
    New connects hang: the SYN packets are dropped, so ``connect`` times out (it is not
    refused). On Linux this is a classic BPF program ("drop every packet") attached to the
    listening socket: the kernel discards SYNs before they reach the accept queue, and no
    connection completes its handshake. Connections already in the accept queue are not
    accepted and get no byte. Elsewhere (no ``SO_ATTACH_FILTER``) the proxy stops accepting
    and shrinks the listen backlog to 0, so the accept queue fills up after the first
    connection, after which the kernel drops SYNs too (``tcp_abort_on_overflow=0``).
    Established connections stall: nothing is forwarded in either direction and neither
    socket is read, so the client's reads hang and its writes fill kernel buffers and then
    block (no error). Bytes are held, not dropped: after a heal the streams continue
    intact, like TCP after a short partition. (TCP keepalive probes and
    ``tcp_user_timeout`` of the client are still answered by the proxy's kernel.)
``reject``
    The listening socket is closed, so connects are refused (``ECONNREFUSED``), and every
    established connection is reset (RST) on both sides. Heal listens again on the same
    address and port.
``latency``
    Every chunk read from either side is forwarded ``latency_ms`` after it was read,
    in order (a round trip is slowed down by twice the latency). Changing the latency
    applies to chunks still waiting too.

Heal (``set_fault(HEALTHY)``): forwarding resumes, connections queued during a blackhole
are accepted and served, and clients whose SYNs were dropped get in with their next SYN
retransmission (Linux retries after 1, 3, 7, 15... seconds).

Everything runs on one asyncio event loop: many proxies share a loop with a few callbacks
per chunk (``asyncio.Protocol`` transports, no task per connection once it is set up).
All methods must be called from that loop's thread (other threads: use
``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import enum
import errno
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any, Protocol, cast

from aws_wrapper_devcluster.model import HEALTHY, Fault, FaultKind

__all__ = ["FaultProxy", "StreamTransform"]

log = logging.getLogger(__name__)

#: Listen backlog when accepting (bursts of connects from pools must not overflow it).
LISTEN_BACKLOG = 512
#: Write buffer limits of each socket: above HIGH the other socket stops being read.
WRITE_HIGH_WATER = 256 * 1024
WRITE_LOW_WATER = 64 * 1024
#: Bytes held back per direction (latency, blackhole, server still connecting) above
#: which the source socket stops being read.
HOLD_HIGH_WATER = 256 * 1024
HOLD_LOW_WATER = 64 * 1024
#: Connections accepted per readiness callback of the listening socket.
_ACCEPT_BATCH = 64
#: Pause before accepting again after running out of file descriptors.
_ACCEPT_ERROR_PAUSE = 0.1

_SO_ATTACH_FILTER: int = getattr(socket, "SO_ATTACH_FILTER", 26)
_SO_DETACH_FILTER: int = getattr(socket, "SO_DETACH_FILTER", 27)
# One classic BPF instruction, ``ret #0``: keep 0 bytes of the packet, i.e. drop it.
_BPF_RET_K = 0x06
_DROP_ALL_INSNS = ctypes.create_string_buffer(struct.pack("@HBBI", _BPF_RET_K, 0, 0, 0), 8)
# struct sock_fprog { unsigned short len; struct sock_filter *filter; }
_DROP_ALL_PROG = struct.pack("@HP", 1, ctypes.addressof(_DROP_ALL_INSNS))
_LINGER_RESET = struct.pack("ii", 1, 0)

_FD_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class StreamTransform(Protocol):
    """Per-connection byte rewriter (for example the MySQL metadata relay).

    Called with every chunk read from one side, in order; returns the bytes to forward
    (``b""`` forwards nothing). Chunk boundaries are arbitrary: a transform that parses
    a protocol keeps its own buffer. An exception resets the connection."""

    def client_to_server(self, data: bytes) -> bytes: ...

    def server_to_client(self, data: bytes) -> bytes: ...


# --------------------------------------------------------------------------- connections

_PAUSE_BACKPRESSURE = 1
"""The other socket's write buffer is above its high-water mark."""
_PAUSE_HOLD = 2
"""Too many bytes of this direction are held back (latency, blackhole, connecting)."""
_PAUSE_FAULT = 4
"""Blackhole."""


class _Mark(enum.Enum):
    EOF = "eof"
    RESET = "reset"


_Item = bytes | _Mark


def _reset(transport: asyncio.Transport) -> None:
    """Close a socket transport with an RST (SO_LINGER 0), discarding unsent data."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of a proxied connection: the client's or the server's."""

    __slots__ = ("conn", "eof", "inbound", "outbound", "paused", "transport")

    def __init__(self, conn: _Connection) -> None:
        self.conn = conn
        self.transport: asyncio.Transport | None = None
        self.paused = 0
        self.eof = False
        # Set by _Connection: the pipe this side feeds, and the pipe that writes to it.
        self.inbound: _Pipe
        self.outbound: _Pipe

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr = cast(asyncio.Transport, transport)
        if self.conn.closed:
            _reset(tr)
            return
        self.transport = tr
        tr.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)
        if self.paused:
            tr.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.inbound.receive(data)

    def eof_received(self) -> bool:
        self.eof = True  # the transport stops reading by itself
        self.inbound.receive(_Mark.EOF)
        return True  # keep the socket open for writing (half-close)

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.side_lost(self, exc)

    def pause_writing(self) -> None:
        self.outbound.src.pause(_PAUSE_BACKPRESSURE)

    def resume_writing(self) -> None:
        self.outbound.src.resume(_PAUSE_BACKPRESSURE)

    # reading control ---------------------------------------------------------------------

    def pause(self, reason: int) -> None:
        before = self.paused
        self.paused |= reason
        if not before and self.transport is not None and not self.eof:
            self.transport.pause_reading()

    def resume(self, reason: int) -> None:
        if not self.paused & reason:
            return
        self.paused &= ~reason
        if not self.paused and self.transport is not None and not self.eof:
            self.transport.resume_reading()


class _Pipe:
    """One direction of a connection: reads of ``src`` become writes to ``dst``."""

    __slots__ = ("conn", "delivered_eof", "dst", "got_eof", "held", "queue", "src", "timer", "xf")

    def __init__(
        self, conn: _Connection, src: _Side, dst: _Side, xf: Callable[[bytes], bytes] | None
    ) -> None:
        self.conn = conn
        self.src = src
        self.dst = dst
        self.xf = xf
        self.queue: collections.deque[tuple[float, _Item]] = collections.deque()
        self.held = 0
        self.timer: asyncio.TimerHandle | None = None
        self.got_eof = False
        self.delivered_eof = False
        src.inbound = self
        dst.outbound = self

    def receive(self, item: _Item) -> None:
        if isinstance(item, bytes):
            if self.xf is not None:
                try:
                    item = self.xf(item)
                except Exception:
                    log.exception("%s: stream transform failed; resetting", self.conn.proxy.name)
                    self.conn.close(reset=True)
                    return
                if not item:
                    return
        elif item is _Mark.EOF:
            if self.got_eof:
                return
            self.got_eof = True
        proxy = self.conn.proxy
        if (
            not self.queue
            and not proxy._delay
            and not proxy._blackholed
            and self.dst.transport is not None
        ):
            self._deliver(item)  # the common case: straight through
            return
        self.queue.append((proxy._loop_time(), item))
        if isinstance(item, bytes):
            self.held += len(item)
            if self.held > HOLD_HIGH_WATER:
                self.src.pause(_PAUSE_HOLD)
        if self.timer is None:
            self.flush()

    def flush(self) -> None:
        """Deliver every held item that is due; schedule a timer for the next one."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        proxy = self.conn.proxy
        if proxy._blackholed or self.dst.transport is None:
            return
        delay = proxy._delay
        now = proxy._loop_time()
        while self.queue and not self.conn.closed:
            received, item = self.queue[0]
            due = received + delay
            if due > now:
                self.timer = proxy._call_at(due, self.flush)
                return
            self.queue.popleft()
            if isinstance(item, bytes):
                self.held -= len(item)
                if self.held <= HOLD_LOW_WATER:
                    self.src.resume(_PAUSE_HOLD)
            self._deliver(item)

    def _deliver(self, item: _Item) -> None:
        tr = self.dst.transport
        assert tr is not None
        if isinstance(item, bytes):
            tr.write(item)
        elif item is _Mark.EOF:
            self.delivered_eof = True
            if tr.can_write_eof():
                try:
                    tr.write_eof()
                except OSError:  # (ENOTCONN: its peer is gone already) nothing to half-close
                    self.conn.close(reset=True)
                    return
                self.conn.check_done()
            else:
                self.conn.close(reset=False)
        else:
            self.conn.close(reset=True)

    def discard(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.held = 0


class _Connection:
    """A client connection and its connection to the real server."""

    __slots__ = ("client", "closed", "down", "proxy", "server", "task", "up")

    def __init__(self, proxy: FaultProxy, transform: StreamTransform | None) -> None:
        self.proxy = proxy
        self.client = _Side(self)
        self.server = _Side(self)
        self.up = _Pipe(
            self, self.client, self.server, transform.client_to_server if transform else None
        )
        self.down = _Pipe(
            self, self.server, self.client, transform.server_to_client if transform else None
        )
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        if proxy._blackholed:
            self.client.pause(_PAUSE_FAULT)
            self.server.pause(_PAUSE_FAULT)

    async def setup(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        proxy = self.proxy
        try:
            await loop.connect_accepted_socket(lambda: self.client, sock)
        except OSError as exc:
            log.debug("%s: accepted connection unusable: %s", proxy.name, exc)
            sock.close()
            self.close(reset=True)
            return
        try:
            await loop.create_connection(lambda: self.server, proxy.target_host, proxy.target_port)
        except OSError as exc:
            log.debug("%s: server %s:%s: %s", proxy.name, proxy.target_host, proxy.target_port, exc)
            self.close(reset=True)  # the client sees a reset at once, not a hang
            return
        if not self.closed:
            self.up.flush()  # what the client sent meanwhile

    def set_blackholed(self, blackholed: bool) -> None:
        for side in (self.client, self.server):
            if blackholed:
                side.pause(_PAUSE_FAULT)
            else:
                side.resume(_PAUSE_FAULT)
        for pipe in (self.up, self.down):
            pipe.flush()

    def side_lost(self, side: _Side, exc: Exception | None) -> None:
        side.transport = None
        if self.closed:
            return
        if exc is None:
            self.close(reset=False)
            return
        # An error (usually a reset) on one side resets the other, after what was read
        # from it before (in order, so latency applies to the reset too).
        pipe = side.inbound
        if side is self.client and self.server.transport is None:
            self.close(reset=True)  # still connecting to the server: give up
            return
        pipe.receive(_Mark.RESET)

    def check_done(self) -> None:
        if self.up.delivered_eof and self.down.delivered_eof:
            self.close(reset=False)

    def close(self, *, reset: bool = False, abort: bool = False) -> None:
        """Close both sockets: gracefully (flush, FIN), ``abort`` (no flush) or ``reset``
        (RST)."""
        if self.closed:
            return
        self.closed = True
        self.proxy._conns.discard(self)
        self.up.discard()
        self.down.discard()
        if self.task is not None and not self.task.done():
            self.task.cancel()
        for side in (self.client, self.server):
            tr = side.transport
            if tr is None:
                continue
            if reset:
                _reset(tr)
            elif abort:
                tr.abort()
            else:
                tr.close()


# --------------------------------------------------------------------------- the proxy


class FaultProxy:
    """Forward ``listen_host:listen_port`` to ``target_host:target_port``, with faults.

    See the module documentation for what each fault does. ``transform_factory`` is
    called once per accepted connection; its transform sees every chunk in each direction.
    """

    def __init__(
        self,
        listen_host: str,
        listen_port: int,
        target_host: str,
        target_port: int,
        *,
        name: str,
        transform_factory: Callable[[], StreamTransform] | None = None,
    ) -> None:
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.target_host = target_host
        self.target_port = target_port
        self.name = name
        self._transform_factory = transform_factory
        self._fault = HEALTHY
        self._delay = 0.0
        self._blackholed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._family = socket.AF_INET
        self._sockaddr: tuple[Any, ...] | None = None
        self._lsock: socket.socket | None = None
        self._accepting = False
        self._dropping = False
        """Blackhole mode of the listening socket: SYNs are dropped."""
        self._filtered = False
        """The drop-everything BPF filter is attached to the listening socket."""
        self._filter_used = False
        self._accept_retry: asyncio.TimerHandle | None = None
        self._conns: set[_Connection] = set()

    def __repr__(self) -> str:
        return (
            f"<FaultProxy {self.name} {self.listen_host}:{self.listen_port} -> "
            f"{self.target_host}:{self.target_port} fault={self._fault} "
            f"connections={len(self._conns)}>"
        )

    # public API --------------------------------------------------------------------------

    @property
    def fault(self) -> Fault:
        return self._fault

    @property
    def active_connections(self) -> int:
        return len(self._conns)

    @property
    def listening(self) -> bool:
        """True while a listening socket is open (not stopped, not rejecting)."""
        return self._lsock is not None

    async def start(self) -> None:
        """Bind and listen (SO_REUSEADDR), then accept (unless the fault says otherwise).

        ``listen_port`` 0 picks a free port; ``listen_port`` tells which afterwards and is
        kept for later re-listens (heal after ``reject``, restart after ``stop``)."""
        if self._running:
            return
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            self.listen_host, self.listen_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, _, _, _, sockaddr = infos[0]
        self._family = family
        self._sockaddr = tuple(sockaddr)
        self._loop = loop
        self._running = True
        try:
            self._apply_listener()
        except BaseException:
            self._running = False
            self._close_listener()
            raise
        log.debug("%s: proxy started: %r", self.name, self)

    async def stop(self) -> None:
        """Close the listening socket and every connection. Idempotent; ``start`` again
        listens on the same address and port."""
        if not self._running:
            return
        self._running = False
        self._close_listener()
        tasks = [c.task for c in self._conns if c.task is not None and not c.task.done()]
        for conn in list(self._conns):
            conn.close(abort=True)  # no waiting for unwritten data
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the transports close their sockets
        log.debug("%s: proxy stopped", self.name)

    def set_fault(self, fault: Fault) -> None:
        """Switch to ``fault`` now, for new and established connections."""
        self._check_thread()
        previous = self._fault
        self._fault = fault
        self._delay = fault.latency_ms / 1000.0 if fault.kind is FaultKind.LATENCY else 0.0
        self._blackholed = fault.kind is FaultKind.BLACKHOLE
        if fault != previous:
            log.info("%s: fault %s -> %s", self.name, previous, fault)
        if fault.kind is FaultKind.REJECT:
            self.reset_connections()
        else:
            for conn in list(self._conns):
                conn.set_blackholed(self._blackholed)
        if self._running:
            self._apply_listener()

    def reset_connections(self) -> None:
        """Reset (RST) every established connection on both sides."""
        self._check_thread()
        for conn in list(self._conns):
            conn.close(reset=True)

    # internals ---------------------------------------------------------------------------

    def _check_thread(self) -> None:
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:
            raise RuntimeError(
                f"{self.name}: FaultProxy used outside its event loop "
                "(use loop.call_soon_threadsafe)"
            )

    def _loop_time(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        assert self._loop is not None
        return self._loop.call_at(when, callback)

    def _apply_listener(self) -> None:
        """Make the listening socket match the fault."""
        kind = self._fault.kind
        if kind is FaultKind.REJECT:
            self._close_listener()
            return
        drop = kind is FaultKind.BLACKHOLE
        if self._lsock is None:
            self._open_listener(drop=drop)
        if drop:
            self._set_accepting(False)
            self._set_dropping(True)
        else:
            self._set_dropping(False)
            self._set_accepting(True)

    def _open_listener(self, *, drop: bool) -> None:
        assert self._sockaddr is not None
        sock = socket.socket(self._family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(False)
            # The filter goes on before listen(): not a single SYN gets through.
            self._filtered = drop and self._attach_filter(sock)
            sock.bind(self._sockaddr)
            sock.listen(0 if drop and not self._filtered else LISTEN_BACKLOG)
        except BaseException:
            sock.close()
            raise
        self._lsock = sock
        self._dropping = drop
        if not self.listen_port:
            self.listen_port = sock.getsockname()[1]
            self._sockaddr = (self._sockaddr[0], self.listen_port, *self._sockaddr[2:])

    def _close_listener(self) -> None:
        self._set_accepting(False)
        if self._lsock is not None:
            self._lsock.close()  # the kernel resets connections still in the accept queue
            self._lsock = None
        self._dropping = False
        self._filtered = False

    def _attach_filter(self, sock: socket.socket) -> bool:
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, _DROP_ALL_PROG)
        except OSError as exc:
            log.debug("%s: no SO_ATTACH_FILTER (%s): backlog 0 instead", self.name, exc)
            return False
        self._filter_used = True
        return True

    def _set_dropping(self, drop: bool) -> None:
        """Make the kernel drop SYNs to the listening socket: connects hang."""
        sock = self._lsock
        if sock is None or drop == self._dropping:
            return
        self._dropping = drop
        if drop:
            self._filtered = self._attach_filter(sock)
            if not self._filtered:
                # No socket filters: with nobody accepting, the accept queue fills up
                # after a connection and the kernel drops further SYNs.
                sock.listen(0)
        elif self._filtered:
            sock.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
            self._filtered = False
        else:
            sock.listen(LISTEN_BACKLOG)

    def _set_accepting(self, on: bool) -> None:
        if self._accept_retry is not None:
            self._accept_retry.cancel()
            self._accept_retry = None
        on = on and self._lsock is not None and self._loop is not None
        if on == self._accepting:
            return
        assert self._loop is not None and self._lsock is not None
        if on:
            self._loop.add_reader(self._lsock.fileno(), self._accept_ready)
        else:
            self._loop.remove_reader(self._lsock.fileno())
        self._accepting = on

    def _accept_ready(self) -> None:
        sock = self._lsock
        for _ in range(_ACCEPT_BATCH):
            if sock is None or not self._accepting:
                return
            try:
                conn_sock, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in _FD_EXHAUSTED:
                    log.warning("%s: accept: %s; pausing", self.name, exc)
                    self._set_accepting(False)
                    assert self._loop is not None
                    self._accept_retry = self._loop.call_later(
                        _ACCEPT_ERROR_PAUSE, self._resume_accepting
                    )
                    return
                log.warning("%s: accept: %s", self.name, exc)
                continue
            self._adopt(conn_sock)

    def _resume_accepting(self) -> None:
        self._accept_retry = None
        if self._running and self._fault.kind in (FaultKind.NONE, FaultKind.LATENCY):
            self._set_accepting(True)

    def _adopt(self, sock: socket.socket) -> None:
        if self._filter_used:
            # Defensive: a socket created while the listener had its filter inherits it.
            # (The kernel filters the handshake's last ACK too, so it should not happen.)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
        transform = None
        if self._transform_factory is not None:
            try:
                transform = self._transform_factory()
            except Exception:
                log.exception("%s: transform factory failed; closing the connection", self.name)
                sock.close()
                return
        conn = _Connection(self, transform)
        self._conns.add(conn)
        assert self._loop is not None
        task = self._loop.create_task(conn.setup(sock), name=f"{self.name}-connect")
        conn.task = task
        task.add_done_callback(_clear_task(conn))


def _clear_task(conn: _Connection) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        conn.task = None
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: connection setup failed", conn.proxy.name, exc_info=task.exception())
            conn.close(reset=True)

    return done
