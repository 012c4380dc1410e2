#!/usr/bin/env python3
"""What a read_only switch costs with and without internal pools, and what fastest_response picks.

Starts ONE devcluster (1 writer + 2 readers) per engine and, in each world (sync: psycopg or
pymysql; async: psycopg or aiomysql on one asyncio event loop), measures with
``plugins="read_write_splitting"``:

* **toggle**: on one long-lived wrapper connection, ``read_only = True``, ``SELECT 1``,
  ``read_only = False``, ``SELECT 1``. Without pools the plugin keeps its reader and writer
  connections; with an ``(Async)PooledConnectionProvider`` each switch gives the connection it
  leaves back to its pool and takes one from the other pool (as the AWS wrappers do), so
  the reader is picked afresh each time;
* **request**: what a web request does: open a wrapper connection (cluster endpoint),
  ``read_only = True``, ``SELECT 1``, close. Without pools every request opens a new reader
  connection; with pools it reuses one.

Variants run interleaved in rounds (order rotating); a result is the median per-operation time
over the rounds, and the ratio is pooled / not pooled (below 1: the pool is faster).

Then **fastest_response**: one reader gets ``latency 50`` (50 ms added each way by the
devcluster's proxy); ``fastest_response_strategy`` measures the readers in the background and
``reader_host_selector_strategy=fastest_response`` should pick the other reader every time. It
prints the picks of ``--picks`` new connections.

A report, not a test: exits 0 whatever the numbers; non-zero only on errors. See ``--help``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.client import default_state_dir, stop

ENGINES = ("postgresql", "mysql")
SHORT = {"postgresql": "pg", "mysql": "mysql"}
DRIVERS = {
    ("sync", "postgresql"): "psycopg",
    ("sync", "mysql"): "pymysql",
    ("async", "postgresql"): "psycopg",
    ("async", "mysql"): "aiomysql",
}
INSTANCE_SQL = {
    "postgresql": "SELECT pg_catalog.aurora_db_instance_identifier()",
    "mysql": "SELECT @@aurora_server_id",
}
LATENCY_MS = 50


def log(message: str) -> None:
    print(f"[read_write {time.strftime('%H:%M:%S')}] {message}", flush=True)


Result = dict[str, float]  # variant -> median microseconds per operation


# -- sync ------------------------------------------------------------------------------------


def sync_toggle(conn: Any) -> None:
    conn.read_only = True
    conn.cursor().execute("SELECT 1")
    conn.read_only = False
    conn.cursor().execute("SELECT 1")


def sync_request(params: dict[str, Any], provider: Any) -> None:
    with aws_wrapper.connect(connection_provider=provider, **params) as conn:
        conn.read_only = True
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchone()


def run_sync(cluster: Cluster, engine: str, rounds: int, ops: int) -> dict[str, Result]:
    params = dict(cluster.conn_params(), driver=DRIVERS[("sync", engine)])
    params["plugins"] = "read_write_splitting"
    pooled = aws_wrapper.PooledConnectionProvider()
    plain_conn = aws_wrapper.connect(**params)
    pooled_conn = aws_wrapper.connect(connection_provider=pooled, **params)
    plain_conn.autocommit = pooled_conn.autocommit = True
    variants: dict[str, Callable[[], None]] = {
        "toggle, no pool": lambda: sync_toggle(plain_conn),
        "toggle, pooled": lambda: sync_toggle(pooled_conn),
        "request, no pool": lambda: sync_request(params, None),
        "request, pooled": lambda: sync_request(params, pooled),
    }
    try:
        results = measure(variants, rounds, ops)
    finally:
        plain_conn.close()
        pooled_conn.close()
        aws_wrapper.release_resources()
    return {"sync": results}


def measure(variants: dict[str, Callable[[], None]], rounds: int, ops: int) -> Result:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for fn in variants.values():  # warm-up: open the connections and fill the pools
        for _ in range(3):
            fn()
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = variants[name]
            n = ops if name.startswith("toggle") else max(ops // 4, 1)
            t0 = time.perf_counter_ns()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter_ns() - t0) / n / 1000)
        if (r + 1) % max(rounds // 4, 1) == 0:
            log(f"    round {r + 1}/{rounds}")
    return {name: statistics.median(v) for name, v in samples.items()}


# -- async -----------------------------------------------------------------------------------


async def async_toggle(conn: Any) -> None:
    await conn.set_read_only(True)
    await conn.execute("SELECT 1")
    await conn.set_read_only(False)
    await conn.execute("SELECT 1")


async def async_request(params: dict[str, Any], provider: Any) -> None:
    async with await aws_wrapper.aio.connect(connection_provider=provider, **params) as conn:
        await conn.set_read_only(True)
        cur = await conn.execute("SELECT 1")
        await cur.fetchone()


async def run_async_world(
    cluster: Cluster, engine: str, rounds: int, ops: int
) -> dict[str, Result]:
    params = dict(cluster.conn_params(), driver=DRIVERS[("async", engine)])
    params["plugins"] = "read_write_splitting"
    pooled = aws_wrapper.aio.AsyncPooledConnectionProvider()
    plain_conn = await aws_wrapper.aio.connect(**params)
    pooled_conn = await aws_wrapper.aio.connect(connection_provider=pooled, **params)
    await plain_conn.set_autocommit(True)
    await pooled_conn.set_autocommit(True)
    variants: dict[str, Callable[[], Any]] = {
        "toggle, no pool": lambda: async_toggle(plain_conn),
        "toggle, pooled": lambda: async_toggle(pooled_conn),
        "request, no pool": lambda: async_request(params, None),
        "request, pooled": lambda: async_request(params, pooled),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    try:
        for fn in variants.values():
            for _ in range(3):
                await fn()
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                fn = variants[name]
                n = ops if name.startswith("toggle") else max(ops // 4, 1)
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    await fn()
                samples[name].append((time.perf_counter_ns() - t0) / n / 1000)
            if (r + 1) % max(rounds // 4, 1) == 0:
                log(f"    round {r + 1}/{rounds}")
    finally:
        await plain_conn.close()
        await pooled_conn.close()
        await aws_wrapper.aio.release_resources()
    return {"async": {name: statistics.median(v) for name, v in samples.items()}}


# -- fastest_response --------------------------------------------------------------------------


def fastest_response_picks(cluster: Cluster, engine: str, picks: int) -> tuple[str, Counter[str]]:
    readers = [i for i in cluster.instance_ids if i != cluster.writer]
    slow = readers[0]
    cluster.latency(slow, LATENCY_MS)
    log(f"  latency {LATENCY_MS} ms on {slow}; waiting for the first measurements")
    params = dict(cluster.conn_params(), driver=DRIVERS[("sync", engine)])
    params.update(
        plugins="fastest_response_strategy,read_write_splitting",
        reader_host_selector_strategy="fastest_response",
        response_measurement_interval_ms=1000,
    )
    counts: Counter[str] = Counter()
    try:
        with aws_wrapper.connect(**params) as first:  # starts the measuring monitors
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                first.read_only = True
                if instance_of(first, engine) != slow:
                    break
                first.read_only = False
                time.sleep(0.2)
        for _ in range(picks):
            with aws_wrapper.connect(**params) as conn:
                conn.read_only = True
                counts[instance_of(conn, engine)] += 1
    finally:
        cluster.heal(slow)
        aws_wrapper.release_resources()
    return slow, counts


def instance_of(conn: Any, engine: str) -> str:
    cur = conn.cursor()
    cur.execute(INSTANCE_SQL[engine])
    row = cur.fetchone()
    conn.rollback()
    return str(row[0])


# -- driver ----------------------------------------------------------------------------------


def run_engine(
    engine: str, worlds: Sequence[str], rounds: int, ops: int, picks: int
) -> tuple[dict[str, Result], tuple[str, Counter[str]] | None]:
    short = SHORT[engine]
    name = f"benchrw-{short}-{os.getpid()}"
    started = time.monotonic()
    log(f"starting the {engine} devcluster {name} (1 writer + 2 readers)")
    results: dict[str, Result] = {}
    picked = None
    try:
        cluster = Cluster.up(
            engine,
            readers=2,
            name=name,
            log=lambda m: log(f"  [{short}] {m}"),
            tie_to_this_process=True,
        )
        for world in worlds:
            requests = max(ops // 4, 1)
            log(f"  {engine} {world}: {rounds} rounds of {ops} toggles / {requests} requests")
            if world == "sync":
                results.update(run_sync(cluster, engine, rounds, ops))
            else:
                results.update(asyncio.run(run_async_world(cluster, engine, rounds, ops)))
        if picks:
            log(f"  {engine}: fastest_response picks over {picks} connections")
            picked = fastest_response_picks(cluster, engine, picks)
    finally:
        stop(default_state_dir(name))
        log(f"stopped the {engine} devcluster {name} ({time.monotonic() - started:.1f} s)")
    return results, picked


def report(
    engine: str, results: dict[str, Result], picked: tuple[str, Counter[str]] | None
) -> None:
    print()
    print(f"## {engine}")
    print()
    print("| world | operation | no pool (us) | pooled (us) | pooled / no pool |")
    print("|---|---|---:|---:|---:|")
    for world, r in results.items():
        for op in ("toggle", "request"):
            plain, pooled = r[f"{op}, no pool"], r[f"{op}, pooled"]
            print(f"| {world} | {op} | {plain:.0f} | {pooled:.0f} | {pooled / plain:.2f} |")
    if picked is not None:
        slow, counts = picked
        total = sum(counts.values())
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        fast_share = 100.0 * (total - counts.get(slow, 0)) / max(total, 1)
        print()
        print(
            f"fastest_response with latency {LATENCY_MS} ms on {slow}: picks {shown} "
            f"({fast_share:.0f}% on the fast reader)"
        )
    print()


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="read_write.py",
        description=(
            "Cost of a read_only switch (read_write_splitting) with and without internal "
            "connection pools on a local devcluster, sync and async, as ratios measured in one "
            "run; and the fastest_response selector's picks when one reader is 50 ms slower. "
            "Exits 0 whatever the numbers; non-zero only on errors."
        ),
    )
    parser.add_argument(
        "--engine",
        choices=(*ENGINES, "both"),
        default="both",
        help="which devcluster(s) to run (default both)",
    )
    parser.add_argument("--only", choices=("sync", "async"), help="one world only")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=12,
        help="interleaved rounds per variant (default 12)",
    )
    parser.add_argument(
        "--ops",
        type=positive_int,
        default=40,
        help="toggles per round (requests: a quarter as many; default 40)",
    )
    parser.add_argument(
        "--picks",
        type=int,
        default=20,
        help="connections for the fastest_response check (0: skip; default 20)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = ENGINES if args.engine == "both" else (args.engine,)
    worlds = (args.only,) if args.only else ("sync", "async")
    started = time.monotonic()
    log(
        f"aws_wrapper {aws_wrapper.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; engines {', '.join(engines)}; worlds {', '.join(worlds)}"
    )
    outputs = []
    try:
        for engine in engines:
            outputs.append((engine, *run_engine(engine, worlds, args.rounds, args.ops, args.picks)))
    except KeyboardInterrupt:
        print("read_write.py: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        traceback.print_exc()
        print(f"read_write.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    for engine, results, picked in outputs:
        report(engine, results, picked)
    log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
