#!/usr/bin/env python3
"""Per-call overhead of aws_wrapper over the raw psycopg driver, sync and async.

Starts one local PostgreSQL (aws_wrapper_devcluster.PostgresServer) and, on that server, times
``SELECT 1`` round trips (execute + fetchone on a reused cursor) and a 1,000-row fetch
(execute + fetchall) through:

* the raw driver (``psycopg.Connection`` / ``psycopg.AsyncConnection``),
* the wrapper with its default plugins (``plugins`` not given),
* the wrapper with ``plugins="execute_time"``, a plugin subscribed to every method, to show
  what a plugin chain costs (``SELECT 1`` only).

Variants run in interleaved rounds (their order rotates every round) after a warm-up; each
round times ``--calls`` calls per variant with the garbage collector off. The report gives the
median per-call time of each variant over the rounds and its ratio to the raw driver. All
async variants share one (non-uvloop) event loop. Unless ``--no-pin``, this process and the
server backends it uses are pinned to one CPU, which makes round trips steady (see
``pin_to_one_cpu``).

It is a report, not a test: it exits 0 whatever the ratios are, non-zero only on errors.
Run it with ``make bench`` or ``python bench/overhead.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import psycopg

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import PostgresServer

SELECT_ONE = "SELECT 1"
ROWS_QUERY = "SELECT generate_series(1, 1000)"
ROWS = 1000
BACKEND_PID = "SELECT pg_backend_pid()"
TARGET = 1.05
"""The wrapper/raw ratio the wrapper aims to stay under for ``SELECT 1``."""

RAW = "raw psycopg"
WRAPPER = "wrapper (default plugins)"
WRAPPER_ET = "wrapper (execute_time)"
SHORT = {RAW: "raw", WRAPPER: "wrapper", WRAPPER_ET: "+execute_time"}
"""Variant labels (table) and their short forms (progress lines)."""
ROWS_LABEL = f"{ROWS} rows"

DEFAULT_ROUNDS = 25
"""Rounds vary by ~5-10% (IQR) on a 2-vCPU VM, async more than sync: 25 rounds keep the
median of a ~1% difference readable and the full run around 35 s."""
DEFAULT_CALLS = 2000
QUICK_ROUNDS = 7
QUICK_CALLS = 500
ROWS_CALLS_DIVISOR = 4
"""The 1,000-row fetch runs ``calls // 4`` times per round: each call is ~4x a SELECT 1."""

perf_ns = time.perf_counter_ns

T = TypeVar("T")


def log(message: str) -> None:
    print(message, flush=True)


# -- what is timed ---------------------------------------------------------------------------


class SyncCursor(Protocol):
    """What the timed loops use of a cursor: psycopg's and the wrapper's both fit."""

    def execute(self, query: str, /) -> object: ...

    def fetchone(self) -> object: ...

    def fetchall(self) -> Sequence[object]: ...


class AsyncCursor(Protocol):
    async def execute(self, query: str, /) -> object: ...

    async def fetchone(self) -> object: ...

    async def fetchall(self) -> Sequence[object]: ...


SyncRun = Callable[[int], int]
"""``run(n)``: make ``n`` calls, return the elapsed nanoseconds."""
AsyncRun = Callable[[int], Awaitable[int]]


def sync_select_one(cur: SyncCursor) -> SyncRun:
    def run(n: int) -> int:
        start = perf_ns()
        for _ in range(n):
            cur.execute(SELECT_ONE)
            cur.fetchone()
        return perf_ns() - start

    return run


def sync_rows(cur: SyncCursor) -> SyncRun:
    def run(n: int) -> int:
        start = perf_ns()
        for _ in range(n):
            cur.execute(ROWS_QUERY)
            cur.fetchall()
        return perf_ns() - start

    return run


def async_select_one(cur: AsyncCursor) -> AsyncRun:
    async def run(n: int) -> int:
        start = perf_ns()
        for _ in range(n):
            await cur.execute(SELECT_ONE)
            await cur.fetchone()
        return perf_ns() - start

    return run


def async_rows(cur: AsyncCursor) -> AsyncRun:
    async def run(n: int) -> int:
        start = perf_ns()
        for _ in range(n):
            await cur.execute(ROWS_QUERY)
            await cur.fetchall()
        return perf_ns() - start

    return run


def backend_pid(row: object, label: str) -> int:
    if not (isinstance(row, tuple) and len(row) == 1 and isinstance(row[0], int)):
        raise RuntimeError(f"{label}: SELECT pg_backend_pid() returned {row!r}")
    return row[0]


def check_sync(cur: SyncCursor, label: str) -> int:
    """Fail loudly if a variant does not return what the raw driver returns; return the pid
    of the server backend of the cursor's connection."""
    cur.execute(BACKEND_PID)
    pid = backend_pid(cur.fetchone(), label)
    cur.execute(SELECT_ONE)
    row = cur.fetchone()
    if row != (1,):
        raise RuntimeError(f"{label}: SELECT 1 returned {row!r}")
    cur.execute(ROWS_QUERY)
    rows = cur.fetchall()
    if len(rows) != ROWS:
        raise RuntimeError(f"{label}: the row fetch returned {len(rows)} rows, not {ROWS}")
    return pid


async def check_async(cur: AsyncCursor, label: str) -> int:
    await cur.execute(BACKEND_PID)
    pid = backend_pid(await cur.fetchone(), label)
    await cur.execute(SELECT_ONE)
    row = await cur.fetchone()
    if row != (1,):
        raise RuntimeError(f"{label}: SELECT 1 returned {row!r}")
    await cur.execute(ROWS_QUERY)
    rows = await cur.fetchall()
    if len(rows) != ROWS:
        raise RuntimeError(f"{label}: the row fetch returned {len(rows)} rows, not {ROWS}")
    return pid


def pin_to_one_cpu(backend_pids: Sequence[int]) -> str:
    """Pin this process and the given server backends to one CPU; say what was done.

    A round trip whose two ends sit on different CPUs pays a cross-CPU wake-up whose cost
    varies a lot (on VMs it swings the latency of SELECT 1 between ~30 and ~100 us from one
    second to the next). With both ends on one CPU a round trip is a plain hand-off and the
    timings are steady, so a difference of 1 us per call becomes visible.
    """
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    mine = os.sched_getaffinity(0)
    cpu = max(mine)
    done: list[int] = []
    try:
        for pid in backend_pids:
            os.sched_setaffinity(pid, {cpu})
            done.append(pid)
        os.sched_setaffinity(0, {cpu})
    except OSError as e:
        for pid in done:
            try:
                os.sched_setaffinity(pid, mine)
            except OSError:
                pass
        return f"not pinned ({e})"
    return f"pinned: this process and backends {list(backend_pids)} on CPU {cpu}"


@contextmanager
def connect_log(label: str) -> Iterator[None]:
    """Show the wrapper's own DEBUG line for the connect made inside the block ("connected
    to ... plugins ..."), so the report says which plugins "default" meant."""
    logger = logging.getLogger("aws_wrapper")
    lines: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("connected to"):
                lines.append(message)

    handler = Grab(logging.DEBUG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    log(f"  {label}: {lines[-1] if lines else '(connected; the wrapper logged no details)'}")


# -- bookkeeping -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    rounds: int
    calls: int
    """SELECT 1 calls per variant per round; the row fetch makes calls // ROWS_CALLS_DIVISOR."""
    warmup: int
    pin: bool


@dataclass(eq=False)
class Variant:
    label: str
    short: str
    raw: bool
    per_call_ns: list[float] = field(default_factory=list)

    def median_us(self) -> float:
        return statistics.median(self.per_call_ns) / 1000

    def min_us(self) -> float:
        return min(self.per_call_ns) / 1000

    def spread_pct(self) -> float:
        """Interquartile range over the rounds, in % of the median."""
        if len(self.per_call_ns) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.per_call_ns, n=4, method="inclusive")
        return 100 * (q3 - q1) / statistics.median(self.per_call_ns)


@dataclass(eq=False)
class Group:
    """One measurement (a query in one world) and the variants compared on it."""

    world: str
    query: str
    calls: int
    variants: list[Variant] = field(default_factory=list)

    @property
    def baseline(self) -> Variant:
        return next(v for v in self.variants if v.raw)


@dataclass(eq=False)
class SyncGroup(Group):
    runs: list[tuple[Variant, SyncRun]] = field(default_factory=list)

    def add(self, label: str, raw: bool, run: SyncRun) -> None:
        variant = Variant(label, SHORT[label], raw)
        self.variants.append(variant)
        self.runs.append((variant, run))


@dataclass(eq=False)
class AsyncGroup(Group):
    runs: list[tuple[Variant, AsyncRun]] = field(default_factory=list)

    def add(self, label: str, raw: bool, run: AsyncRun) -> None:
        variant = Variant(label, SHORT[label], raw)
        self.variants.append(variant)
        self.runs.append((variant, run))


def rotated(items: Sequence[T], by: int) -> list[T]:
    """``items`` rotated by ``by``: every variant goes first, second, ... in turn."""
    k = by % len(items)
    return [*items[k:], *items[:k]]


def round_line(world: str, index: int, rounds: int, groups: Sequence[Group]) -> str:
    parts = []
    for group in groups:
        times = " ".join(f"{v.short} {v.per_call_ns[-1] / 1000:.1f}" for v in group.variants)
        parts.append(f"{group.query}: {times}")
    return f"  {world} round {index + 1}/{rounds} (us/call) | " + " | ".join(parts)


# -- the two worlds --------------------------------------------------------------------------


def run_sync(params: dict[str, Any], cfg: Settings) -> Sequence[Group]:
    log("sync: connecting (raw psycopg, wrapper default plugins, wrapper execute_time)")
    with ExitStack() as stack:
        raw = psycopg.Connection.connect(**params, autocommit=True)
        stack.callback(raw.close)
        log(f"  server: PostgreSQL {raw.info.server_version}")
        with connect_log(WRAPPER):
            wrapper = aws_wrapper.connect("", driver="psycopg", **params, autocommit=True)
        stack.callback(wrapper.close)
        with connect_log(WRAPPER_ET):
            timed = aws_wrapper.connect(
                "", driver="psycopg", plugins="execute_time", **params, autocommit=True
            )
        stack.callback(timed.close)
        return _sync_rounds(raw, wrapper, timed, cfg)


def _sync_rounds(
    raw: psycopg.Connection[tuple[object, ...]],
    wrapper: aws_wrapper.AwsWrapperConnection,
    timed: aws_wrapper.AwsWrapperConnection,
    cfg: Settings,
) -> Sequence[Group]:
    one = SyncGroup("sync", SELECT_ONE, cfg.calls)
    rows = SyncGroup("sync", ROWS_LABEL, max(1, cfg.calls // ROWS_CALLS_DIVISOR))
    cursors: list[tuple[str, SyncCursor]] = [
        (RAW, raw.cursor()),
        (WRAPPER, wrapper.cursor()),
        (WRAPPER_ET, timed.cursor()),
    ]
    pids = []
    for label, cur in cursors:
        pids.append(check_sync(cur, f"sync {label}"))
        one.add(label, label == RAW, sync_select_one(cur))
    if cfg.pin:
        log(f"  {pin_to_one_cpu(pids)}")
    for label, cur in cursors[:2]:
        rows.add(label, label == RAW, sync_rows(cur))
    groups = [one, rows]

    log(f"sync: warm-up ({cfg.warmup} calls per variant)")
    for group in groups:
        for _, run in group.runs:
            run(max(1, cfg.warmup * group.calls // cfg.calls))

    log(f"sync: {cfg.rounds} rounds x {one.calls} calls (rows: {rows.calls} calls)")
    for r in range(cfg.rounds):
        for group in groups:
            for variant, run in rotated(group.runs, r):
                gc.collect()
                gc.disable()
                try:
                    elapsed = run(group.calls)
                finally:
                    gc.enable()
                variant.per_call_ns.append(elapsed / group.calls)
        log(round_line("sync", r, cfg.rounds, groups))
    return groups


def run_async(params: dict[str, Any], cfg: Settings) -> Sequence[Group]:
    # One loop for every async variant; a plain selector loop, never uvloop.
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        loop = runner.get_loop()
        kind = f"{type(loop).__module__}.{type(loop).__qualname__}"
        if "uvloop" in kind:
            raise RuntimeError(f"expected asyncio's own event loop, got {kind}")
        log(f"async: event loop {kind}")
        return runner.run(_async_main(params, cfg))


async def _async_main(params: dict[str, Any], cfg: Settings) -> Sequence[Group]:
    log("async: connecting (raw psycopg, wrapper default plugins, wrapper execute_time)")
    async with AsyncExitStack() as stack:
        raw = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        stack.push_async_callback(raw.close)
        log(f"  server: PostgreSQL {raw.info.server_version}")
        with connect_log(WRAPPER):
            wrapper = await aws_wrapper.aio.connect("", driver="psycopg", **params, autocommit=True)
        stack.push_async_callback(wrapper.close)
        with connect_log(WRAPPER_ET):
            timed = await aws_wrapper.aio.connect(
                "", driver="psycopg", plugins="execute_time", **params, autocommit=True
            )
        stack.push_async_callback(timed.close)
        return await _async_rounds(raw, wrapper, timed, cfg)


async def _async_rounds(
    raw: psycopg.AsyncConnection[tuple[object, ...]],
    wrapper: aws_wrapper.aio.AsyncAwsWrapperConnection,
    timed: aws_wrapper.aio.AsyncAwsWrapperConnection,
    cfg: Settings,
) -> Sequence[Group]:
    one = AsyncGroup("async", SELECT_ONE, cfg.calls)
    rows = AsyncGroup("async", ROWS_LABEL, max(1, cfg.calls // ROWS_CALLS_DIVISOR))
    cursors: list[tuple[str, AsyncCursor]] = [
        (RAW, raw.cursor()),
        (WRAPPER, wrapper.cursor()),
        (WRAPPER_ET, timed.cursor()),
    ]
    pids = []
    for label, cur in cursors:
        pids.append(await check_async(cur, f"async {label}"))
        one.add(label, label == RAW, async_select_one(cur))
    if cfg.pin:
        log(f"  {pin_to_one_cpu(pids)}")
    for label, cur in cursors[:2]:
        rows.add(label, label == RAW, async_rows(cur))
    groups = [one, rows]

    log(f"async: warm-up ({cfg.warmup} calls per variant)")
    for group in groups:
        for _, run in group.runs:
            await run(max(1, cfg.warmup * group.calls // cfg.calls))

    log(f"async: {cfg.rounds} rounds x {one.calls} calls (rows: {rows.calls} calls)")
    for r in range(cfg.rounds):
        for group in groups:
            for variant, run in rotated(group.runs, r):
                gc.collect()
                gc.disable()
                try:
                    elapsed = await run(group.calls)
                finally:
                    gc.enable()
                variant.per_call_ns.append(elapsed / group.calls)
        log(round_line("async", r, cfg.rounds, groups))
    return groups


# -- report ----------------------------------------------------------------------------------


def report(groups: Sequence[Group], rounds: int) -> None:
    header = (
        f"{'world':<6} {'query':<10} {'variant':<26} {'median us/call':>14} "
        f"{'min us/call':>11} {'IQR %':>6} {'+us/call':>8} {'wrapper/raw':>11}"
    )
    print()
    print(f"per-call time, median over {rounds} rounds")
    print(header)
    print("-" * len(header))
    for group in groups:
        base = group.baseline.median_us()
        for v in group.variants:
            median = v.median_us()
            extra = "" if v.raw else f"{median - base:+.2f}"
            ratio = "(base)" if v.raw else f"{median / base:.3f}"
            print(
                f"{group.world:<6} {group.query:<10} {v.label:<26} {median:>14.2f} "
                f"{v.min_us():>11.2f} {v.spread_pct():>6.1f} {extra:>8} {ratio:>11}"
            )
    print()
    for group in groups:
        if group.query != SELECT_ONE:
            continue
        wrapper = next(v for v in group.variants if v.label == WRAPPER)
        value = wrapper.median_us() / group.baseline.median_us()
        print(f"{group.world} {group.query}: wrapper/raw = {value:.2f} (target <= {TARGET:.2f})")
    sys.stdout.flush()


# -- command line ----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="overhead.py",
        description=(
            "Per-call overhead of aws_wrapper over raw psycopg (sync and async) on one local "
            "PostgreSQL: SELECT 1 round trips and a 1,000-row fetch, raw vs wrapper with the "
            "default plugins (and with plugins='execute_time'), in interleaved rounds. Prints "
            "the median us/call per variant and the wrapper/raw ratio. Exits 0 whatever the "
            "ratios; non-zero only on errors."
        ),
    )
    parser.add_argument(
        "--rounds",
        type=positive_int,
        help=f"interleaved rounds per variant (default {DEFAULT_ROUNDS}; {QUICK_ROUNDS} with "
        "--quick)",
    )
    parser.add_argument(
        "--calls",
        type=positive_int,
        help=f"SELECT 1 calls per variant per round (default {DEFAULT_CALLS}; {QUICK_CALLS} "
        f"with --quick); the 1,000-row fetch makes calls/{ROWS_CALLS_DIVISOR}",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run (a few seconds; the numbers are noisy)",
    )
    parser.add_argument(
        "--only",
        choices=("sync", "async"),
        help="measure only one world (default both)",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin this process and the server backends to one CPU (noisier numbers)",
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS
    if args.calls is None:
        args.calls = QUICK_CALLS if args.quick else DEFAULT_CALLS
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    calls: int = args.calls
    cfg = Settings(rounds=args.rounds, calls=calls, warmup=max(50, calls // 2), pin=args.pin)
    started = time.monotonic()
    log(
        f"aws_wrapper {aws_wrapper.__version__}, psycopg {psycopg.__version__} "
        f"({psycopg.pq.__impl__} impl, libpq {psycopg.pq.version()}), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs"
    )
    log(
        f"rounds {cfg.rounds}, calls {cfg.calls}, warm-up {cfg.warmup}, "
        f"pin {'on' if cfg.pin else 'off'}, worlds {args.only or 'sync, async'}"
    )
    groups: list[Group] = []
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        with PostgresServer(log=lambda m: log(f"  [pg] {m}")) as server:
            params: dict[str, Any] = server.conn_params()
            if args.only in (None, "sync"):
                groups += run_sync(params, cfg)
            if args.only in (None, "async"):
                groups += run_async(params, cfg)
    except KeyboardInterrupt:
        print("overhead.py: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        traceback.print_exc()
        print(f"overhead.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
    report(groups, cfg.rounds)
    log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
