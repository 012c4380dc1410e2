"""Cancellation in aws_wrapper.aio (asyncio only: a blocking call cannot be cancelled).

A call cancelled half-way (``asyncio.wait_for`` timing it out, a task cancelled) leaves its
driver connection in an unknown protocol state: the wrapper aborts it, and the next call
replaces it, so no call ever reads the cancelled query's result and none fails for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncPooledConnectionProvider, PoolSettings
from aws_wrapper.properties import parse_properties
from aws_wrapper_devcluster import Cluster
from tests.drivers import ENGINES

DRIVERS = ["psycopg", "aiomysql", "mysql-connector"]


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
async def release_monitors() -> AsyncIterator[None]:
    yield
    await aw.release_resources()


def sleep_then(driver: str, seconds: float, value: str) -> str:
    if ENGINES[driver] == "postgresql":
        return f"SELECT pg_sleep({seconds}), '{value}'"
    return f"SELECT SLEEP({seconds}), '{value}'"


async def one(conn: AsyncAwsWrapperConnection, sql: str) -> Any:
    cur = await conn.execute(sql)
    rows = await cur.fetchall()
    return rows[0][-1]


@pytest.mark.parametrize("plugins", ["", None], ids=["no-plugins", "default-plugins"])
@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "transaction"])
async def test_timed_out_call_then_next_call_works(
    driver: str, db_params: dict[str, Any], plugins: str | None, autocommit: bool
) -> None:
    props: dict[str, Any] = {} if plugins is None else {"plugins": plugins}
    conn = await aw.connect(driver=driver, **db_params, **props)
    try:
        await conn.set_autocommit(autocommit)
        assert await one(conn, "SELECT 'first'") == "first"
        if not autocommit:
            await conn.commit()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.execute(sleep_then(driver, 1, "stale")), 0.2)
        if not autocommit:
            # the cancelled statement's transaction is gone: said once, never silently
            with pytest.raises(aw.TransactionResolutionUnknownError):
                await one(conn, "SELECT 'fresh'")
        # never the cancelled query's result, never "cancelled during execution"
        assert await one(conn, "SELECT 'fresh'") == "fresh"
        assert await one(conn, "SELECT 'again'") == "again"
        assert conn.autocommit is autocommit  # session replayed on the new connection
    finally:
        await conn.close()


async def test_cancelled_task_mid_fetch_then_next_call_works(
    driver: str, db_params: dict[str, Any]
) -> None:
    conn = await aw.connect(driver=driver, plugins="", **db_params)
    try:
        await conn.set_autocommit(True)
        cur = conn.cursor()
        task = asyncio.ensure_future(cur.execute(sleep_then(driver, 1, "stale")))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await cur.execute("SELECT 'fresh'")  # the same cursor goes on
        assert await cur.fetchall() == [("fresh",)]
    finally:
        await conn.close()


async def test_cancelled_transaction_block(driver: str, db_params: dict[str, Any]) -> None:
    conn = await aw.connect(driver=driver, plugins="", **db_params)
    try:
        with pytest.raises(TimeoutError):  # the timeout, not an error of the rollback
            async with asyncio.timeout(0.2):
                async with conn.transaction():
                    await conn.execute(sleep_then(driver, 1, "stale"))
        # the block's error told the application: the next call just works
        assert await one(conn, "SELECT 'fresh'") == "fresh"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.execute(sleep_then(driver, 1, "stale")), 0.2)
        await conn.rollback()  # a rollback after a lost transaction: nothing to report
        assert await one(conn, "SELECT 'again'") == "again"
    finally:
        await conn.close()


# -- on the devcluster, with failover ---------------------------------------------------------


def cluster_of(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINES[driver] == "postgresql" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


async def test_timed_out_call_fails_over_then_works(
    request: pytest.FixtureRequest, driver: str
) -> None:
    cluster = cluster_of(request, driver)
    conn = await aw.connect(driver=driver, plugins="failover_v2", **cluster.conn_params())
    try:
        await conn.set_autocommit(True)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.execute(sleep_then(driver, 1, "stale")), 0.2)
        with pytest.raises(aw.FailoverSuccessError):  # autocommit: nothing was lost
            await conn.execute("SELECT 1")
        assert await one(conn, "SELECT 'fresh'") == "fresh"
        assert conn.current_host is not None
        assert conn.current_host.host_id == cluster.writer
    finally:
        await conn.close()


async def test_cancelled_during_failover(request: pytest.FixtureRequest, driver: str) -> None:
    cluster = cluster_of(request, driver)
    conn = await aw.connect(
        driver=driver, plugins="failover_v2", failover_timeout_sec=30, **cluster.conn_params()
    )
    loop = asyncio.get_running_loop()
    try:
        await conn.set_autocommit(True)
        assert await one(conn, "SELECT 'first'") == "first"
        for instance in cluster.instance_ids:
            await loop.run_in_executor(None, partial(cluster.reject, instance))
        task = asyncio.ensure_future(conn.execute("SELECT 1"))
        await asyncio.sleep(0.5)  # failing over: no host answers
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await loop.run_in_executor(None, cluster.heal)
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute("SELECT 1")
        assert await one(conn, "SELECT 'fresh'") == "fresh"
    finally:
        await loop.run_in_executor(None, cluster.heal)
        await conn.close()


async def test_release_cancelled_mid_reset_frees_the_pool_slot(
    request: pytest.FixtureRequest, driver: str
) -> None:
    """Giving a pooled connection back resets it with round trips; cut short, the connection
    is closed and leaves the pool, its slot free: the next checkout (max_size 1) gets a new
    connection at once, not a pool timeout."""
    cluster = cluster_of(request, driver)
    provider = AsyncPooledConnectionProvider(PoolSettings(max_size=1, timeout=3.0))
    loop = asyncio.get_running_loop()
    conn = await aw.connect(
        driver=driver,
        plugins="read_write_splitting",
        connection_provider=provider,
        **cluster.conn_params(),
    )
    try:
        await conn.set_read_only(True)
        reader, dialect = conn.current_host, conn.driver_dialect
    finally:
        await conn.close()
    assert reader is not None and reader.host_id is not None
    target = dialect.parse_target("", cluster.conn_params())
    props = parse_properties(target, dialect.driver_params(), dialect.code)
    raw = await provider.connect(reader, props, dialect)
    await dialect.set_read_only(raw, True)  # the reset must undo these: round trips
    cur = await dialect.cursor(raw)
    await cur.execute("SELECT 1")
    await cur.fetchall()
    await loop.run_in_executor(None, partial(cluster.latency, reader.host_id, 1500))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(provider.release(raw, dialect), 0.3)
    finally:
        await loop.run_in_executor(None, partial(cluster.heal, reader.host_id))
    assert dialect.is_closed(raw)
    again = await provider.connect(reader, props, dialect)
    try:
        assert again is not raw
        assert dialect.get_read_only(again) is False
        cur = await dialect.cursor(again)
        await cur.execute("SELECT 2")
        assert (await cur.fetchall())[0][0] == 2
    finally:
        await provider.release(again, dialect)
