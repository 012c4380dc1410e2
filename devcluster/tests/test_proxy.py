"""The devcluster's fault-injecting TCP proxy, with real sockets and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from aws_wrapper_devcluster import PostgresServer
from aws_wrapper_devcluster import proxy as proxy_module
from aws_wrapper_devcluster.model import HEALTHY, Fault, FaultKind
from aws_wrapper_devcluster.proxy import FaultProxy, StreamTransform

pytestmark = pytest.mark.timeout(30)

BLACKHOLE = Fault(FaultKind.BLACKHOLE)
REJECT = Fault(FaultKind.REJECT)

# A loopback address of its own for each proxy, like the instances of a devcluster.
_next_host = iter(f"127.0.77.{i}" for i in range(1, 255))


# --------------------------------------------------------------------------- helpers


class _Server:
    """A tiny TCP server on 127.0.0.1: ``echo`` (default), ``mute`` (reads nothing)."""

    def __init__(self, mode: str = "echo") -> None:
        self.mode = mode
        self.server: asyncio.Server | None = None
        self.port = 0
        self.handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in self.handlers:
                task.cancel()
            await asyncio.gather(*self.handlers, return_exceptions=True)
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            if self.mode == "mute":
                transport = writer.transport
                assert isinstance(transport, asyncio.ReadTransport)
                transport.pause_reading()
                await asyncio.sleep(3600)
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.handlers.discard(task)
            writer.close()


@pytest.fixture
async def echo() -> AsyncIterator[_Server]:
    server = _Server()
    await server.start()
    yield server
    await server.close()


ProxyFactory = Callable[..., Awaitable[FaultProxy]]


@pytest.fixture
async def make_proxy() -> AsyncIterator[ProxyFactory]:
    """Start proxies on fresh loopback addresses; stop them and check for leftovers."""
    proxies: list[FaultProxy] = []

    async def make(target_port: int, **kwargs: Any) -> FaultProxy:
        p = FaultProxy(next(_next_host), 0, "127.0.0.1", target_port, name="test", **kwargs)
        await p.start()
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        await p.stop()
        assert p.active_connections == 0
        assert not p.listening
    await asyncio.sleep(0)
    # What is left must be the test servers' handlers (closed by their own fixtures).
    others = set(asyncio.all_tasks()) - {asyncio.current_task()}
    leaked = [t for t in others if t.get_coro().__qualname__ != "_Server._handle"]  # type: ignore[union-attr]
    assert not leaked, leaked


def addr(p: FaultProxy) -> tuple[str, int]:
    return (p.listen_host, p.listen_port)


async def open_conn(p: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(*addr(p)), 2)


async def round_trip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes = b"ping"
) -> float:
    start = time.monotonic()
    writer.write(data)
    assert await asyncio.wait_for(reader.readexactly(len(data)), 5) == data
    return time.monotonic() - start


def connect_outcome(address: tuple[str, int], timeout: float = 1.0) -> str:
    """How a plain TCP connect ends: ``timeout``, ``refused`` or ``connected``."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return "connected"
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"


def reset_stream(writer: asyncio.StreamWriter) -> None:
    """Close ``writer``'s connection with a reset (RST), not an end of stream."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- forwarding


async def test_forwards_both_ways_with_half_close(echo: _Server, make_proxy: ProxyFactory) -> None:
    p = await make_proxy(echo.port)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    assert p.active_connections == 1

    payload = os.urandom(4 * 1024 * 1024)  # more than any buffer: backpressure both ways
    writer.write(payload)
    assert await asyncio.wait_for(reader.readexactly(len(payload)), 10) == payload

    writer.write_eof()  # half-close: the echo server sees EOF, echoes the rest and closes
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    await until(lambda: p.active_connections == 0)


async def test_backpressure_bounds_buffering(make_proxy: ProxyFactory) -> None:
    mute = _Server("mute")
    await mute.start()
    try:
        p = await make_proxy(mute.port)
        _, writer = await open_conn(p)
        chunk = b"x" * (1 << 20)
        written = 0
        while written < 256 * (1 << 20):
            writer.write(chunk)
            written += len(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 0.5)
            except TimeoutError:
                break
        # Kernel buffers on four sockets plus the proxy's own limits; never everything.
        print(f"accepted {written / (1 << 20):.0f} MiB before blocking")
        assert written < 96 * (1 << 20), f"{written} bytes accepted by a server that reads none"
        writer.transport.abort()
    finally:
        await mute.close()


async def test_server_refusing_closes_client_promptly(make_proxy: ProxyFactory) -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    p = await make_proxy(dead_port)
    reader, writer = await open_conn(p)
    writer.write(b"hello")
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 1)
    writer.close()
    await until(lambda: p.active_connections == 0)


async def test_server_closing_reaches_client(make_proxy: ProxyFactory) -> None:
    async def greet_and_close(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet_and_close, "127.0.0.1", 0)
    try:
        p = await make_proxy(server.sockets[0].getsockname()[1])
        reader, writer = await open_conn(p)
        assert await asyncio.wait_for(reader.read(), 2) == b"bye"  # then EOF
        writer.close()
        await until(lambda: p.active_connections == 0)
    finally:
        server.close()
        await server.wait_closed()


async def test_server_reset_reaches_client_as_reset(make_proxy: ProxyFactory) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(4)
        writer.write(b"last")
        await writer.drain()
        reset_stream(writer)

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    try:
        p = await make_proxy(server.sockets[0].getsockname()[1])
        reader, writer = await open_conn(p)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), 2) == b"last"  # data first
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1), 2)
        writer.close()
        await until(lambda: p.active_connections == 0)
    finally:
        server.close()
        await server.wait_closed()


async def test_transform_hooks(echo: _Server, make_proxy: ProxyFactory) -> None:
    created: list[StreamTransform] = []

    class Tag:
        def client_to_server(self, data: bytes) -> bytes:
            return data.upper()

        def server_to_client(self, data: bytes) -> bytes:
            return data.replace(b"PING", b"PONG")

    def factory() -> StreamTransform:
        created.append(Tag())
        return created[-1]

    p = await make_proxy(echo.port, transform_factory=factory)
    reader, writer = await open_conn(p)
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), 2) == b"PONG"
    reader2, writer2 = await open_conn(p)
    writer2.write(b"abc")
    assert await asyncio.wait_for(reader2.readexactly(3), 2) == b"ABC"
    assert len(created) == 2  # one transform per connection
    writer.close()
    writer2.close()


async def test_transform_error_resets_connection(echo: _Server, make_proxy: ProxyFactory) -> None:
    class Broken:
        def client_to_server(self, data: bytes) -> bytes:
            raise ValueError("boom")

        def server_to_client(self, data: bytes) -> bytes:
            return data

    p = await make_proxy(echo.port, transform_factory=Broken)
    reader, writer = await open_conn(p)
    writer.write(b"x")
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), 2)
    writer.close()


async def test_many_proxies_in_one_loop(echo: _Server, make_proxy: ProxyFactory) -> None:
    proxies = [await make_proxy(echo.port) for _ in range(6)]
    conns = [await open_conn(p) for p in proxies for _ in range(3)]

    async def chat(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in range(50):
            await round_trip(reader, writer, b"%d" % i)

    await asyncio.gather(*(chat(r, w) for r, w in conns))
    assert [p.active_connections for p in proxies] == [3] * 6
    for _, w in conns:
        w.close()


# --------------------------------------------------------------------------- blackhole


def _try_pymysql(address: tuple[str, int]) -> str:
    try:
        pymysql.connect(host=address[0], port=address[1], user="x", connect_timeout=1)
    except pymysql.err.OperationalError as exc:
        return "timeout" if "timed out" in str(exc) else f"error: {exc}"
    return "connected"


def _try_psycopg(address: tuple[str, int]) -> str:
    try:
        # libpq rounds connect_timeout up to 2 s
        psycopg.connect(host=address[0], port=address[1], user="x", connect_timeout=1)
    except psycopg.OperationalError as exc:
        return "timeout" if "timeout expired" in str(exc) else f"error: {exc}"
    return "connected"


async def test_blackhole_connects_time_out_not_refused(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    p.set_fault(BLACKHOLE)
    assert p.fault == BLACKHOLE
    address = addr(p)
    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        tcp = [pool.submit(connect_outcome, address) for _ in range(20)]
        mysql = pool.submit(_try_pymysql, address)
        pg = pool.submit(_try_psycopg, address)
        outcomes = await asyncio.to_thread(lambda: [f.result() for f in tcp])
        assert outcomes == ["timeout"] * 20
        assert await asyncio.to_thread(mysql.result) == "timeout"
        assert await asyncio.to_thread(pg.result) == "timeout"
    assert p.active_connections == 0

    p.set_fault(HEALTHY)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


async def test_blackhole_connect_in_progress_gets_in_after_heal(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    p.set_fault(BLACKHOLE)
    pending = asyncio.ensure_future(open_conn(p))
    await asyncio.sleep(0.3)
    assert not pending.done()
    p.set_fault(HEALTHY)
    # The kernel retransmits the dropped SYN after 1 s.
    reader, writer = await asyncio.wait_for(pending, 3)
    await round_trip(reader, writer)
    writer.close()


async def test_blackhole_stalls_established_connection_then_heal_resumes(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)

    p.set_fault(BLACKHOLE)
    writer.write(b"held")
    await asyncio.wait_for(writer.drain(), 1)  # writes do not fail
    read = asyncio.ensure_future(reader.readexactly(4))
    await asyncio.sleep(0.5)
    assert not read.done()  # reads hang
    assert p.active_connections == 1

    p.set_fault(HEALTHY)
    assert await asyncio.wait_for(read, 2) == b"held"  # nothing was lost
    await round_trip(reader, writer)
    writer.close()


async def test_blackhole_connection_in_accept_queue_is_served_after_heal(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    # Connect without yielding to the loop: the kernel completes the handshake and queues
    # the connection, then the blackhole starts before the proxy could accept it.
    sock = socket.create_connection(addr(p), timeout=1)
    p.set_fault(BLACKHOLE)
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(b"ping")
    reply = asyncio.ensure_future(reader.readexactly(4))
    await asyncio.sleep(0.3)
    assert not reply.done()  # no byte while blackholed
    assert p.active_connections == 0  # not even accepted
    p.set_fault(HEALTHY)
    assert await asyncio.wait_for(reply, 2) == b"ping"
    assert p.active_connections == 1
    writer.close()


async def test_blackhole_without_socket_filters_uses_the_accept_queue(
    echo: _Server, make_proxy: ProxyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback for kernels without SO_ATTACH_FILTER: backlog 0 and no accept()."""
    monkeypatch.setattr(proxy_module, "_SO_ATTACH_FILTER", -1)  # setsockopt fails
    p = await make_proxy(echo.port)
    p.set_fault(BLACKHOLE)
    # The first connection fills the accept queue (Linux: backlog + 1 entries): the kernel
    # completes its handshake, but nobody accepts it, so no byte comes back.
    reader, writer = await open_conn(p)
    writer.write(b"ping")
    reply = asyncio.ensure_future(reader.readexactly(4))
    address = addr(p)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(connect_outcome, address) for _ in range(8)]
        outcomes = await asyncio.to_thread(lambda: [f.result() for f in futures])
    assert not reply.done()
    # Further SYNs are dropped (tcp_abort_on_overflow=0): connects hang, none is refused.
    # (Kernels whose queue holds one more let one more in.)
    assert outcomes.count("timeout") >= 7, outcomes
    assert set(outcomes) <= {"timeout", "connected"}

    p.set_fault(HEALTHY)  # the queued connection is accepted and served
    assert await asyncio.wait_for(reply, 2) == b"ping"
    writer.close()
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


# --------------------------------------------------------------------------- reject


async def test_reject_refuses_and_resets_then_heal_listens_again(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    port = p.listen_port
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)

    p.set_fault(REJECT)
    assert p.active_connections == 0
    assert not p.listening
    started = time.monotonic()
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), 1)
    assert time.monotonic() - started < 0.5
    writer.close()
    assert await asyncio.to_thread(connect_outcome, addr(p)) == "refused"

    p.set_fault(HEALTHY)
    assert p.listen_port == port
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


async def test_reset_connections_keeps_listening(echo: _Server, make_proxy: ProxyFactory) -> None:
    p = await make_proxy(echo.port)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    p.reset_connections()
    assert p.active_connections == 0
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), 1)
    writer.close()
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


async def test_fault_transitions(echo: _Server, make_proxy: ProxyFactory) -> None:
    """Every fault after every other one, ending healthy and working."""
    p = await make_proxy(echo.port)
    faults = [BLACKHOLE, REJECT, BLACKHOLE, Fault(FaultKind.LATENCY, 10), REJECT, HEALTHY]
    for fault in faults:
        p.set_fault(fault)
        assert p.listening == (fault.kind is not FaultKind.REJECT)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


# --------------------------------------------------------------------------- latency


async def test_latency_delays_each_direction_in_order(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    reader, writer = await open_conn(p)
    healthy = min([await round_trip(reader, writer) for _ in range(3)])

    p.set_fault(Fault(FaultKind.LATENCY, 100))
    slow = [await round_trip(reader, writer) for _ in range(3)]
    # 100 ms each way; generous upper bound for loaded machines
    assert all(0.19 <= rt < 1.0 for rt in slow), slow
    assert healthy < 0.1

    # Many small chunks in flight at once: delayed, not serialized, and in order.
    started = time.monotonic()
    expected = b""
    for i in range(50):
        piece = b"<%d>" % i
        expected += piece
        writer.write(piece)
        await asyncio.sleep(0.002)
    assert await asyncio.wait_for(reader.readexactly(len(expected)), 5) == expected
    assert 0.2 <= time.monotonic() - started < 1.5

    # Bulk data under latency: held bytes are bounded (reads pause), nothing is lost.
    payload = os.urandom(2 * 1024 * 1024)
    writer.write(payload)
    assert await asyncio.wait_for(reader.readexactly(len(payload)), 10) == payload

    p.set_fault(HEALTHY)
    assert await round_trip(reader, writer) < 0.1
    writer.close()


async def test_heal_delivering_an_end_of_stream_to_a_reset_server_resets_the_client(
    make_proxy: ProxyFactory,
) -> None:
    """A client's end of stream held by latency, delivered at the heal to a server side
    whose peer has reset meanwhile (unnoticed: a side that got its end of stream reads no
    more), finds nothing to half-close (ENOTCONN): that connection is reset, and the heal
    goes on instead of failing."""
    go_away = asyncio.Event()

    async def half_close_then_reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write_eof()
        await go_away.wait()
        reset_stream(writer)

    server = await asyncio.start_server(half_close_then_reset, "127.0.0.1", 0)
    try:
        p = await make_proxy(server.sockets[0].getsockname()[1])
        reader, writer = await open_conn(p)
        assert await asyncio.wait_for(reader.read(), 2) == b""  # the server's end of stream
        go_away.set()
        await asyncio.sleep(0.2)  # its reset reaches the proxy, which reads that side no more
        assert p.active_connections == 1

        p.set_fault(Fault(FaultKind.LATENCY, 10_000))
        writer.write_eof()  # held by the latency
        await asyncio.sleep(0.1)
        p.set_fault(HEALTHY)  # delivers it: ENOTCONN

        await until(lambda: p.active_connections == 0)
        writer.close()
        go_away.clear()  # the proxy still serves new connections
        reader, writer = await open_conn(p)
        assert await asyncio.wait_for(reader.read(), 2) == b""
        go_away.set()
        writer.close()
        await until(lambda: p.active_connections == 0)
    finally:
        server.close()
        await server.wait_closed()


# --------------------------------------------------------------------------- stop


async def test_stop_is_idempotent_and_closes_everything(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    p.set_fault(Fault(FaultKind.LATENCY, 50))
    writer.write(b"in flight")  # held in the latency queue: its timer must go too
    await asyncio.sleep(0.02)

    await p.stop()
    await p.stop()
    assert not p.listening
    assert p.active_connections == 0
    try:
        assert await asyncio.wait_for(reader.read(), 1) == b""
    except ConnectionResetError:
        pass  # when the proxy's socket still had unread bytes (Linux: RST on close)
    writer.close()
    assert await asyncio.to_thread(connect_outcome, addr(p)) == "refused"
    assert _sockets_on(addr(p)) == []

    await p.start()  # again, same address
    reader, writer = await open_conn(p)
    await round_trip(reader, writer)
    writer.close()


def _sockets_on(address: tuple[str, int]) -> list[str]:
    """States (hex, as in /proc/net/tcp) of sockets with local address ``address``
    other than TIME_WAIT (06)."""
    host = socket.inet_aton(address[0])[::-1].hex().upper()
    local = f"{host}:{address[1]:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = [line.split() for line in lines]
    return [f[3] for f in fields if f[1] == local and f[3] != "06"]


async def test_fault_before_start(echo: _Server) -> None:
    p = FaultProxy(next(_next_host), 0, "127.0.0.1", echo.port, name="early")
    p.set_fault(REJECT)
    await p.start()
    try:
        assert not p.listening
        p.set_fault(HEALTHY)
        reader, writer = await open_conn(p)
        await round_trip(reader, writer)
        writer.close()
    finally:
        await p.stop()


async def test_set_fault_from_another_thread_is_refused(
    echo: _Server, make_proxy: ProxyFactory
) -> None:
    p = await make_proxy(echo.port)
    with pytest.raises(RuntimeError, match="event loop"):
        await asyncio.to_thread(p.set_fault, BLACKHOLE)
    assert p.fault == HEALTHY


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
async def pg_proxy(pg_server: PostgresServer, make_proxy: ProxyFactory) -> FaultProxy:
    return await make_proxy(pg_server.conn_params()["port"])


def pg_params(pg_server: PostgresServer, p: FaultProxy, **extra: Any) -> dict[str, Any]:
    return {**pg_server.conn_params(), "host": p.listen_host, "port": p.listen_port, **extra}


async def test_psycopg_through_proxy(pg_server: PostgresServer, pg_proxy: FaultProxy) -> None:
    params = pg_params(pg_server, pg_proxy)
    async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
        cur = await conn.execute("SELECT inet_server_port(), repeat('x', 1000000)")
        row = await cur.fetchone()
        assert row is not None
        assert row[0] == pg_server.conn_params()["port"]
        assert len(row[1]) == 1_000_000
        assert pg_proxy.active_connections == 1
    await until(lambda: pg_proxy.active_connections == 0)


async def test_psycopg_blackhole_stalls_query_until_heal(
    pg_server: PostgresServer, pg_proxy: FaultProxy
) -> None:
    params = pg_params(pg_server, pg_proxy)
    async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
        pg_proxy.set_fault(BLACKHOLE)
        query = asyncio.ensure_future(conn.execute("SELECT pg_sleep(0)"))
        done, _ = await asyncio.wait([query], timeout=1.0)
        assert not done  # stalled (not cancelled: psycopg would try a cancel request)
        pg_proxy.set_fault(HEALTHY)
        cur = await asyncio.wait_for(query, 2)
        assert await cur.fetchone() == ("",)  # the same connection goes on


def _stalled_query(
    params: dict[str, Any], connected: threading.Event, go: threading.Event, fds: list[int]
) -> str:
    with psycopg.connect(**params, autocommit=True) as conn:
        fds.append(conn.fileno())
        connected.set()
        go.wait(5)
        try:
            conn.execute("SELECT pg_sleep(0)")
        except psycopg.OperationalError:
            return "aborted"
        return "completed"


async def test_psycopg_blackhole_query_hangs_until_client_aborts(
    pg_server: PostgresServer, pg_proxy: FaultProxy
) -> None:
    """A blocking driver hangs (no error from the socket) until the client gives up, the
    way a failure-detection monitor does it: shutting the socket down."""
    params = pg_params(pg_server, pg_proxy)
    connected, go = threading.Event(), threading.Event()
    fds: list[int] = []
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(_stalled_query, params, connected, go, fds)
        assert await asyncio.to_thread(connected.wait, 5)
        pg_proxy.set_fault(BLACKHOLE)  # connected: now the query stalls
        go.set()
        await asyncio.sleep(1.0)
        assert not future.done()  # hanging, not failing
        with socket.socket(fileno=os.dup(fds[0])) as s:
            s.shutdown(socket.SHUT_RDWR)  # the client-side timeout fires
        assert await asyncio.to_thread(future.result, 2) == "aborted"


async def test_psycopg_reject(pg_server: PostgresServer, pg_proxy: FaultProxy) -> None:
    params = pg_params(pg_server, pg_proxy)
    async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
        pg_proxy.set_fault(REJECT)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await asyncio.wait_for(conn.execute("SELECT 1"), 2)
        assert time.monotonic() - started < 1.0
    with pytest.raises(psycopg.OperationalError, match="refused"):
        await psycopg.AsyncConnection.connect(**params, connect_timeout=2)
    pg_proxy.set_fault(HEALTHY)
    async with await psycopg.AsyncConnection.connect(**params) as conn:
        assert await (await conn.execute("SELECT 1")).fetchone() == (1,)
