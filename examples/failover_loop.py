"""Write in a loop through failover_v2 against a running devcluster, reporting failovers.

python -m aws_wrapper_devcluster up
python examples/failover_loop.py [--name devcluster] [--seconds 30] [--async]
python -m aws_wrapper_devcluster failover --crash      # in another shell
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import Cluster


def run_sync(cluster: Cluster, seconds: float) -> None:
    driver = "psycopg" if cluster.engine.value == "postgresql" else "pymysql"
    with aws_wrapper.connect(driver=driver, plugins="failover_v2", **cluster.conn_params()) as conn:
        conn.autocommit = True
        conn.execute("CREATE TABLE IF NOT EXISTS loop_writes (at FLOAT)")
        end, writes = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            try:
                conn.execute("INSERT INTO loop_writes VALUES (%s)", (time.time(),))
                writes += 1
            except aws_wrapper.FailoverSuccessError as e:
                print(f"failover after {writes} writes: {e}", flush=True)
            time.sleep(0.01)
        print(f"{writes} writes; now on {conn.current_host}")


async def run_async(cluster: Cluster, seconds: float) -> None:
    driver = "psycopg" if cluster.engine.value == "postgresql" else "aiomysql"
    params = cluster.conn_params()
    async with await aws_wrapper.aio.connect(driver=driver, plugins="failover_v2", **params) as c:
        await c.set_autocommit(True)
        await c.execute("CREATE TABLE IF NOT EXISTS loop_writes (at FLOAT)")
        end, writes = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            try:
                await c.execute("INSERT INTO loop_writes VALUES (%s)", (time.time(),))
                writes += 1
            except aws_wrapper.aio.FailoverSuccessError as e:
                print(f"failover after {writes} writes: {e}", flush=True)
            await asyncio.sleep(0.01)
        print(f"{writes} writes; now on {c.current_host}")
    await aws_wrapper.aio.release_resources()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="devcluster", help="devcluster name")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--async", dest="use_async", action="store_true")
    args = parser.parse_args(argv)
    cluster = Cluster.attach(args.name)
    if args.use_async:
        asyncio.run(run_async(cluster, args.seconds))
    else:
        run_sync(cluster, args.seconds)
        aws_wrapper.release_resources()
    return 0


if __name__ == "__main__":
    sys.exit(main())
