#!/usr/bin/env python3
"""Application-visible failover time of failover_v2 on the devcluster, sync and async.

Starts ONE devcluster (1 writer + 2 readers) per engine and, in each world (sync: psycopg or
pymysql, the application in a writer thread; async: psycopg or aiomysql on one asyncio event
loop), keeps one application connection (``plugins="failover_v2"``, autocommit) doing
``INSERT``s in a tight loop, one every ~5 ms. For each run the harness fails the writer over
(``cluster.failover(crash=...)``) and measures:

* **app-visible**: from just before the failover request is sent (t0) to the application's
  first successful ``INSERT`` after its ``FailoverSuccessError`` (the statement is re-run at
  once, as an application would);
* **stop+promote**: the devcluster's own ``stop_s + promote_s`` for that failover, the time the
  cluster had no writer;
* **diff**: app-visible minus stop+promote, what the application loses beyond the outage
  itself: the devcluster repointing the other readers before it publishes the new topology,
  then the wrapper's detection, writer confirmation, reconnect and re-run;
* **after done**: app-visible minus the devcluster's whole failover (``total_s``), about the
  wrapper's own share.

Between runs it waits for the old writer to rejoin as a reader and for the application to write
steadily again. The report gives, per world, engine and kind of failover (clean, crash), the
medians over the runs and whether the median diff meets the goal: application-visible failover
within 500 ms of the devcluster's promotion.

It is a report, not a test: it exits 0 whatever the numbers are, non-zero only on errors (a
cluster that does not start, an application error other than ``FailoverSuccessError``, no
recovery within 30 s). The clusters are always stopped. See ``--help`` and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from aws_wrapper._async import topology_monitor as async_topology
from aws_wrapper._sync import topology_monitor as sync_topology
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.client import default_state_dir, stop

GOAL_MS = 500.0
"""The wrapper aims to make the application write again within this long after the devcluster's
own outage (stop + promote)."""
GOAL_TEXT = f"within {GOAL_MS:.0f} ms of the devcluster's promotion"

DEFAULT_RUNS = 7
WRITE_INTERVAL_S = 0.005
"""Pause between two successful INSERTs (none after a FailoverSuccessError: re-run at once)."""
SETTLE_S = 0.3
SETTLE_WRITES = 10
"""Before each failover: the application has written steadily for this long and this many times
since the previous one, and the topology monitor knows the writer."""
SETTLE_TIMEOUT_S = 15.0
RECOVERY_TIMEOUT_S = 30.0
"""No successful write this long after t0: the run is an error."""
FAILOVER_TIMEOUT_SEC = 20.0
"""The wrapper's ``failover_timeout_sec`` (default 300): a failover that finds no writer fails
well before RECOVERY_TIMEOUT_S."""
POLL_S = 0.005

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


# -- what the application saw ----------------------------------------------------------------


class Recorder:
    """Shared by the application loop (which records) and the harness (which arms it before a
    failover and reads it after). Times are ``time.monotonic()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.armed = False
        self.error_at: float | None = None
        """When the first FailoverSuccessError of the armed window was caught."""
        self.error_message = ""
        self.recovered_at: float | None = None
        """When the first INSERT after that error succeeded."""
        self.last_ok_before: float | None = None
        """When the last INSERT before that error succeeded (possibly before t0)."""
        self.failovers_seen = 0
        self.stray_failovers = 0
        """FailoverSuccessErrors while no failover was requested (should stay 0)."""
        self.streak = 0
        self.streak_since = time.monotonic()
        self.writes = 0
        self.last_ok: float | None = None
        self.failure: BaseException | None = None

    def arm(self) -> None:
        with self._lock:
            self.armed = True
            self.error_at = self.recovered_at = self.last_ok_before = None
            self.error_message = ""
            self.failovers_seen = 0

    def disarm(self) -> None:
        with self._lock:
            self.armed = False

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
                self.stray_failovers += 1
                return
            self.failovers_seen += 1
            if self.error_at is None:
                self.error_at = now
                self.error_message = str(error)
                self.last_ok_before = self.last_ok

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self.failure = error

    def steady(self, now: float) -> bool:
        with self._lock:
            return self.streak >= SETTLE_WRITES and now - self.streak_since >= SETTLE_S

    def check_alive(self) -> None:
        if self.failure is not None:
            e = self.failure
            raise BenchError(f"the application failed: {type(e).__name__}: {e}") from e


def insert_sql(table: str, row_id: int) -> str:
    return f"INSERT INTO {table} (id) VALUES ({row_id})"


def sync_app(
    conn: aws_wrapper.AwsWrapperConnection, table: str, rec: Recorder, done: threading.Event
) -> None:
    """The application: autocommit INSERTs every WRITE_INTERVAL_S; re-run at once after a
    FailoverSuccessError. Each attempt uses a new id (a crash may or may not have kept the row
    of the failed attempt)."""
    cur = conn.cursor()
    row_id = 0
    try:
        while not done.is_set():
            row_id += 1
            try:
                cur.execute(insert_sql(table, row_id))
            except aws_wrapper.FailoverSuccessError as e:
                rec.failover(time.monotonic(), e)
                continue
            rec.ok(time.monotonic())
            time.sleep(WRITE_INTERVAL_S)
    except BaseException as e:
        rec.fail(e)


async def async_app(
    conn: aws_wrapper.aio.AsyncAwsWrapperConnection,
    table: str,
    rec: Recorder,
    done: asyncio.Event,
) -> None:
    cur = conn.cursor()
    row_id = 0
    try:
        while not done.is_set():
            row_id += 1
            try:
                await cur.execute(insert_sql(table, row_id))
            except aws_wrapper.aio.FailoverSuccessError as e:
                rec.failover(time.monotonic(), e)
                continue
            rec.ok(time.monotonic())
            await asyncio.sleep(WRITE_INTERVAL_S)
    except asyncio.CancelledError:
        raise
    except BaseException as e:
        rec.fail(e)


# -- one failover ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    world: str
    engine: str
    kind: str
    """clean or crash"""
    old_writer: str
    new_writer: str
    app_ms: float
    """t0 -> first successful INSERT after the FailoverSuccessError."""
    stop_ms: float
    promote_ms: float
    total_ms: float
    """The devcluster's whole failover (stop, promote, repoint readers, topology, DNS)."""
    error_ms: float
    """t0 -> FailoverSuccessError caught by the application."""
    last_ok_ms: float | None
    """t0 -> last successful INSERT before it (negative: before t0)."""
    request_ms: float
    """t0 -> the failover request returned."""
    failovers_seen: int

    @property
    def outage_ms(self) -> float:
        return self.stop_ms + self.promote_ms

    @property
    def diff_ms(self) -> float:
        return self.app_ms - self.outage_ms

    @property
    def after_done_ms(self) -> float:
        """app-visible minus the devcluster's whole failover: the topology names the new
        writer only at the end of it (after the other readers are repointed), so this is
        what the wrapper itself takes to see the new writer, connect and re-run."""
        return self.app_ms - self.total_ms


def timed_failover(cluster: Cluster, crash: bool) -> tuple[float, dict[str, Any], float]:
    """t0 (just before the request is sent), the devcluster's result, when it returned."""
    t0 = time.monotonic()
    result = cluster.failover(crash=crash)
    return t0, result, time.monotonic()


def monitors_settled(found: Sequence[Any], cluster: Cluster) -> bool:
    """No topology monitor of this cluster is looking for the writer (panic mode)."""
    return not any(cluster.name in m.cluster_id and m.in_panic() for m in found)


def recovered(rec: Recorder, t0: float) -> bool:
    rec.check_alive()
    if rec.recovered_at is not None:
        return True
    if time.monotonic() - t0 > RECOVERY_TIMEOUT_S:
        seen = (
            f"it saw FailoverSuccessError after {(rec.error_at - t0) * 1000:.0f} ms"
            if rec.error_at is not None
            else "it saw no error at all"
        )
        raise BenchError(
            f"the application did not write successfully within {RECOVERY_TIMEOUT_S:.0f} s of "
            f"the failover ({seen})"
        )
    return False


def finish_run(
    world: str,
    engine: str,
    crash: bool,
    t0: float,
    result: dict[str, Any],
    returned: float,
    rec: Recorder,
) -> Run:
    rec.disarm()
    assert rec.error_at is not None and rec.recovered_at is not None
    new_writer = str(result["new_writer"])
    if new_writer not in rec.error_message:
        raise BenchError(
            f"the devcluster promoted {new_writer}, but the application's FailoverSuccessError "
            f"names another host: {rec.error_message}"
        )
    return Run(
        world=world,
        engine=engine,
        kind="crash" if crash else "clean",
        old_writer=str(result["old_writer"]),
        new_writer=new_writer,
        app_ms=(rec.recovered_at - t0) * 1000,
        stop_ms=float(result["stop_s"]) * 1000,
        promote_ms=float(result["promote_s"]) * 1000,
        total_ms=float(result["total_s"]) * 1000,
        error_ms=(rec.error_at - t0) * 1000,
        last_ok_ms=None if rec.last_ok_before is None else (rec.last_ok_before - t0) * 1000,
        request_ms=(returned - t0) * 1000,
        failovers_seen=rec.failovers_seen,
    )


def run_line(run: Run, index: int, runs: int) -> str:
    last = "-" if run.last_ok_ms is None else f"{run.last_ok_ms:+.0f}"
    extra = f", {run.failovers_seen} FailoverSuccessErrors" if run.failovers_seen != 1 else ""
    return (
        f"  {run.world:<5} {SHORT_ENGINE[run.engine]:<5} {run.kind:<5} {index}/{runs} "
        f"{run.old_writer} -> {run.new_writer}: app-visible {run.app_ms:4.0f} ms, "
        f"stop+promote {run.outage_ms:4.0f} ms (stop {run.stop_ms:.0f} + promote "
        f"{run.promote_ms:.0f}; all done {run.total_ms:.0f}), diff {run.diff_ms:+4.0f} ms "
        f"({run.after_done_ms:+.0f} after all done) "
        f"[last write {last}, error {run.error_ms:+.0f}, request back {run.request_ms:+.0f}"
        f"{extra}]"
    )


def plan(runs: int, kinds: Sequence[bool]) -> list[tuple[int, bool]]:
    """(run number, crash) in order: the kinds alternate within each run number."""
    return [(i, crash) for i in range(1, runs + 1) for crash in kinds]


def table_name(world: str) -> str:
    return f"bench_failover_{world}_{os.getpid()}"


def create_table_sql(table: str) -> str:
    """The table is new (its name has the pid) on a throw-away cluster."""
    return f"CREATE TABLE {table} (id BIGINT PRIMARY KEY)"


def connect_props(cluster: Cluster) -> dict[str, Any]:
    return {
        "plugins": "failover_v2",
        "failover_timeout_sec": FAILOVER_TIMEOUT_SEC,
        **cluster.conn_params(),
    }


# -- the sync world --------------------------------------------------------------------------


def run_sync(cluster: Cluster, engine: str, runs: int, kinds: Sequence[bool]) -> list[Run]:
    driver = DRIVERS[("sync", engine)]
    log(f"sync world, {engine}: {driver}, the application in a writer thread")
    results: list[Run] = []
    table = table_name("sync")
    conn = aws_wrapper.connect(driver=driver, **connect_props(cluster))
    try:
        conn.set_autocommit(True)
        conn.execute(create_table_sql(table))
        rec = Recorder()
        done = threading.Event()
        app = threading.Thread(
            target=sync_app, args=(conn, table, rec, done), name="bench-app", daemon=True
        )
        app.start()
        try:
            for index, crash in plan(runs, kinds):
                deadline = time.monotonic() + SETTLE_TIMEOUT_S
                while not (
                    rec.steady(time.monotonic())
                    and monitors_settled(sync_topology.monitors(), cluster)
                ):
                    rec.check_alive()
                    if time.monotonic() > deadline:
                        raise BenchError("the application did not write steadily before a run")
                    time.sleep(POLL_S)
                rec.arm()
                t0, result, returned = timed_failover(cluster, crash)
                while not recovered(rec, t0):
                    time.sleep(POLL_S)
                run = finish_run("sync", engine, crash, t0, result, returned, rec)
                results.append(run)
                log(run_line(run, index, runs))
                cluster.wait_rejoins()
            rec.check_alive()
            if rec.stray_failovers:
                log(f"  note: {rec.stray_failovers} FailoverSuccessError(s) outside failovers")
        finally:
            done.set()
            app.join(5.0)
        log(f"  {rec.writes} INSERTs in the sync world")
    finally:
        with contextlib.suppress(Exception):
            conn.close()
        aws_wrapper.release_resources()
    return results


# -- the async world -------------------------------------------------------------------------


def run_async(cluster: Cluster, engine: str, runs: int, kinds: Sequence[bool]) -> list[Run]:
    driver = DRIVERS[("async", engine)]
    log(f"async world, {engine}: {driver}, the application as a task on one asyncio event loop")
    return asyncio.run(_async_main(cluster, engine, driver, runs, kinds))


async def _async_main(
    cluster: Cluster, engine: str, driver: str, runs: int, kinds: Sequence[bool]
) -> list[Run]:
    results: list[Run] = []
    table = table_name("async")
    conn = await aws_wrapper.aio.connect(driver=driver, **connect_props(cluster))
    try:
        await conn.set_autocommit(True)
        await conn.execute(create_table_sql(table))
        rec = Recorder()
        done = asyncio.Event()
        app = asyncio.create_task(async_app(conn, table, rec, done), name="bench-app")
        try:
            for index, crash in plan(runs, kinds):
                deadline = time.monotonic() + SETTLE_TIMEOUT_S
                while not (
                    rec.steady(time.monotonic())
                    and monitors_settled(async_topology.monitors(), cluster)
                ):
                    rec.check_alive()
                    if time.monotonic() > deadline:
                        raise BenchError("the application did not write steadily before a run")
                    await asyncio.sleep(POLL_S)
                rec.arm()
                t0, result, returned = await asyncio.to_thread(timed_failover, cluster, crash)
                while not recovered(rec, t0):
                    await asyncio.sleep(POLL_S)
                run = finish_run("async", engine, crash, t0, result, returned, rec)
                results.append(run)
                log(run_line(run, index, runs))
                await asyncio.to_thread(cluster.wait_rejoins)
            rec.check_alive()
            if rec.stray_failovers:
                log(f"  note: {rec.stray_failovers} FailoverSuccessError(s) outside failovers")
        finally:
            done.set()
            try:
                await asyncio.wait_for(app, 5.0)
            except (TimeoutError, asyncio.CancelledError):
                pass
        log(f"  {rec.writes} INSERTs in the async world")
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
        await aws_wrapper.aio.release_resources()
    return results


# -- the report ------------------------------------------------------------------------------


def report(results: Sequence[Run]) -> None:
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in results:
        groups.setdefault((run.world, run.engine, run.kind), []).append(run)
    header = (
        "world",
        "engine",
        "failover",
        "app-visible ms",
        "stop+promote ms",
        "diff ms",
        "max diff ms",
        "after done ms",
        "goal",
        "runs",
    )
    rows: list[tuple[str, ...]] = []
    for (world, engine, kind), runs in groups.items():
        diff = statistics.median(r.diff_ms for r in runs)
        met = "met" if diff <= GOAL_MS else "MISSED"
        rows.append(
            (
                world,
                engine,
                kind,
                f"{statistics.median(r.app_ms for r in runs):.0f}",
                f"{statistics.median(r.outage_ms for r in runs):.0f}",
                f"{diff:+.0f}",
                f"{max(r.diff_ms for r in runs):+.0f}",
                f"{statistics.median(r.after_done_ms for r in runs):+.0f}",
                f"diff <= {GOAL_MS:.0f} ms: {met}",
                str(len(runs)),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    left = {0, 1, 2, 8}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print()
    print(f"Application-visible failover (medians over the runs); goal: {GOAL_TEXT}")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    print(
        "app-visible: failover request sent -> first successful INSERT after the "
        "FailoverSuccessError; stop+promote: the devcluster's own stop_s + promote_s; "
        "diff: app-visible - stop+promote (max: the worst run); after done: app-visible - the "
        "devcluster's total_s (stop, promote, repoint the other readers, publish the topology)"
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="failover.py",
        description=(
            "Application-visible failover time of aws_wrapper (plugins='failover_v2') on a "
            "local devcluster, sync and async: an application INSERTs every ~5 ms while the "
            "writer is failed over; measures failover request -> first successful INSERT after "
            "the FailoverSuccessError, against the devcluster's own stop + promote time. "
            f"Goal: {GOAL_TEXT}. Exits 0 whatever the numbers; non-zero only on errors."
        ),
    )
    parser.add_argument(
        "--runs",
        type=positive_int,
        default=DEFAULT_RUNS,
        help=f"failovers per world, engine and kind (default {DEFAULT_RUNS})",
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
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--crash",
        dest="kinds",
        action="store_const",
        const=(True,),
        help="only crash failovers (the writer is killed)",
    )
    kind.add_argument(
        "--clean",
        dest="kinds",
        action="store_const",
        const=(False,),
        help="only clean failovers (the writer is stopped after the target caught up)",
    )
    parser.set_defaults(kinds=(False, True))
    return parser.parse_args(argv)


def run_engine(engine: str, worlds: Sequence[str], runs: int, kinds: Sequence[bool]) -> list[Run]:
    """Start the engine's devcluster, run the worlds on it, stop it (always)."""
    short = SHORT_ENGINE[engine]
    name = f"benchfo-{short}-{os.getpid()}"
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
                results += run_sync(cluster, engine, runs, kinds)
            else:
                results += run_async(cluster, engine, runs, kinds)
    finally:
        stop(default_state_dir(name))
        log(f"stopped the {engine} devcluster {name} ({time.monotonic() - started:.1f} s)")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = ENGINES if args.engine == "both" else (args.engine,)
    worlds = (args.only,) if args.only else ("sync", "async")
    kinds: tuple[bool, ...] = args.kinds
    started = time.monotonic()
    log(
        f"aws_wrapper {aws_wrapper.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; engines {', '.join(engines)}; worlds {', '.join(worlds)}; "
        f"{args.runs} runs of {' and '.join('crash' if k else 'clean' for k in kinds)} "
        "failovers each"
    )
    results: list[Run] = []
    try:
        for engine in engines:
            results += run_engine(engine, worlds, args.runs, kinds)
    except KeyboardInterrupt:
        print("failover.py: interrupted", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"failover.py: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"failover.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    report(results)
    log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
