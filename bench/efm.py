#!/usr/bin/env python3
"""Dead-host detection time of host_monitoring_v2 (EFM) on the devcluster, sync and async.

Starts ONE devcluster (1 writer + 2 readers) per engine and, in each world (sync: psycopg or
pymysql, blocking calls; async: psycopg or aiomysql on one asyncio event loop), measures how
long a call in flight on a host that stops answering takes to fail. For each run it:

* connects through the wrapper to the cluster endpoint (``plugins="host_monitoring_v2"``,
  autocommit, the EFM settings of the command line: by default AWS's EFM v2 example settings
  ``failure_detection_time_ms=1000``, ``failure_detection_interval_ms=500``,
  ``failure_detection_count=2``) and waits until the host's monitor has its own connection;
* starts a long query (``SELECT pg_sleep(60)`` / ``SELECT SLEEP(60)``);
* about 0.3 s later blackholes the writer (``cluster.blackhole``: its packets are dropped, so
  the query hangs); **t_blackhole** is taken right after the devcluster's answer;
* waits for the query to raise (the monitor aborts it with the driver's network error):
  **detection** = that moment - t_blackhole;
* heals the cluster, closes the connection and releases the wrapper's resources (the monitors)
  so that the next run starts afresh.

The report gives, per world and engine, the median, min and max detection time against the
configured bound (``time + interval x count``), the acceptance bound (that + 1000 ms) and the
figure of aws-advanced-python-wrapper's EFM v2 with the default settings (3000 ms).

It is a report, not a test: it exits 0 whatever the numbers are, non-zero only on errors (a
cluster that does not start, a query that completes or fails with something other than a
network error, no abort within the acceptance bound + 5 s). The clusters are always stopped.
See ``--help`` and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper._async.plugins import host_monitoring as async_efm
from aws_wrapper._sync.plugins import host_monitoring as sync_efm
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.client import default_state_dir, stop

DEFAULT_TIME_MS = 1000
DEFAULT_INTERVAL_MS = 500
DEFAULT_COUNT = 2
"""AWS's EFM v2 example settings (``failure_detection_time_ms``, ``_interval_ms``, ``_count``)."""
ACCEPTANCE_MARGIN_MS = 1000
"""The acceptance bound is the configured bound plus this."""
AWS_REFERENCE_MS = 3000.0
"""aws-advanced-python-wrapper's EFM v2 detection time with the default settings (1000/500/2).
Known for those settings only: the ratio column is blank for others."""
AWS_REFERENCE_SETTINGS = (DEFAULT_TIME_MS, DEFAULT_INTERVAL_MS, DEFAULT_COUNT)

DEFAULT_RUNS = 5
BLACKHOLE_AFTER_S = 0.3
"""The writer is blackholed this long after the long query was sent."""
QUERY_S = 60
"""The long query sleeps this long (longer if the settings make detection slower)."""
WATCHDOG_EXTRA_S = 5.0
"""No abort within the acceptance bound + this after the query was sent: the harness aborts
the connection itself and the run is an error."""
MONITOR_READY_TIMEOUT_S = 5.0
"""Before each run, the host's monitor opens its own connection; wait at most this long."""
POLL_S = 0.01

ENGINES = ("postgresql", "mysql")
SHORT_ENGINE = {"postgresql": "pg", "mysql": "mysql"}
DRIVERS = {
    ("sync", "postgresql"): "psycopg",
    ("sync", "mysql"): "pymysql",
    ("async", "postgresql"): "psycopg",
    ("async", "mysql"): "aiomysql",
}


def log(message: str) -> None:
    print(message, flush=True)


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    time_ms: int
    interval_ms: int
    count: int

    @property
    def bound_ms(self) -> int:
        """The configured bound: grace time + interval x count."""
        return self.time_ms + self.interval_ms * self.count

    @property
    def acceptance_ms(self) -> int:
        return self.bound_ms + ACCEPTANCE_MARGIN_MS

    @property
    def aws_reference_ms(self) -> float | None:
        if (self.time_ms, self.interval_ms, self.count) == AWS_REFERENCE_SETTINGS:
            return AWS_REFERENCE_MS
        return None

    @property
    def watchdog_s(self) -> float:
        return self.acceptance_ms / 1000 + WATCHDOG_EXTRA_S

    @property
    def query_s(self) -> int:
        return max(QUERY_S, math.ceil(self.watchdog_s) + 10)

    def props(self) -> dict[str, Any]:
        return {
            "plugins": "host_monitoring_v2",
            "failure_detection_time_ms": self.time_ms,
            "failure_detection_interval_ms": self.interval_ms,
            "failure_detection_count": self.count,
        }

    def text(self) -> str:
        return (
            f"failure_detection_time_ms={self.time_ms}, "
            f"failure_detection_interval_ms={self.interval_ms}, "
            f"failure_detection_count={self.count}"
        )


def sleep_sql(engine: str, seconds: int) -> str:
    if engine == "postgresql":
        return f"SELECT pg_sleep({seconds})"
    return f"SELECT SLEEP({seconds})"


# -- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    world: str
    engine: str
    writer: str
    detection_ms: float
    """t_blackhole -> the query raised."""
    since_query_ms: float
    """query sent -> the query raised."""
    blackhole_at_ms: float
    """query sent -> t_blackhole (~BLACKHOLE_AFTER_S plus the request)."""
    request_ms: float
    """How long the blackhole request took (it took effect somewhere within it)."""
    error: str
    aborts: int
    """Calls the host's monitor aborted during the run (1 expected)."""
    probes: int


class Blackhole:
    """Blackholes the writer BLACKHOLE_AFTER_S after the query was sent, from a thread (the
    devcluster client blocks), and keeps the times."""

    def __init__(self, cluster: Cluster, writer: str) -> None:
        self.cluster = cluster
        self.writer = writer
        self.requested: float | None = None
        self.done: float | None = None
        """t_blackhole: right after the devcluster answered."""
        self.failure: BaseException | None = None

    def run(self, query_sent: float) -> None:
        try:
            time.sleep(max(0.0, query_sent + BLACKHOLE_AFTER_S - time.monotonic()))
            self.requested = time.monotonic()
            self.cluster.blackhole(self.writer)
            self.done = time.monotonic()
        except BaseException as e:
            self.failure = e

    def check(self) -> float:
        if self.failure is not None:
            e = self.failure
            raise BenchError(f"blackholing {self.writer} failed: {type(e).__name__}: {e}") from e
        if self.done is None:
            raise BenchError(f"blackholing {self.writer} did not finish")
        return self.done


def finish_run(
    world: str,
    engine: str,
    writer: str,
    query_sent: float,
    raised_at: float | None,
    error: BaseException | None,
    is_network_error: bool,
    watchdog_fired: bool,
    blackhole: Blackhole,
    monitors: Sequence[Any],
    settings: Settings,
) -> Run:
    t_blackhole = blackhole.check()
    assert blackhole.requested is not None
    if watchdog_fired:
        raise BenchError(
            f"the query on the blackholed {writer} was not aborted by host_monitoring_v2 within "
            f"{settings.watchdog_s:.1f} s (the harness aborted it)"
        )
    if raised_at is None or error is None:
        raise BenchError(
            f"the query on {writer} completed although {writer} was blackholed "
            f"{(t_blackhole - query_sent) * 1000:.0f} ms after it was sent"
        )
    if not is_network_error:
        raise BenchError(
            f"the query on the blackholed {writer} failed with something other than a network "
            f"error: {type(error).__name__}: {error}"
        )
    return Run(
        world=world,
        engine=engine,
        writer=writer,
        detection_ms=(raised_at - t_blackhole) * 1000,
        since_query_ms=(raised_at - query_sent) * 1000,
        blackhole_at_ms=(t_blackhole - query_sent) * 1000,
        request_ms=(t_blackhole - blackhole.requested) * 1000,
        error=type(error).__name__,
        aborts=sum(m.aborts for m in monitors),
        probes=sum(m.probes for m in monitors),
    )


def run_line(run: Run, index: int, runs: int) -> str:
    aborts = "" if run.aborts == 1 else f", {run.aborts} aborts by the monitor (1 expected)"
    return (
        f"  {run.world:<5} {SHORT_ENGINE[run.engine]:<5} {index}/{runs} {run.writer} "
        f"blackholed at {run.blackhole_at_ms:+.0f} ms (request {run.request_ms:.0f} ms): "
        f"detected in {run.detection_ms:4.0f} ms ({run.since_query_ms:.0f} ms after the query "
        f"was sent) [{run.error}, {run.probes} probes{aborts}]"
    )


def connect_props(cluster: Cluster, settings: Settings) -> dict[str, Any]:
    return {**settings.props(), **cluster.conn_params()}


# -- the sync world --------------------------------------------------------------------------


def run_sync(cluster: Cluster, engine: str, runs: int, settings: Settings) -> list[Run]:
    driver = DRIVERS[("sync", engine)]
    log(f"sync world, {engine}: {driver}, blocking calls (the monitor in a thread)")
    results: list[Run] = []
    for index in range(1, runs + 1):
        run = sync_run(cluster, engine, driver, settings)
        results.append(run)
        log(run_line(run, index, runs))
    return results


def sync_monitor_ready() -> None:
    deadline = time.monotonic() + MONITOR_READY_TIMEOUT_S
    while not any(m.has_connection for m in sync_efm.host_monitors()):
        if time.monotonic() > deadline:
            raise BenchError("the host monitor did not open its connection in time")
        time.sleep(POLL_S)


def sync_run(cluster: Cluster, engine: str, driver: str, settings: Settings) -> Run:
    writer = cluster.writer
    conn = aws_wrapper.connect(driver=driver, **connect_props(cluster, settings))
    try:
        conn.set_autocommit(True)
        conn.execute("SELECT 1").fetchall()
        sync_monitor_ready()
        blackhole = Blackhole(cluster, writer)
        fired = threading.Event()

        def watchdog() -> None:
            fired.set()
            conn.abort()

        timer = threading.Timer(settings.watchdog_s, watchdog)
        timer.daemon = True
        query_sent = time.monotonic()
        thread = threading.Thread(
            target=blackhole.run, args=(query_sent,), name="bench-blackhole", daemon=True
        )
        thread.start()
        timer.start()
        raised_at: float | None = None
        error: BaseException | None = None
        try:
            conn.execute(sleep_sql(engine, settings.query_s)).fetchall()
        except Exception as e:
            raised_at = time.monotonic()
            error = e
        finally:
            timer.cancel()
            thread.join(30.0)
        return finish_run(
            "sync",
            engine,
            writer,
            query_sent,
            raised_at,
            error,
            error is not None and conn.driver_dialect.is_network_error(error),
            fired.is_set(),
            blackhole,
            sync_efm.host_monitors(),
            settings,
        )
    finally:
        try:
            cluster.heal()
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            aws_wrapper.release_resources()


# -- the async world -------------------------------------------------------------------------


def run_async(cluster: Cluster, engine: str, runs: int, settings: Settings) -> list[Run]:
    driver = DRIVERS[("async", engine)]
    log(f"async world, {engine}: {driver}, one asyncio event loop (the monitor as a task)")
    return asyncio.run(_async_main(cluster, engine, driver, runs, settings))


async def _async_main(
    cluster: Cluster, engine: str, driver: str, runs: int, settings: Settings
) -> list[Run]:
    results: list[Run] = []
    for index in range(1, runs + 1):
        run = await async_run(cluster, engine, driver, settings)
        results.append(run)
        log(run_line(run, index, runs))
    return results


async def async_monitor_ready() -> None:
    deadline = time.monotonic() + MONITOR_READY_TIMEOUT_S
    while not any(m.has_connection for m in async_efm.host_monitors()):
        if time.monotonic() > deadline:
            raise BenchError("the host monitor did not open its connection in time")
        await asyncio.sleep(POLL_S)


async def async_run(cluster: Cluster, engine: str, driver: str, settings: Settings) -> Run:
    writer = await asyncio.to_thread(lambda: cluster.writer)
    conn = await aws_wrapper.aio.connect(driver=driver, **connect_props(cluster, settings))
    try:
        await conn.set_autocommit(True)
        await (await conn.execute("SELECT 1")).fetchall()
        await async_monitor_ready()
        blackhole = Blackhole(cluster, writer)
        fired = False

        def watchdog() -> None:
            nonlocal fired
            fired = True
            conn.abort()

        loop = asyncio.get_running_loop()
        query_sent = time.monotonic()
        # the request runs in a thread and stamps t_blackhole there, not when the loop resumes
        worker = asyncio.create_task(asyncio.to_thread(blackhole.run, query_sent))
        timer = loop.call_later(settings.watchdog_s, watchdog)
        raised_at: float | None = None
        error: BaseException | None = None
        try:
            await (await conn.execute(sleep_sql(engine, settings.query_s))).fetchall()
        except Exception as e:
            raised_at = time.monotonic()
            error = e
        finally:
            timer.cancel()
            await asyncio.wait_for(worker, 30.0)
        return finish_run(
            "async",
            engine,
            writer,
            query_sent,
            raised_at,
            error,
            error is not None and conn.driver_dialect.is_network_error(error),
            fired,
            blackhole,
            async_efm.host_monitors(),
            settings,
        )
    finally:
        try:
            await asyncio.to_thread(cluster.heal)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
            await aws_wrapper.aio.release_resources()


# -- the report ------------------------------------------------------------------------------


def report(results: Sequence[Run], settings: Settings) -> None:
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in results:
        groups.setdefault((run.world, run.engine), []).append(run)
    reference = settings.aws_reference_ms
    aws_header = (
        f"vs aws-advanced-python-wrapper EFM v2 ({AWS_REFERENCE_MS:.0f} ms with these settings)"
        if reference is not None
        else "vs aws-advanced-python-wrapper EFM v2 (known for "
        f"{DEFAULT_TIME_MS}/{DEFAULT_INTERVAL_MS}/{DEFAULT_COUNT} only)"
    )
    header = (
        "world",
        "engine",
        "median ms",
        "min ms",
        "max ms",
        "bound ms",
        "acceptance ms",
        "max within acceptance",
        aws_header,
        "runs",
    )
    rows: list[tuple[str, ...]] = []
    for (world, engine), runs in groups.items():
        detections = [r.detection_ms for r in runs]
        median = statistics.median(detections)
        within = "yes" if max(detections) <= settings.acceptance_ms else "NO"
        ratio = (
            "n/a"
            if reference is None
            else f"{median / reference:.2f}x ({median - reference:+.0f} ms)"
        )
        rows.append(
            (
                world,
                engine,
                f"{median:.0f}",
                f"{min(detections):.0f}",
                f"{max(detections):.0f}",
                str(settings.bound_ms),
                str(settings.acceptance_ms),
                within,
                ratio,
                str(len(runs)),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    left = {0, 1, 7, 8}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print()
    print(f"Dead-host detection time of host_monitoring_v2 ({settings.text()})")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    print(
        "detection: the blackhole request returned -> the in-flight query raised the driver's "
        f"network error; bound: time + interval x count = {settings.time_ms} + "
        f"{settings.interval_ms} x {settings.count} ms; acceptance: bound + "
        f"{ACCEPTANCE_MARGIN_MS} ms; vs aws-advanced-python-wrapper: median / "
        f"{AWS_REFERENCE_MS:.0f} ms (lower is faster)"
    )
    if reference is None:
        print(
            f"(the aws-advanced-python-wrapper figure is known for {DEFAULT_TIME_MS}/"
            f"{DEFAULT_INTERVAL_MS}/{DEFAULT_COUNT} only: no ratio with these settings)"
        )
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


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="efm.py",
        description=(
            "Dead-host detection time of aws_wrapper's enhanced failure monitoring "
            "(plugins='host_monitoring_v2') on a local devcluster, sync and async: a long "
            "query runs on the writer, the writer is blackholed ~0.3 s later; measures "
            "blackhole -> the query aborted with a network error, against the configured bound "
            "(time + interval x count), the acceptance bound (+1000 ms) and "
            f"aws-advanced-python-wrapper's EFM v2 ({AWS_REFERENCE_MS:.0f} ms with the default "
            "settings). Exits 0 whatever the numbers; non-zero only on errors."
        ),
    )
    parser.add_argument(
        "--runs",
        type=positive_int,
        default=DEFAULT_RUNS,
        help=f"blackholes per world and engine (default {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--engine",
        choices=(*ENGINES, "both"),
        default="postgresql",
        help="which devcluster(s) to run (default postgresql; both: one after the other)",
    )
    parser.add_argument(
        "--only",
        choices=("sync", "async"),
        help="measure only one world (default both)",
    )
    parser.add_argument(
        "--time-ms",
        type=non_negative_int,
        default=DEFAULT_TIME_MS,
        help=f"failure_detection_time_ms (default {DEFAULT_TIME_MS})",
    )
    parser.add_argument(
        "--interval-ms",
        type=positive_int,
        default=DEFAULT_INTERVAL_MS,
        help=f"failure_detection_interval_ms (default {DEFAULT_INTERVAL_MS})",
    )
    parser.add_argument(
        "--count",
        type=positive_int,
        default=DEFAULT_COUNT,
        help=f"failure_detection_count (default {DEFAULT_COUNT})",
    )
    return parser.parse_args(argv)


def run_engine(engine: str, worlds: Sequence[str], runs: int, settings: Settings) -> list[Run]:
    """Start the engine's devcluster, run the worlds on it, stop it (always)."""
    short = SHORT_ENGINE[engine]
    name = f"benchefm-{short}-{os.getpid()}"
    results: list[Run] = []
    started = time.monotonic()
    log(f"starting the {engine} devcluster {name} (1 writer + 2 readers)")
    try:
        cluster = Cluster.up(
            engine,
            readers=2,
            name=name,
            log=lambda m: log(f"  [{short}] {m}"),
            tie_to_this_process=True,
        )
        for world in worlds:
            if world == "sync":
                results += run_sync(cluster, engine, runs, settings)
            else:
                results += run_async(cluster, engine, runs, settings)
    finally:
        stop(default_state_dir(name))
        log(f"stopped the {engine} devcluster {name} ({time.monotonic() - started:.1f} s)")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = ENGINES if args.engine == "both" else (args.engine,)
    worlds = (args.only,) if args.only else ("sync", "async")
    settings = Settings(args.time_ms, args.interval_ms, args.count)
    # the monitor logs a warning for every abort; the progress lines count them instead
    logging.getLogger("aws_wrapper").setLevel(logging.ERROR)
    started = time.monotonic()
    log(
        f"aws_wrapper {aws_wrapper.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; engines {', '.join(engines)}; worlds {', '.join(worlds)}; "
        f"{args.runs} runs each; {settings.text()} (bound {settings.bound_ms} ms, acceptance "
        f"{settings.acceptance_ms} ms)"
    )
    results: list[Run] = []
    try:
        for engine in engines:
            results += run_engine(engine, worlds, args.runs, settings)
    except KeyboardInterrupt:
        print("efm.py: interrupted", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"efm.py: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"efm.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    report(results, settings)
    log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
