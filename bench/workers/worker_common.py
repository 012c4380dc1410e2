"""The shared part of the benchmark workers driven by ``bench/compare.py``. Standard library only.

A worker is a subprocess that runs ONE implementation (its own virtual environment): the raw
drivers and aws_wrapper in ``ours_worker.py`` (our venv), aws-advanced-python-wrapper in
``peer_worker.py`` (its own venv). Each worker file describes its variants (how to connect,
which errors mean what) by subclassing :class:`SyncVariant` / :class:`AsyncVariant` and calls
:func:`serve`. Everything else, the timed loops, the failover application, the dead-host
query, the read/write toggles and the 1,000-connection load, is here, identical for every
implementation, so that what differs between two rows of a table is the implementation only.

Protocol: the harness writes one JSON object per line on the worker's stdin,
``{"id": n, "cmd": "time", "args": {...}}``, and reads one JSON line per request back,
``{"id": n, "ok": true, "result": ...}`` or ``{"id": n, "ok": false, "error": "...",
"traceback": "..."}``. The worker keeps the original stdout for the protocol only and points
file descriptor 1 at stderr, so that stray prints (of a library) cannot corrupt it. Times are
``time.perf_counter_ns()`` inside the worker for loops, ``time.monotonic()`` for events that the
harness compares with its own clock (one system-wide clock on Linux).

Async variants run on one plain asyncio event loop (``SelectorEventLoop``, never uvloop) in a
dedicated thread of the worker; sync variants run in the worker's main thread (the failover
application in a thread of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import gc
import importlib.metadata
import inspect
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

SELECT_ONE = "SELECT 1"
ROWS_QUERY = "SELECT generate_series(1, 1000)"
ROWS_QUERY_MARIADB = "SELECT seq FROM seq_1_to_1000"
"""The 1,000-row query on MariaDB (its SEQUENCE engine; not on MySQL proper)."""
ROWS = 1000
BACKEND_TID_MARIADB = "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()"
"""The OS thread of a MariaDB (>= 10.5) connection, for pinning it."""
PATTERNS = ("reused", "new")
"""Scenario 1's call patterns: ``reused``: execute + fetchone on one cursor kept open;
``new``: a cursor per statement (cursor(), execute, fetchone, close())."""
HOSTS_ENV = "DEVCLUSTER_HOSTS_FILE"
"""The devcluster's hosts file (its fake RDS names -> loopback addresses), set by the harness.
The ours worker hands :data:`HOSTS` to aws_wrapper's name-resolution hook
(``aws_wrapper.set_name_resolver``); for the others the worker resolves the names (see
:func:`patch_getaddrinfo`)."""

RDS_SUFFIX = ".rds.amazonaws.com"
perf_ns = time.perf_counter_ns
cpu_ns = time.thread_time_ns
"""The CPU time of the calling thread: the client side of a timed loop, without the server's
or the proxy's time and without waits (see bench/compare.py, scenario 1)."""


def log(message: str) -> None:
    """A line for the harness's log of this worker (stderr)."""
    print(message, file=sys.stderr, flush=True)


# -- names -------------------------------------------------------------------------------------


class HostsFile:
    """Reads the hosts file named by ``DEVCLUSTER_HOSTS_FILE`` (``/etc/hosts`` format), again
    whenever it changes (the devcluster rewrites it on failover)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._table: dict[str, list[str]] = {}
        self._turn: dict[str, int] = {}

    def lookup(self, host: str) -> str | None:
        """The name's address: the first the file gives, but for a DB shard group endpoint
        (``.shardgrp-``, several addresses) the next one in turn, as Route 53 answers it."""
        path = os.environ.get(HOSTS_ENV)
        if not path:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                table: dict[str, list[str]] = {}
                try:
                    with open(path, encoding="utf-8") as f:
                        for line in f:
                            words = line.split("#", 1)[0].split()
                            for name in words[1:]:
                                found = table.setdefault(name.lower(), [])
                                if words[0] not in found:
                                    found.append(words[0])
                except OSError:
                    return None
                self._key, self._table = key, table
            found_now = self._table.get(host.lower())
            if not found_now:
                return None
            if len(found_now) == 1 or ".shardgrp-" not in host.lower():
                return found_now[0]
            turn = self._turn.get(host.lower(), -1) + 1
            self._turn[host.lower()] = turn
            return found_now[turn % len(found_now)]


HOSTS = HostsFile()


def patch_getaddrinfo() -> None:
    """Make ``socket.getaddrinfo`` answer the hosts file's names (others as before).

    psycopg 3 resolves host names in Python (``socket.getaddrinfo``, or the event loop's
    ``getaddrinfo``, which calls it in a thread) and hands libpq the address as ``hostaddr``;
    PyMySQL connects with ``socket.create_connection`` and aiomysql with the event loop's
    ``create_connection``: all of them go through ``socket.getaddrinfo``. So a library that
    knows nothing of the hosts file (aws-advanced-python-wrapper) reaches the devcluster's
    instances by their RDS-shaped names, for its topology and failover connections too.
    ``socket.gethostbyname`` too (the peer's blue/green monitors record the endpoints'
    addresses with it). An RDS-shaped name the file does not have (a green name after a
    blue/green switchover) does not resolve, as it would not on AWS, instead of going to the
    real DNS."""
    original, original_by_name = socket.getaddrinfo, socket.gethostbyname

    def known(host: str) -> str:
        address = HOSTS.lookup(host)
        if address is not None:
            return address
        if host.lower().endswith(RDS_SUFFIX) and os.environ.get(HOSTS_ENV):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return host

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str):
            host = known(host)
        return original(host, port, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        return original_by_name(known(host))

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname


def resolved(target: Mapping[str, Any]) -> str:
    """The address of ``target``'s host (hosts file first), for the raw drivers."""
    host = str(target["host"])
    return HOSTS.lookup(host) or host


# -- variants ------------------------------------------------------------------------------------


class BaseVariant:
    """One implementation in one world. ``target`` (from the harness) has ``engine``
    (``postgresql``/``mysql``), ``host``, ``port``, ``user``, ``password``, ``database``;
    ``props`` are wrapper properties (``plugins``, ``failure_detection_time_ms``, ...), ignored
    by the raw drivers."""

    name = ""
    world = ""
    wrapper = True

    def failover_success(self, error: BaseException) -> bool:
        """Is ``error`` the wrapper's "failed over, re-run your statement" signal?"""
        return False

    def is_network_error(self, error: BaseException) -> bool:
        """Is ``error`` what a call aborted by a dead-host monitor raises?"""
        return False

    def describe(self, conn: Any) -> str:
        """Which plugins the connection runs (for the report; best effort)."""
        return ""

    def pooled_provider(self) -> Any:
        """An internal connection pool provider for read/write splitting (or None)."""
        return None


class SyncVariant(BaseVariant):
    world = "sync"

    def connect(self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any) -> Any:
        raise NotImplementedError

    def cursor(self, conn: Any) -> Any:
        return conn.cursor()

    def set_read_only(self, conn: Any, value: bool) -> None:
        conn.read_only = value

    def close(self, conn: Any) -> None:
        conn.close()

    def release(self) -> None:
        """Stop the implementation's background work (monitors, pools)."""


class AsyncVariant(BaseVariant):
    world = "async"

    async def connect(
        self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
    ) -> Any:
        raise NotImplementedError

    async def cursor(self, conn: Any) -> Any:
        """``conn.cursor()``, awaited when the driver's is a coroutine (aiomysql,
        mysql.connector.aio)."""
        cur = conn.cursor()
        if inspect.isawaitable(cur):
            cur = await cur
        return cur

    async def set_read_only(self, conn: Any, value: bool) -> None:
        await conn.set_read_only(value)

    async def close(self, conn: Any) -> None:
        """``conn.close()``, awaited when it is a coroutine (aiomysql's is not)."""
        done = conn.close()
        if inspect.isawaitable(done):
            await done

    async def release(self) -> None:
        """Stop the implementation's background work (monitors, pools)."""


Variant = SyncVariant | AsyncVariant


class BenchError(Exception):
    """A measurement cannot be made; the message says why (sent to the harness)."""


# -- the worker ----------------------------------------------------------------------------------


class LoopThread:
    """One asyncio event loop running in its own thread for the whole life of the worker."""

    def __init__(self) -> None:
        self.loop = asyncio.SelectorEventLoop()
        self._thread = threading.Thread(target=self._run, name="bench-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def proc_status_kb(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in kB (0 if unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


class Session:
    """A connection held by the harness's key, with one reused cursor."""

    def __init__(
        self,
        variant: Variant,
        conn: Any,
        cur: Any,
        extra: Any = None,
        rows_query: str = ROWS_QUERY,
        cursor_awaitable: bool = False,
    ) -> None:
        self.variant = variant
        self.conn = conn
        self.cur = cur
        self.extra = extra
        """The reader connection of the raw read/write baseline; the provider otherwise."""
        self.rows_query = rows_query
        self.cursor_awaitable = cursor_awaitable
        """Async: ``conn.cursor()`` returns a coroutine (aiomysql, mysql.connector.aio)."""


class Recorder:
    """What the failover application saw; shared by the application (thread or task) and the
    command thread. Times are ``time.monotonic()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed = False
        self.error_at: float | None = None
        self.error_text = ""
        self.recovered_at: float | None = None
        self.last_ok_before: float | None = None
        self.failovers_seen = 0
        self.stray = 0
        self.streak = 0
        self.streak_since = time.monotonic()
        self.writes = 0
        self.last_ok: float | None = None
        self.failure: str | None = None
        self.stopped = False

    def arm(self) -> None:
        with self._lock:
            self.armed = True
            self.error_at = self.recovered_at = self.last_ok_before = None
            self.error_text = ""
            self.failovers_seen = 0

    def ok(self, now: float) -> None:
        with self._lock:
            self.writes += 1
            if self.streak == 0:
                self.streak_since = now
            self.streak += 1
            self.last_ok = now
            if self.armed and self.error_at is not None and self.recovered_at is None:
                self.recovered_at = now

    def failover(self, now: float, error: BaseException) -> None:
        with self._lock:
            self.streak = 0
            if not self.armed:
                self.stray += 1
                return
            self.failovers_seen += 1
            if self.error_at is None:
                self.error_at = now
                self.error_text = f"{type(error).__name__}: {error}"
                self.last_ok_before = self.last_ok

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self.failure = f"{type(error).__name__}: {error}"

    def steady(self, now: float, writes: int, seconds: float) -> bool:
        with self._lock:
            return self.streak >= writes and now - self.streak_since >= seconds


class Worker:
    """Executes the harness's commands (``cmd_<name>``)."""

    def __init__(self, variants: Mapping[str, Variant], info: Callable[[], dict[str, Any]]):
        self.variants = variants
        self.info = info
        self.loop = LoopThread()
        self.sessions: dict[str, Session] = {}
        self.base_threads = threading.active_count()
        self.held: list[tuple[Variant, Any]] = []
        # failover
        self.fo: tuple[Variant, Any, Recorder] | None = None
        self.fo_stop: threading.Event | asyncio.Event | None = None
        self.fo_app: threading.Thread | asyncio.Future[None] | None = None
        # dead-host detection
        self.efm: tuple[Variant, Any] | None = None
        self.efm_result: dict[str, Any] = {}
        self.efm_done = threading.Event()
        # blue/green switchover
        self.bg: tuple[Variant, BgLoad] | None = None
        # scale
        self.scale_conns: list[tuple[Any, Any]] = []
        self.scale_variant: AsyncVariant | None = None
        self.scale_count = 0
        self.scale_running = False
        self.scale_tasks: list[asyncio.Task[None]] = []
        self.scale_errors: list[str] = []
        self.scale_gate = asyncio.Event()
        self.scale_parked = 0

    def variant(self, name: str) -> Variant:
        try:
            return self.variants[name]
        except KeyError:
            raise BenchError(f"this worker has no variant {name!r} ({sorted(self.variants)})")

    def run_async(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.loop.run(coro, timeout)

    # -- general ---------------------------------------------------------------------------

    def cmd_info(self) -> dict[str, Any]:
        return {
            **self.info(),
            "pid": os.getpid(),
            "variants": sorted(self.variants),
            "python": sys.version.split()[0],
        }

    def cmd_release(self) -> None:
        for v in self.variants.values():
            if isinstance(v, SyncVariant):
                v.release()
            else:
                self.run_async(v.release(), 60)

    def cmd_close(self, key: str) -> None:
        s = self.sessions.pop(key, None)
        if s is None:
            return
        for conn in (s.conn, s.extra if s.variant.wrapper is False else None):
            if conn is None:
                continue
            with contextlib.suppress(Exception):
                if isinstance(s.variant, SyncVariant):
                    s.variant.close(conn)
                else:
                    self.run_async(s.variant.close(conn), 30)

    def cmd_close_all(self) -> None:
        for key in list(self.sessions):
            self.cmd_close(key)

    # -- per-call overhead -----------------------------------------------------------------------

    def cmd_open(
        self,
        key: str,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        rows: bool = False,
    ) -> dict[str, Any]:
        """Connect, check the queries' results (both call patterns; the 1,000-row query with
        ``rows``), return the server backend of the connection (PostgreSQL: its process;
        MariaDB: its thread) and how many first queries raised the failover signal (see
        :meth:`_check_sync`)."""
        v = self.variant(variant)
        rows_query = ROWS_QUERY if target["engine"] == "postgresql" else ROWS_QUERY_MARIADB
        if isinstance(v, SyncVariant):
            conn = v.connect(target, props, None)
            cur, failovers, backend = self._check_sync(v, conn, target, rows_query, rows)
            awaitable = False
        else:
            conn, cur, failovers, backend, awaitable = self.run_async(
                self._open_async(v, target, props, rows_query, rows), 120
            )
        self.sessions[key] = Session(v, conn, cur, None, rows_query, awaitable)
        return {
            "backend_pid": backend,
            "first_query_failovers": failovers,
            "plugins": v.describe(conn),
        }

    def _check_sync(
        self, v: SyncVariant, conn: Any, target: Mapping[str, Any], rows_query: str, rows: bool
    ) -> tuple[Any, int, int]:
        """A wrapper may answer the first query after connecting with its failover signal
        (aws-advanced-python-wrapper's aio does, on a cluster endpoint): re-run it then, as an
        application would, and count it."""
        failovers = 0
        for attempt in range(4):
            cur = v.cursor(conn)
            try:
                cur.execute(SELECT_ONE)
                row = cur.fetchone()
                break
            except Exception as e:
                if not v.failover_success(e) or attempt == 3:
                    raise
                failovers += 1
        if tuple(row) != (1,):
            raise BenchError(f"{v.name}: SELECT 1 returned {row!r}")
        other = conn.cursor()
        other.execute(SELECT_ONE)
        if tuple(other.fetchone()) != (1,):
            raise BenchError(f"{v.name}: SELECT 1 on a new cursor returned a wrong row")
        other.close()
        if target["engine"] == "postgresql":
            cur.execute("SELECT pg_backend_pid()")
        else:
            cur.execute(BACKEND_TID_MARIADB)
        backend = int(cur.fetchone()[0])
        if rows:
            cur.execute(rows_query)
            n = len(cur.fetchall())
            if n != ROWS:
                raise BenchError(f"{v.name}: the row query returned {n} rows")
        return cur, failovers, backend

    async def _open_async(
        self,
        v: AsyncVariant,
        target: Mapping[str, Any],
        props: Mapping[str, Any],
        rows_query: str,
        rows: bool,
    ) -> tuple[Any, Any, int, int, bool]:
        conn = await v.connect(target, props, None)
        failovers = 0
        for attempt in range(4):
            cur = await v.cursor(conn)
            try:
                await cur.execute(SELECT_ONE)
                row = await cur.fetchone()
                break
            except Exception as e:
                if not v.failover_success(e) or attempt == 3:
                    raise
                failovers += 1
        if tuple(row) != (1,):
            raise BenchError(f"{v.name}: SELECT 1 returned {row!r}")
        other = conn.cursor()
        awaitable = inspect.isawaitable(other)
        if awaitable:
            other = await other
        await other.execute(SELECT_ONE)
        if tuple(await other.fetchone()) != (1,):
            raise BenchError(f"{v.name}: SELECT 1 on a new cursor returned a wrong row")
        await other.close()
        if target["engine"] == "postgresql":
            await cur.execute("SELECT pg_backend_pid()")
        else:
            await cur.execute(BACKEND_TID_MARIADB)
        backend = int((await cur.fetchone())[0])
        if rows:
            await cur.execute(rows_query)
            n = len(await cur.fetchall())
            if n != ROWS:
                raise BenchError(f"{v.name}: the row query returned {n} rows")
        return conn, cur, failovers, backend, awaitable

    def cmd_time(self, key: str, query: str, n: int, pattern: str = "reused") -> tuple[int, int]:
        """``n`` calls on the session's connection, garbage collector off: the elapsed
        nanoseconds and the CPU nanoseconds of the thread that made them (the worker's main
        thread, or its event loop's). ``query``: ``select1`` (execute + fetchone) or ``rows``
        (the 1,000-row query, execute + fetchall, reused cursor only); ``pattern``: ``reused``
        (the session's cursor) or ``new`` (per call: cursor(), execute, fetchone, close())."""
        s = self.sessions[key]
        if pattern not in PATTERNS or (pattern == "new" and query != "select1"):
            raise BenchError(f"no timed loop for {query!r} with pattern {pattern!r}")
        if isinstance(s.variant, SyncVariant):
            return timed_sync(s, query, n, pattern)
        return self.run_async(timed_async(s, query, n, pattern))

    def cmd_pair(
        self, keys: list[str], query: str, n: int, pattern: str, slices: int, first: int = 0
    ) -> list[tuple[int, int]]:
        """The sessions of ``keys`` timed interleaved (garbage collector off throughout):
        ``slices`` times, ``n`` calls on each in turn (which goes first rotates from slice to
        slice, from ``keys[first]``). Per key, the summed elapsed and CPU nanoseconds (see
        :meth:`cmd_time`). Slices of a few milliseconds give every session the same share
        of the machine's slower swings (frequency, neighbours, the server's state), which
        one batch each of ~100 ms, back to back, did not: the per-round differences spread
        about a third as wide."""
        sessions = [self.sessions[k] for k in keys]
        if pattern not in PATTERNS or (pattern == "new" and query != "select1"):
            raise BenchError(f"no timed loop for {query!r} with pattern {pattern!r}")
        if len({isinstance(s.variant, SyncVariant) for s in sessions}) != 1:
            raise BenchError("pair: the sessions are not all of one world")
        if isinstance(sessions[0].variant, SyncVariant):
            return paired_sync(sessions, query, n, pattern, slices, first)
        return self.run_async(paired_async(sessions, query, n, pattern, slices, first))

    # -- connect overhead ------------------------------------------------------------------------

    def cmd_connect_loop(
        self, variant: str, target: dict[str, Any], props: dict[str, Any], n: int
    ) -> list[int]:
        """``n`` times: open a connection, close it. The nanoseconds of each."""
        v = self.variant(variant)
        if isinstance(v, SyncVariant):
            out = []
            for _ in range(n):
                start = perf_ns()
                conn = v.connect(target, props, None)
                v.close(conn)
                out.append(perf_ns() - start)
            return out
        return self.run_async(connect_loop_async(v, target, props, n), 300)

    def cmd_otel_sdk(self) -> dict[str, Any]:
        """Set up the OpenTelemetry SDK as the process's providers (scenario 10): traces
        through a BatchSpanProcessor to an exporter that drops them, metrics to an in-memory
        reader. Once per process (OpenTelemetry's global providers are set once)."""
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )

        class Drop(SpanExporter):
            def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Drop()))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
        return {"sdk": importlib.metadata.version("opentelemetry-sdk")}

    def cmd_hold_open(
        self, variant: str, target: dict[str, Any], props: dict[str, Any], n: int
    ) -> list[int]:
        """Open ``n`` connections one after another and keep them open (``hold_close`` closes
        them): the nanoseconds of each open."""
        v = self.variant(variant)
        if isinstance(v, SyncVariant):
            out = []
            for _ in range(n):
                start = perf_ns()
                self.held.append((v, v.connect(target, props, None)))
                out.append(perf_ns() - start)
            return out

        async def hold() -> list[int]:
            out = []
            for _ in range(n):
                start = perf_ns()
                self.held.append((v, await v.connect(target, props, None)))
                out.append(perf_ns() - start)
            return out

        return self.run_async(hold(), 300)

    def cmd_hold_close(self) -> None:
        """Close what ``hold_open`` opened."""
        held, self.held = self.held, []
        for v, conn in held:
            with contextlib.suppress(Exception):
                if isinstance(v, SyncVariant):
                    v.close(conn)
                else:
                    self.run_async(v.close(conn), 30)

    # -- failover --------------------------------------------------------------------------------

    def cmd_fo_start(
        self,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        table: str,
        interval_s: float,
        settle_s: float,
        settle_writes: int,
        timeout_s: float,
    ) -> dict[str, Any]:
        """Connect, create the table, start the application (an INSERT every ``interval_s``;
        re-run at once after the failover signal, on a new cursor) and return once it has
        written steadily for ``settle_s``."""
        if self.fo is not None:
            raise BenchError("a failover application is already running")
        v = self.variant(variant)
        rec = Recorder()
        ddl = f"CREATE TABLE IF NOT EXISTS {table} (id BIGINT)"
        if isinstance(v, SyncVariant):
            conn = v.connect(target, props, None)
            self._sync_retry(v, conn, ddl)
            stop = threading.Event()
            thread = threading.Thread(
                target=sync_app,
                args=(v, conn, table, rec, stop, interval_s),
                name="bench-app",
                daemon=True,
            )
            thread.start()
            self.fo_stop, self.fo_app = stop, thread
        else:
            conn = self.run_async(self._async_retry(v, None, ddl, target, props), 60)
            astop, task = self.run_async(self._start_async_app(v, conn, table, rec, interval_s))
            self.fo_stop, self.fo_app = astop, task
        self.fo = (v, conn, rec)
        deadline = time.monotonic() + timeout_s
        while not rec.steady(time.monotonic(), settle_writes, settle_s):
            if rec.failure is not None:
                raise BenchError(f"the application failed before the failover: {rec.failure}")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the application did not write steadily within {timeout_s:.0f} s "
                    f"({rec.writes} writes, {rec.stray} failover signals)"
                )
            time.sleep(0.005)
        return {"writes": rec.writes, "stray_failovers": rec.stray, "plugins": v.describe(conn)}

    def _sync_retry(self, v: SyncVariant, conn: Any, sql: str) -> None:
        """Run ``sql`` (reading its rows: MySQL Connector/Python wants them read), again on a
        new cursor after the wrapper's failover signal."""
        for attempt in range(4):
            try:
                cur = v.cursor(conn)
                cur.execute(sql)
                if cur.description is not None:
                    cur.fetchall()
                return
            except Exception as e:
                if not v.failover_success(e) or attempt == 3:
                    raise

    async def _async_retry(
        self,
        v: AsyncVariant,
        conn: Any,
        sql: str,
        target: Mapping[str, Any],
        props: Mapping[str, Any],
    ) -> Any:
        if conn is None:
            conn = await v.connect(target, props, None)
        for attempt in range(4):
            try:
                cur = await v.cursor(conn)
                await cur.execute(sql)
                if cur.description is not None:
                    await cur.fetchall()
                return conn
            except Exception as e:
                if not v.failover_success(e) or attempt == 3:
                    raise
        return conn

    async def _start_async_app(
        self, v: AsyncVariant, conn: Any, table: str, rec: Recorder, interval_s: float
    ) -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(async_app(v, conn, table, rec, stop, interval_s))
        return stop, task

    def cmd_fo_arm(self) -> None:
        if self.fo is None:
            raise BenchError("no failover application")
        self.fo[2].arm()

    def cmd_fo_wait(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the first successful write after the failover signal (or a failure)."""
        if self.fo is None:
            raise BenchError("no failover application")
        rec = self.fo[2]
        deadline = time.monotonic() + timeout_s
        while rec.recovered_at is None and rec.failure is None and time.monotonic() < deadline:
            time.sleep(0.002)
        return {
            "error_at": rec.error_at,
            "error": rec.error_text,
            "recovered_at": rec.recovered_at,
            "last_ok_before": rec.last_ok_before,
            "failovers_seen": rec.failovers_seen,
            "failure": rec.failure,
            "writes": rec.writes,
        }

    def cmd_fo_stop(self) -> None:
        """Stop the application, close its connection, release the implementation's
        resources (so that the next run starts with no monitor of this one running)."""
        if self.fo is None:
            return
        v, conn, _ = self.fo
        self.fo = None
        stop, app = self.fo_stop, self.fo_app
        if isinstance(v, SyncVariant):
            assert isinstance(stop, threading.Event) and isinstance(app, threading.Thread)
            stop.set()
            app.join(30)
            with contextlib.suppress(Exception):
                v.close(conn)
            v.release()
        else:
            assert isinstance(stop, asyncio.Event) and isinstance(app, asyncio.Future)
            self.run_async(stop_async_app(v, conn, stop, app), 60)

    # -- dead-host detection ---------------------------------------------------------------------

    def cmd_efm_start(
        self,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        warm_sql: str,
        settle_s: float,
    ) -> dict[str, Any]:
        """Connect, run ``warm_sql`` (a call longer than the monitor's grace time: a monitor
        that opens its connection only then has it open afterwards, as in an application
        that has been running for a while), give the monitor ``settle_s``."""
        if self.efm is not None:
            raise BenchError("a dead-host run is in progress")
        v = self.variant(variant)
        if isinstance(v, SyncVariant):
            conn = v.connect(target, props, None)
            self._sync_retry(v, conn, SELECT_ONE)
            self._sync_retry(v, conn, warm_sql)
        else:

            async def start() -> Any:
                conn = await self._async_retry(v, None, SELECT_ONE, target, props)
                return await self._async_retry(v, conn, warm_sql, target, props)

            conn = self.run_async(start(), 60)
        self.efm = (v, conn)
        time.sleep(settle_s)
        return {"plugins": v.describe(conn)}

    def cmd_efm_query(self, sql: str) -> float:
        """Send the long query in the background; return when it was sent (monotonic)."""
        if self.efm is None:
            raise BenchError("no dead-host run")
        v, conn = self.efm
        self.efm_done.clear()
        self.efm_result = {}
        sent = time.monotonic()
        if isinstance(v, SyncVariant):
            threading.Thread(
                target=self._efm_sync_query, args=(v, conn, sql), name="bench-query", daemon=True
            ).start()
        else:
            asyncio.run_coroutine_threadsafe(self._efm_async_query(v, conn, sql), self.loop.loop)
        return sent

    def _efm_record(self, v: Variant, error: BaseException | None) -> None:
        self.efm_result = {
            "ended_at": time.monotonic(),
            "error_type": None if error is None else type(error).__name__,
            "error": None if error is None else str(error)[:300],
            "network_error": error is not None and v.is_network_error(error),
        }
        self.efm_done.set()

    def _efm_sync_query(self, v: SyncVariant, conn: Any, sql: str) -> None:
        try:
            cur = v.cursor(conn)
            cur.execute(sql)
            cur.fetchall()
        except BaseException as e:
            self._efm_record(v, e)
            return
        self._efm_record(v, None)

    async def _efm_async_query(self, v: AsyncVariant, conn: Any, sql: str) -> None:
        try:
            cur = await v.cursor(conn)
            await cur.execute(sql)
            await cur.fetchall()
        except BaseException as e:
            self._efm_record(v, e)
            return
        self._efm_record(v, None)

    def cmd_efm_wait(self, timeout_s: float) -> dict[str, Any] | None:
        """The query's end (raised or completed), or None if it is still running."""
        if self.efm_done.wait(timeout_s):
            return dict(self.efm_result)
        return None

    def cmd_efm_stop(self) -> None:
        if self.efm is None:
            return
        v, conn = self.efm
        self.efm = None
        if isinstance(v, SyncVariant):
            with contextlib.suppress(Exception):
                v.close(conn)
            v.release()
        else:

            async def stop() -> None:
                with contextlib.suppress(Exception):
                    await v.close(conn)
                await v.release()

            self.run_async(stop(), 60)

    # -- blue/green switchover -------------------------------------------------------------------

    def cmd_bg_start(
        self,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        table: str,
        writers: int,
        interval_s: float,
        settle_s: float,
        timeout_s: float,
    ) -> dict[str, Any]:
        """Start ``writers`` writers (threads, or tasks on the event loop), each on its own
        connection: an autocommit INSERT with a new id, then ``interval_s``; after the
        failover signal a new cursor and on (each attempt a new id), after any other error a
        new connection (the old one closed, as a pool would). Return once every writer has
        written steadily for ``settle_s``."""
        if self.bg is not None:
            raise BenchError("a switchover application is already running")
        v = self.variant(variant)
        load = BgLoad(writers)
        self.bg = (v, load)
        if isinstance(v, SyncVariant):
            for n in range(writers):
                thread = threading.Thread(
                    target=bg_writer_sync,
                    args=(v, target, props, table, load, n, interval_s),
                    name=f"bench-writer-{n}",
                    daemon=True,
                )
                thread.start()
                load.threads.append(thread)
        else:

            async def spawn() -> list[asyncio.Task[None]]:
                return [
                    asyncio.create_task(
                        bg_writer_async(v, target, props, table, load, n, interval_s)
                    )
                    for n in range(writers)
                ]

            load.tasks = self.run_async(spawn(), 10)
        deadline = time.monotonic() + timeout_s
        while not load.steady(time.monotonic(), settle_s):
            if time.monotonic() > deadline:
                raise BenchError(
                    f"the writers did not write steadily within {timeout_s:.0f} s "
                    f"({load.summary()})"
                )
            time.sleep(0.01)
        return {"writes": len(load.acked), "plugins": load.plugins}

    def cmd_bg_stop(self, hung_s: float) -> dict[str, Any]:
        """Stop the writers and wait for them; a writer whose call has been running for
        ``hung_s`` is not waited for any longer and is reported as hung (its connection is
        left alone: the harness ends this worker). What the writers saw: acknowledged ids,
        per writer the acknowledgement times, every error, the attempts that took 20 ms or
        more, the calls still running (monotonic times)."""
        if self.bg is None:
            raise BenchError("no switchover application")
        v, load = self.bg
        self.bg = None
        stopped_at = time.monotonic()
        load.stop = True
        # polled from this thread: a writer task that never yields blocks the event loop
        while True:
            now = time.monotonic()
            if isinstance(v, SyncVariant):
                alive = [n for n, t in enumerate(load.threads) if t.is_alive()]
            else:
                alive = [n for n, task in enumerate(load.tasks) if not task.done()]
            stuck = load.running_since(alive)
            if not alive or now > stopped_at + hung_s + 1:
                break
            if all(n in stuck and now - stuck[n] >= hung_s for n in alive):
                break
            time.sleep(0.02)
        return load.report(stopped_at)

    # -- read/write splitting --------------------------------------------------------------------

    def cmd_rw_open(
        self,
        key: str,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        reader_target: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A long-lived connection for the toggles, with an internal pool provider kept for
        the requests. Raw variants: two connections (writer, reader) as the baseline."""
        v = self.variant(variant)
        if not v.wrapper:
            if reader_target is None:
                raise BenchError("the raw baseline needs a reader target")
            if isinstance(v, SyncVariant):
                w = v.connect(target, {}, None)
                r = v.connect(reader_target, {}, None)
                self.sessions[key] = Session(v, w, None, r)
            else:
                w = self.run_async(v.connect(target, {}, None))
                r = self.run_async(v.connect(reader_target, {}, None))
                self.sessions[key] = Session(v, w, None, r)
            return {"reader": True}
        provider = v.pooled_provider()
        if isinstance(v, SyncVariant):
            conn = v.connect(target, props, provider)
            self._sync_retry(v, conn, SELECT_ONE)
            v.set_read_only(conn, True)
            cur = v.cursor(conn)
            cur.execute("SELECT pg_is_in_recovery()")
            reader = bool(cur.fetchone()[0])
            v.set_read_only(conn, False)
        else:
            conn, reader = self.run_async(self._rw_open_async(v, target, props, provider), 60)
        self.sessions[key] = Session(v, conn, None, provider)
        return {"reader": reader, "plugins": v.describe(conn)}

    async def _rw_open_async(
        self, v: AsyncVariant, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
    ) -> tuple[Any, bool]:
        conn = await v.connect(target, props, provider)
        await self._async_retry(v, conn, SELECT_ONE, target, props)
        await v.set_read_only(conn, True)
        cur = await v.cursor(conn)
        await cur.execute("SELECT pg_is_in_recovery()")
        reader = bool((await cur.fetchone())[0])
        await v.set_read_only(conn, False)
        return conn, reader

    def cmd_rw_time(
        self, key: str, op: str, n: int, target: dict[str, Any], props: dict[str, Any]
    ) -> int:
        """``n`` operations: ``toggle`` (read_only True, SELECT 1, read_only False, SELECT 1 on
        the long-lived connection; raw: SELECT 1 on the reader, SELECT 1 on the writer) or
        ``request`` (connect with the pool provider, read_only True, SELECT 1, close)."""
        s = self.sessions[key]
        v = s.variant
        if isinstance(v, SyncVariant):
            gc.collect()
            gc.disable()
            try:
                start = perf_ns()
                for _ in range(n):
                    if op == "toggle":
                        sync_toggle(v, s)
                    else:
                        sync_request(v, target, props, s.extra)
                return perf_ns() - start
            finally:
                gc.enable()
        return self.run_async(rw_async(v, s, op, n, target, props), 300)

    # -- scale -----------------------------------------------------------------------------------

    def cmd_scale_open(
        self,
        variant: str,
        target: dict[str, Any],
        props: dict[str, Any],
        n: int,
        parallel: int,
    ) -> dict[str, Any]:
        """Open ``n`` connections on the event loop (``parallel`` connects at a time), each
        with a cursor that has answered one SELECT 1; reset the peak-RSS mark before."""
        v = self.variant(variant)
        if not isinstance(v, AsyncVariant):
            raise BenchError("the scale scenario is for async variants")
        gc.collect()
        base_rss = proc_status_kb("VmRSS")
        reset = reset_peak_rss()
        start = time.monotonic()
        self.scale_variant = v
        opened, failovers = self.run_async(self._scale_open(v, target, props, n, parallel), 900)
        return {
            "open_s": time.monotonic() - start,
            "opened": opened,
            "first_query_failovers": failovers,
            "errors": self.scale_errors[:5],
            "error_count": len(self.scale_errors),
            "base_rss_kb": base_rss,
            "peak_reset": reset,
            "plugins": v.describe(self.scale_conns[0][0]) if self.scale_conns else "",
        }

    async def _scale_open(
        self,
        v: AsyncVariant,
        target: Mapping[str, Any],
        props: Mapping[str, Any],
        n: int,
        parallel: int,
    ) -> tuple[int, int]:
        gate = asyncio.Semaphore(parallel)
        failovers = 0

        async def one() -> None:
            nonlocal failovers
            async with gate:
                try:
                    conn = await v.connect(target, props, None)
                    for attempt in range(4):
                        cur = await v.cursor(conn)
                        try:
                            await cur.execute(SELECT_ONE)
                            await cur.fetchone()
                            break
                        except Exception as e:
                            if not v.failover_success(e) or attempt == 3:
                                raise
                            failovers += 1
                    self.scale_conns.append((conn, cur))
                except Exception as e:
                    self.scale_errors.append(f"{type(e).__name__}: {e}")

        await asyncio.gather(*(one() for _ in range(n)))
        return len(self.scale_conns), failovers

    def cmd_scale_start(self) -> None:
        """Every connection gets a task running SELECT 1 (execute + fetchone) in a loop while
        the gate is open (see ``scale_slice``); they start parked."""
        self.run_async(self._scale_start(), 60)

    async def _scale_start(self) -> None:
        self.scale_gate = asyncio.Event()
        self.scale_running = True
        self.scale_count = 0
        self.scale_parked = 0

        async def load(cur: Any) -> None:
            gate = self.scale_gate
            while self.scale_running:
                if not gate.is_set():
                    self.scale_parked += 1
                    try:
                        await gate.wait()
                    finally:
                        self.scale_parked -= 1
                    continue
                await cur.execute(SELECT_ONE)
                await cur.fetchone()
                self.scale_count += 1

        self.scale_tasks = [asyncio.create_task(load(cur)) for _, cur in self.scale_conns]
        await self._scale_park(30.0)

    async def _scale_park(self, limit_s: float) -> None:
        """Wait until every load task is parked (its call in flight finished)."""
        deadline = time.monotonic() + limit_s
        while self.scale_parked < len(self.scale_tasks) and time.monotonic() < deadline:
            if all(t.done() for t in self.scale_tasks):
                break
            await asyncio.sleep(0.002)

    def cmd_scale_slice(self, settle_s: float, slice_s: float) -> dict[str, Any]:
        """Open the gate: the load runs; after ``settle_s``, count the completed calls for
        ``slice_s``; close the gate and return once every task is parked (the process is
        then idle while the other worker's slice runs)."""
        return self.run_async(self._scale_slice(settle_s, slice_s), 300)

    async def _scale_slice(self, settle_s: float, slice_s: float) -> dict[str, Any]:
        gc_ns = [0, 0]  # time in the garbage collector, collections (during the slice)
        gc_started = [0]
        measuring = [False]

        def gc_timer(phase: str, info: dict[str, int]) -> None:
            if not measuring[0]:
                return
            if phase == "start":
                gc_started[0] = perf_ns()
            elif gc_started[0]:
                gc_ns[0] += perf_ns() - gc_started[0]
                gc_ns[1] += 1

        self.scale_gate.set()
        await asyncio.sleep(settle_s)
        gc.callbacks.append(gc_timer)
        measuring[0] = True
        try:
            c0, t0 = self.scale_count, time.perf_counter()
            await asyncio.sleep(slice_s)
            calls, elapsed = self.scale_count - c0, time.perf_counter() - t0
        finally:
            measuring[0] = False
            gc.callbacks.remove(gc_timer)
        tasks = len(asyncio.all_tasks())
        threads = threading.active_count()
        self.scale_gate.clear()
        await self._scale_park(30.0)
        failed = [t.exception() for t in self.scale_tasks if t.done() and not t.cancelled()]
        failed = [e for e in failed if e is not None]
        return {
            "calls": calls,
            "elapsed": elapsed,
            "extra_tasks": tasks - len(self.scale_tasks) - 1,
            "extra_threads": threads - self.base_threads,
            "peak_rss_kb": proc_status_kb("VmHWM"),
            "load_errors": [f"{type(e).__name__}: {e}" for e in failed[:3]],
            "load_error_count": len(failed),
            "gc_ns": gc_ns[0],
            "gc_collections": gc_ns[1],
            "objects": len(gc.get_objects()),
        }

    def cmd_scale_stop(self) -> None:
        self.run_async(self._scale_stop(), 120)

    async def _scale_stop(self) -> None:
        self.scale_running = False
        self.scale_gate.set()
        if self.scale_tasks:
            await asyncio.wait(self.scale_tasks, timeout=60)
        self.scale_tasks = []

    def cmd_scale_close(self) -> None:
        v = self.scale_variant
        if v is None:
            return

        async def close_all() -> None:
            for conn, _ in self.scale_conns:
                with contextlib.suppress(Exception):
                    await v.close(conn)
            self.scale_conns.clear()
            await v.release()

        self.run_async(close_all(), 300)


# -- the timed loops -----------------------------------------------------------------------------


def gc_quiet() -> None:
    """Collect, then freeze what survives (so the next collection, before the next timed
    batch, scans only what is new: ~0 ms instead of ~8 ms for a worker's ~45,000 objects) and
    turn the collector off for the batch (the caller turns it on again)."""
    gc.collect()
    gc.freeze()
    gc.disable()


def timed_sync(s: Session, query: str, n: int, pattern: str = "reused") -> tuple[int, int]:
    """The timed loop of scenario 1 in the blocking world, the same for every implementation
    (see :meth:`Worker.cmd_time`): (elapsed, CPU time of this thread), nanoseconds."""
    gc_quiet()
    try:
        return loop_sync(s, query, n, pattern)
    finally:
        gc.enable()


def paired_sync(
    sessions: Sequence[Session], query: str, n: int, pattern: str, slices: int, first: int
) -> list[tuple[int, int]]:
    """Interleaved timed loops (see :meth:`Worker.cmd_pair`), blocking world."""
    gc_quiet()
    try:
        totals = [(0, 0)] * len(sessions)
        for i in slice_orders(len(sessions), slices, first):
            ns, cpu = loop_sync(sessions[i], query, n, pattern)
            totals[i] = (totals[i][0] + ns, totals[i][1] + cpu)
        return totals
    finally:
        gc.enable()


def slice_orders(count: int, slices: int, first: int) -> list[int]:
    """The session indexes in the order of the timed loops: ``slices`` times each of
    ``count`` sessions, the one that goes first rotating from slice to slice (from
    ``first``)."""
    return [(first + k + j) % count for k in range(slices) for j in range(count)]


def loop_sync(s: Session, query: str, n: int, pattern: str) -> tuple[int, int]:
    """One timed loop (the caller has the garbage collector off)."""
    if pattern == "new":
        conn = s.conn
        start, cpu = perf_ns(), cpu_ns()
        for _ in range(n):
            cur = conn.cursor()
            cur.execute(SELECT_ONE)
            cur.fetchone()
            cur.close()
        return perf_ns() - start, cpu_ns() - cpu
    cur = s.cur
    if query == "select1":
        start, cpu = perf_ns(), cpu_ns()
        for _ in range(n):
            cur.execute(SELECT_ONE)
            cur.fetchone()
        return perf_ns() - start, cpu_ns() - cpu
    sql = s.rows_query
    start, cpu = perf_ns(), cpu_ns()
    for _ in range(n):
        cur.execute(sql)
        cur.fetchall()
    return perf_ns() - start, cpu_ns() - cpu


async def timed_async(s: Session, query: str, n: int, pattern: str = "reused") -> tuple[int, int]:
    """The timed loop of scenario 1 in the async world (on the worker's event loop)."""
    gc_quiet()
    try:
        return await loop_async(s, query, n, pattern)
    finally:
        gc.enable()


async def paired_async(
    sessions: Sequence[Session], query: str, n: int, pattern: str, slices: int, first: int
) -> list[tuple[int, int]]:
    """Interleaved timed loops (see :meth:`Worker.cmd_pair`), async world."""
    gc_quiet()
    try:
        totals = [(0, 0)] * len(sessions)
        for i in slice_orders(len(sessions), slices, first):
            ns, cpu = await loop_async(sessions[i], query, n, pattern)
            totals[i] = (totals[i][0] + ns, totals[i][1] + cpu)
        return totals
    finally:
        gc.enable()


async def loop_async(s: Session, query: str, n: int, pattern: str) -> tuple[int, int]:
    """One timed loop on the worker's event loop (the caller has the collector off)."""
    if pattern == "new":
        conn = s.conn
        if s.cursor_awaitable:  # aiomysql, mysql.connector.aio: ``await conn.cursor()``
            start, cpu = perf_ns(), cpu_ns()
            for _ in range(n):
                cur = await conn.cursor()
                await cur.execute(SELECT_ONE)
                await cur.fetchone()
                await cur.close()
            return perf_ns() - start, cpu_ns() - cpu
        start, cpu = perf_ns(), cpu_ns()
        for _ in range(n):
            cur = conn.cursor()
            await cur.execute(SELECT_ONE)
            await cur.fetchone()
            await cur.close()
        return perf_ns() - start, cpu_ns() - cpu
    cur = s.cur
    if query == "select1":
        start, cpu = perf_ns(), cpu_ns()
        for _ in range(n):
            await cur.execute(SELECT_ONE)
            await cur.fetchone()
        return perf_ns() - start, cpu_ns() - cpu
    sql = s.rows_query
    start, cpu = perf_ns(), cpu_ns()
    for _ in range(n):
        await cur.execute(sql)
        await cur.fetchall()
    return perf_ns() - start, cpu_ns() - cpu


async def connect_loop_async(
    v: AsyncVariant, target: Mapping[str, Any], props: Mapping[str, Any], n: int
) -> list[int]:
    out = []
    for _ in range(n):
        start = perf_ns()
        conn = await v.connect(target, props, None)
        await v.close(conn)
        out.append(perf_ns() - start)
    return out


def sync_app(
    v: SyncVariant,
    conn: Any,
    table: str,
    rec: Recorder,
    stop: threading.Event,
    interval_s: float,
) -> None:
    """The failover application: autocommit INSERTs; after the failover signal a new cursor
    and the INSERT again at once (each attempt with a new id)."""
    cur = v.cursor(conn)
    row = 0
    try:
        while not stop.is_set():
            row += 1
            try:
                cur.execute(f"INSERT INTO {table} (id) VALUES ({row})")
            except Exception as e:
                if not v.failover_success(e):
                    raise
                rec.failover(time.monotonic(), e)
                cur = v.cursor(conn)
                continue
            rec.ok(time.monotonic())
            time.sleep(interval_s)
    except BaseException as e:
        rec.fail(e)


async def async_app(
    v: AsyncVariant,
    conn: Any,
    table: str,
    rec: Recorder,
    stop: asyncio.Event,
    interval_s: float,
) -> None:
    cur = await v.cursor(conn)
    row = 0
    try:
        while not stop.is_set():
            row += 1
            try:
                await cur.execute(f"INSERT INTO {table} (id) VALUES ({row})")
            except Exception as e:
                if not v.failover_success(e):
                    raise
                rec.failover(time.monotonic(), e)
                cur = await v.cursor(conn)
                continue
            rec.ok(time.monotonic())
            await asyncio.sleep(interval_s)
    except asyncio.CancelledError:
        raise
    except BaseException as e:
        rec.fail(e)


async def stop_async_app(
    v: AsyncVariant, conn: Any, stop: asyncio.Event, app: Awaitable[None]
) -> None:
    stop.set()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(app, 30)
    with contextlib.suppress(Exception):
        await v.close(conn)
    await v.release()


# -- the switchover application ------------------------------------------------------------------


class BgLoad:
    """What the switchover application's writers saw; shared by the writers (threads or
    tasks) and the command thread, which reads it even when the writers never return (a
    writer stuck in a call that spins). Times are ``time.monotonic()``."""

    SLOW_S = 0.02
    """Attempts at least this long are reported one by one (the rest only counted)."""

    def __init__(self, writers: int) -> None:
        self._lock = threading.Lock()
        self.writers = writers
        self.stop = False
        self.acked: list[int] = []
        self.ack_times: dict[int, list[float]] = {n: [] for n in range(writers)}
        self.errors: list[tuple[float, int, str, str]] = []
        """(when, writer, type name, first line of the message)."""
        self.slow: list[tuple[float, float]] = []
        """(start, end) of every attempt of at least SLOW_S."""
        self.in_flight: dict[int, float] = {}
        """Writer -> start of its attempt in progress."""
        self.connects = 0
        self.plugins = ""
        self.threads: list[threading.Thread] = []
        self.tasks: list[asyncio.Task[None]] = []

    def begin(self, n: int, now: float) -> None:
        with self._lock:
            self.in_flight[n] = now

    def ok(self, n: int, row: int, started: float, now: float) -> None:
        with self._lock:
            self.in_flight.pop(n, None)
            self.acked.append(row)
            self.ack_times[n].append(now)
            if now - started >= self.SLOW_S:
                self.slow.append((started, now))

    def error(self, n: int, error: BaseException, started: float, now: float) -> None:
        lines = str(error).strip().splitlines()
        with self._lock:
            self.in_flight.pop(n, None)
            self.errors.append((now, n, type(error).__name__, lines[0][:200] if lines else ""))
            if now - started >= self.SLOW_S:
                self.slow.append((started, now))

    def running_since(self, writers: list[int]) -> dict[int, float]:
        """Of ``writers``, those in a call, with its start."""
        with self._lock:
            return {n: self.in_flight[n] for n in writers if n in self.in_flight}

    def steady(self, now: float, seconds: float) -> bool:
        """Every writer has written for ``seconds`` without an error."""
        with self._lock:
            last_error = max((e[0] for e in self.errors), default=0.0)
            return all(
                len(times) >= 2 and now - max(times[0], last_error) >= seconds
                for times in self.ack_times.values()
            )

    def summary(self) -> str:
        with self._lock:
            kinds = sorted({e[2] for e in self.errors})
            return f"{len(self.acked)} writes, {len(self.errors)} errors" + (
                f" ({', '.join(kinds)}: {self.errors[-1][3]})" if kinds else ""
            )

    def report(self, stopped_at: float) -> dict[str, Any]:
        with self._lock:
            return {
                "stopped_at": stopped_at,
                "acked": list(self.acked),
                "ack_times": [list(self.ack_times[n]) for n in range(self.writers)],
                "errors": list(self.errors),
                "slow": list(self.slow),
                "hung": sorted(self.in_flight.items()),
                "connects": self.connects,
                "plugins": self.plugins,
            }


def bg_writer_sync(
    v: SyncVariant,
    target: Mapping[str, Any],
    props: Mapping[str, Any],
    table: str,
    load: BgLoad,
    n: int,
    interval_s: float,
) -> None:
    """One writer of the switchover application (blocking world); an attempt is connect
    (when there is no connection) + INSERT."""
    conn: Any = None
    cur: Any = None
    row = (n + 1) * 10_000_000
    try:
        while not load.stop:
            started = time.monotonic()
            load.begin(n, started)
            try:
                if conn is None:
                    load.connects += 1
                    conn = v.connect(target, props, None)
                    load.plugins = load.plugins or v.describe(conn)
                    cur = v.cursor(conn)
                row += 1
                cur.execute(f"INSERT INTO {table} (id, writer) VALUES ({row}, {n})")
                load.ok(n, row, started, time.monotonic())
            except Exception as e:
                load.error(n, e, started, time.monotonic())
                if conn is not None and v.failover_success(e):
                    cur = v.cursor(conn)  # the wrapper replaced the connection: go on
                    continue
                if conn is not None:
                    with contextlib.suppress(Exception):
                        v.close(conn)
                conn = None
                time.sleep(0.05)
                continue
            time.sleep(interval_s)
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                v.close(conn)


async def bg_writer_async(
    v: AsyncVariant,
    target: Mapping[str, Any],
    props: Mapping[str, Any],
    table: str,
    load: BgLoad,
    n: int,
    interval_s: float,
) -> None:
    """One writer of the switchover application (async world), as :func:`bg_writer_sync`."""
    conn: Any = None
    cur: Any = None
    row = (n + 1) * 10_000_000
    try:
        while not load.stop:
            started = time.monotonic()
            load.begin(n, started)
            try:
                if conn is None:
                    load.connects += 1
                    conn = await v.connect(target, props, None)
                    load.plugins = load.plugins or v.describe(conn)
                    cur = await v.cursor(conn)
                row += 1
                await cur.execute(f"INSERT INTO {table} (id, writer) VALUES ({row}, {n})")
                load.ok(n, row, started, time.monotonic())
            except Exception as e:
                load.error(n, e, started, time.monotonic())
                if conn is not None and v.failover_success(e):
                    cur = await v.cursor(conn)
                    continue
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await v.close(conn)
                conn = None
                await asyncio.sleep(0.05)
                continue
            await asyncio.sleep(interval_s)
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                await v.close(conn)


def sync_toggle(v: SyncVariant, s: Session) -> None:
    if not v.wrapper:
        for conn in (s.extra, s.conn):
            cur = conn.cursor()
            cur.execute(SELECT_ONE)
            cur.fetchone()
        return
    conn = s.conn
    v.set_read_only(conn, True)
    cur = v.cursor(conn)
    cur.execute(SELECT_ONE)
    cur.fetchone()
    v.set_read_only(conn, False)
    cur = v.cursor(conn)
    cur.execute(SELECT_ONE)
    cur.fetchone()


def sync_request(
    v: SyncVariant, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
) -> None:
    conn = v.connect(target, props, provider)
    try:
        v.set_read_only(conn, True)
        cur = v.cursor(conn)
        cur.execute(SELECT_ONE)
        cur.fetchone()
    finally:
        v.close(conn)


async def rw_async(
    v: AsyncVariant,
    s: Session,
    op: str,
    n: int,
    target: Mapping[str, Any],
    props: Mapping[str, Any],
) -> int:
    gc.collect()
    gc.disable()
    try:
        start = perf_ns()
        for _ in range(n):
            if op == "toggle":
                if not v.wrapper:
                    for conn in (s.extra, s.conn):
                        cur = await v.cursor(conn)
                        await cur.execute(SELECT_ONE)
                        await cur.fetchone()
                    continue
                await v.set_read_only(s.conn, True)
                cur = await v.cursor(s.conn)
                await cur.execute(SELECT_ONE)
                await cur.fetchone()
                await v.set_read_only(s.conn, False)
                cur = await v.cursor(s.conn)
                await cur.execute(SELECT_ONE)
                await cur.fetchone()
            else:
                conn = await v.connect(target, props, s.extra)
                try:
                    await v.set_read_only(conn, True)
                    cur = await v.cursor(conn)
                    await cur.execute(SELECT_ONE)
                    await cur.fetchone()
                finally:
                    await v.close(conn)
        return perf_ns() - start
    finally:
        gc.enable()


# -- the protocol --------------------------------------------------------------------------------


def serve(variants: Mapping[str, Variant], info: Callable[[], dict[str, Any]]) -> int:
    """Answer the harness's requests until stdin closes or ``quit``."""
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # stray prints go to the worker's log, never into the protocol
    # the harness sends SIGUSR1 before it kills a hung worker: every thread's stack to the log
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    worker = Worker(variants, info)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        rid = request.get("id")
        cmd = request.get("cmd", "")
        if cmd == "quit":
            out.write(json.dumps({"id": rid, "ok": True, "result": None}) + "\n")
            break
        handler = getattr(worker, f"cmd_{cmd}", None)
        try:
            if handler is None:
                raise BenchError(f"unknown command {cmd!r}")
            result = handler(**request.get("args", {}))
            reply = {"id": rid, "ok": True, "result": result}
        except BaseException as e:
            reply = {
                "id": rid,
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(),
            }
            if isinstance(e, KeyboardInterrupt):
                raise
        out.write(json.dumps(reply, default=str) + "\n")
    out.flush()
    # monitors of a library may keep non-daemon threads: do not wait for them
    sys.stderr.flush()
    os._exit(0)
