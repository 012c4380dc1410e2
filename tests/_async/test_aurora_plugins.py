"""stale_dns, initial_connection, aurora_connection_tracker and connect retries, on the
devcluster (both engines, both trees)."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.plugins.aurora import AuroraConnectionTrackerPlugin
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of

ENGINE_OF = {"psycopg": "pg", "aiomysql": "mysql"}


@pytest.fixture(params=["psycopg", "aiomysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture(autouse=True)
async def release_monitors() -> Any:
    yield
    aw.error_simulator.clear()
    await aw.release_resources()


async def connect(
    cluster: Cluster, driver: str, plugins: str, endpoint: str = "cluster", **props: Any
) -> AsyncAwsWrapperConnection:
    return await aw.connect(
        driver=driver, plugins=plugins, **cluster.conn_params(endpoint), **props
    )


def a_reader(cluster: Cluster) -> str:
    writer = cluster.writer
    return next(i for i in cluster.instance_ids if i != writer)


@pytest.mark.parametrize("plugin", ["stale_dns", "initial_connection"])
async def test_writer_endpoint_with_stale_dns_lands_on_the_writer(
    cluster: Cluster, driver: str, plugin: str
) -> None:
    reader = a_reader(cluster)
    await arun_blocking(partial(cluster.freeze_dns, True, reader))  # DNS names a reader
    async with await connect(cluster, driver, "") as plain:
        assert await instance_of(plain) == reader  # what DNS alone does
    async with await connect(cluster, driver, plugin) as conn:
        assert await instance_of(conn) == cluster.writer
        assert conn.current_host is not None and conn.current_host.host_id == cluster.writer


async def test_reader_endpoint_connects_to_readers(cluster: Cluster, driver: str) -> None:
    writer = cluster.writer
    seen = set()
    for _ in range(6):
        async with await connect(cluster, driver, "initial_connection", "reader") as conn:
            seen.add(await instance_of(conn))
    assert seen and writer not in seen


async def test_tracker_aborts_connections_to_the_old_writer(cluster: Cluster, driver: str) -> None:
    plugins = "aurora_connection_tracker,failover_v2"
    first = await connect(cluster, driver, plugins)
    idle = await connect(cluster, driver, plugins)
    try:
        await first.set_autocommit(True)
        await idle.set_autocommit(True)
        before = AuroraConnectionTrackerPlugin.aborted
        await arun_blocking(cluster.failover)
        with pytest.raises(aw.FailoverSuccessError):
            await first.execute("SELECT 1")
        # the writer moved: the idle connection to the old one was aborted by the tracker
        assert AuroraConnectionTrackerPlugin.aborted > before
        with pytest.raises(aw.FailoverSuccessError):
            await idle.execute("SELECT 1")
        assert await instance_of(idle) == cluster.writer
    finally:
        await first.close()
        await idle.close()


async def test_failover_retries_a_rejected_connect(cluster: Cluster, driver: str) -> None:
    conn = await connect(cluster, driver, "failover_v2,dev", connection_retry_max_attempts=3)
    try:
        await conn.set_autocommit(True)
        await arun_blocking(cluster.failover)
        # the first connection to the new writer is refused (as right after a promotion)
        aw.error_simulator.raise_on_next_connect(ConnectionRefusedError("simulated refusal"))
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute("SELECT 1")
        assert aw.error_simulator.take_connect() is None  # the refusal was met, and retried
        assert await instance_of(conn) == cluster.writer
    finally:
        await conn.close()
