"""Internal connection pools on the devcluster: both engines, both trees.

PostgreSQL pools are psycopg_pool's; MySQL pools are the wrapper's generic pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.pooled_connection_provider import default_pool_key
from aws_wrapper._compat import agather, arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncPooledConnectionProvider, PoolSettings
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import parse_properties
from aws_wrapper_devcluster import Cluster

from ..helpers import live_workers

ENGINE_OF = {"psycopg": "pg", "aiomysql": "mysql"}


@pytest.fixture(params=["psycopg", "aiomysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture
async def provider() -> AsyncIterator[AsyncPooledConnectionProvider]:
    p = AsyncPooledConnectionProvider(PoolSettings(max_size=4, timeout=5.0))
    yield p
    await aw.release_resources()


async def scalar(conn: AsyncAwsWrapperConnection, sql: str) -> Any:
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    assert row is not None
    await conn.rollback()
    return row[0]


async def instance_of(conn: AsyncAwsWrapperConnection) -> str:
    pg = conn.driver_dialect.engine == "postgresql"
    sql = "SELECT pg_catalog.aurora_db_instance_identifier()" if pg else "SELECT @@aurora_server_id"
    return str(await scalar(conn, sql))


async def backend_of(conn: AsyncAwsWrapperConnection) -> int:
    pg = conn.driver_dialect.engine == "postgresql"
    return int(await scalar(conn, "SELECT pg_backend_pid()" if pg else "SELECT CONNECTION_ID()"))


async def connect(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider | None, **props: Any
) -> AsyncAwsWrapperConnection:
    props.setdefault("plugins", "read_write_splitting")
    return await aw.connect(
        driver=driver, connection_provider=provider, **cluster.conn_params(), **props
    )


async def test_toggling_reuses_pooled_connections(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    readers: set[str] = set()
    backends: set[tuple[str, int]] = set()
    async with await connect(cluster, driver, provider) as conn:
        for _ in range(6):
            await conn.set_read_only(True)
            reader = await instance_of(conn)
            readers.add(reader)
            backends.add((reader, await backend_of(conn)))
            assert conn.current_host is not None and conn.current_host.host_id == reader
            await conn.set_read_only(False)
            assert await instance_of(conn) == cluster.writer
    # every switch went back to a pool: one server connection per reader visited, no more
    assert len(backends) == len(readers)
    stats = provider.pool_stats()
    assert stats and all(size <= 1 for size, _ in stats.values()), stats


async def test_a_pooled_connection_outlives_the_wrapper_connection(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    async with await connect(
        cluster, driver, provider, reader_host_selector_strategy="random"
    ) as c1:
        await c1.set_read_only(True)
        first = (await instance_of(c1), await backend_of(c1))
    seen = set()
    for _ in range(40):  # random picks among 2 readers: the first comes back (but for 2^-40)
        async with await connect(cluster, driver, provider) as c2:
            await c2.set_read_only(True)
            seen.add((await instance_of(c2), await backend_of(c2)))
        if first in seen:
            break
    assert first in seen
    assert len(seen) <= 2  # never more server connections than readers


async def test_returned_connections_are_reset(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    reader_host = None
    async with await connect(cluster, driver, provider) as conn:
        await conn.set_autocommit(True)
        await conn.set_read_only(True)
        reader_host = conn.current_host
        raw = conn.driver_connection
        assert conn.driver_dialect.get_read_only(raw)
    assert reader_host is not None
    # take the same pooled connection directly and look at its state
    dialect = conn.driver_dialect
    again = await provider.connect(reader_host, _props_of(cluster, dialect), dialect)
    try:
        assert dialect.get_autocommit(again) is False
        assert dialect.get_read_only(again) is False
        assert dialect.in_transaction(again) is False
    finally:
        await provider.release(again, dialect)


async def test_a_connection_given_back_is_idle_when_release_returns(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    """The reset happens in the release, not in a pool worker later: a checkout right after
    finds the connection, and no second server connection is opened for it."""
    async with await connect(cluster, driver, provider) as conn:
        await conn.set_read_only(True)
        reader = conn.current_host
        dialect = conn.driver_dialect
    assert reader is not None
    props = _props_of(cluster, dialect)
    first = await provider.connect(reader, props, dialect)
    for _ in range(3):
        await dialect.set_read_only(first, True)  # something the release must undo
        await provider.release(first, dialect)
        assert provider.pool_stats()[default_pool_key(reader, props)] == (1, 1)  # back, idle
        again = await provider.connect(reader, props, dialect)
        assert again is first
        assert dialect.get_read_only(again) is False
    await provider.release(first, dialect)


def _props_of(cluster: Cluster, dialect: Any) -> Any:
    raw = dialect.parse_target("", cluster.conn_params())
    return parse_properties(raw, dialect.driver_params(), dialect.code)


async def test_least_connections_spreads_over_readers(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    conns = [
        await connect(cluster, driver, provider, reader_host_selector_strategy="least_connections")
        for _ in range(4)
    ]
    try:
        picked = []
        for conn in conns:
            await conn.set_read_only(True)
            picked.append(await instance_of(conn))
        # each switch sees the pooled connections the earlier ones hold: 2 and 2
        assert sorted(picked.count(r) for r in set(picked)) == [2, 2], picked
    finally:
        for conn in conns:
            await conn.close()


async def test_pool_timeout_names_the_pool(cluster: Cluster, driver: str) -> None:
    provider = AsyncPooledConnectionProvider(PoolSettings(max_size=1, timeout=0.3))
    try:
        host = HostInfo(cluster.instance_host(cluster.writer), cluster.port)
        async with await connect(cluster, driver, None) as plain:
            dialect_obj = plain.driver_dialect
        props = _props_of(cluster, dialect_obj)
        first = await provider.connect(host, props, dialect_obj)
        with pytest.raises(aw.PoolTimeoutError, match=rf"pool .*{host.host}.* within 0\.3 s"):
            await provider.connect(host, props, dialect_obj)
        await provider.release(first, dialect_obj)
        second = await provider.connect(host, props, dialect_obj)  # free again
        await provider.release(second, dialect_obj)
    finally:
        await provider.release_resources()


async def test_a_refusing_reader_fails_fast_and_the_other_is_used(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    readers = [i for i in cluster.instance_ids if i != cluster.writer]
    await arun_blocking(partial(cluster.reject, readers[0]))
    try:
        async with await connect(
            cluster, driver, provider, reader_host_selector_strategy="round_robin"
        ) as conn:
            for _ in range(3):  # round robin tries the refusing reader too, then moves on
                await conn.set_read_only(True)
                assert await instance_of(conn) == readers[1]
                await conn.set_read_only(False)
    finally:
        await arun_blocking(partial(cluster.heal, readers[0]))


async def test_release_resources_closes_the_pools(cluster: Cluster, driver: str) -> None:
    provider = AsyncPooledConnectionProvider()
    async with await connect(cluster, driver, provider) as conn:
        await conn.set_read_only(True)
        await conn.set_read_only(False)
    assert provider.pool_stats()
    await aw.release_resources()
    assert provider.pool_stats() == {}
    assert live_workers("aws-wrapper:") == []  # psycopg_pool's workers are named after the pool


async def test_global_provider_is_used_by_new_connections(cluster: Cluster, driver: str) -> None:
    provider = AsyncPooledConnectionProvider()
    aw.set_connection_provider(provider)
    try:
        async with await aw.connect(
            driver=driver, plugins="read_write_splitting", **cluster.conn_params()
        ) as conn:
            await conn.set_read_only(True)
            assert provider.pool_stats()
    finally:
        aw.set_connection_provider(None)
        await aw.release_resources()


async def test_concurrent_wrapper_connections_share_the_pools(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    async def work() -> str:
        async with await connect(cluster, driver, provider) as conn:
            await conn.set_read_only(True)
            return await instance_of(conn)

    picked = await agather(*[work for _ in range(8)])
    assert set(picked) <= set(cluster.instance_ids) - {cluster.writer}
    assert all(size <= 4 for size, _ in provider.pool_stats().values())


async def test_a_bad_connection_provider_is_a_clear_error(cluster: Cluster, driver: str) -> None:
    with pytest.raises(aw.ConfigurationError, match="connection_provider"):
        await aw.connect(driver=driver, connection_provider=object(), **cluster.conn_params())
