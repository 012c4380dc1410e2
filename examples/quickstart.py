"""The aws_wrapper demo: a local PostgreSQL, queried through the wrapper, blocking and async.

    .venv/bin/python examples/quickstart.py
    .venv/bin/python examples/quickstart.py --mysql   # also MariaDB (PyMySQL, aiomysql)

It starts its own server(s) on 127.0.0.1 (as an unprivileged user, in a temporary
directory), runs a few statements through ``aws_wrapper`` and ``aws_wrapper.aio``, and stops
everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import ExitStack
from typing import Any

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import MariaDBServer, PostgresServer


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def run_sync(driver: str, params: dict[str, Any]) -> None:
    start = time.perf_counter()
    with aws_wrapper.connect(driver=driver, **params) as conn:
        say(f"sync  {driver:<16} connected: {conn!r} (dialect {conn.dialect_code})")
        conn.autocommit = True
        conn.execute("DROP TABLE IF EXISTS demo_orders")
        conn.execute("CREATE TABLE demo_orders (id INT PRIMARY KEY, item VARCHAR(40))")
        conn.autocommit = False
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO demo_orders VALUES (%s, %s)",
                [(1, "coffee"), (2, "tea"), (3, "cake")],
            )
        with conn.cursor() as cur:
            cur.execute("SELECT id, item FROM demo_orders ORDER BY id")
            rows = cur.fetchall()
        conn.commit()
    say(f"sync  {driver:<16} read back {rows} in {1000 * (time.perf_counter() - start):.0f} ms")


async def run_async(driver: str, params: dict[str, Any]) -> None:
    start = time.perf_counter()
    async with await aws_wrapper.aio.connect(driver=driver, **params) as conn:
        say(f"async {driver:<16} connected: {conn!r}")
        cur = await conn.execute("SELECT COUNT(*) FROM demo_orders")
        row = await cur.fetchone()
        assert row is not None
        (count,) = row
        async with conn.transaction():
            await conn.execute("INSERT INTO demo_orders VALUES (%s, %s)", (4 + count, "scone"))
        results = await asyncio.gather(
            *(one_query(driver, params, n) for n in range(1, 6)),
        )
    elapsed = 1000 * (time.perf_counter() - start)
    say(f"async {driver:<16} {count} rows found; 5 concurrent connections said {results}")
    say(f"async {driver:<16} done in {elapsed:.0f} ms")


async def one_query(driver: str, params: dict[str, Any], n: int) -> int:
    async with await aws_wrapper.aio.connect(driver=driver, **params) as conn:
        cur = await conn.execute("SELECT %s * 10", (n,))
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql", action="store_true", help="also run against MariaDB")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        say("starting a local PostgreSQL ...")
        pg = stack.enter_context(PostgresServer(log=lambda m: say(f"  {m}")))
        engines: list[tuple[str, str, dict[str, Any]]] = [("psycopg", "psycopg", pg.conn_params())]
        if args.mysql:
            say("starting a local MariaDB ...")
            maria = stack.enter_context(MariaDBServer(log=lambda m: say(f"  {m}")))
            engines.append(("pymysql", "aiomysql", maria.conn_params()))
            engines.append(("mysql-connector", "mysql-connector", maria.conn_params()))
        for sync_driver, async_driver, params in engines:
            run_sync(sync_driver, params)
            asyncio.run(run_async(async_driver, params))
        say("stopping the server(s)")
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
