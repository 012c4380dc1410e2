"""Recovery: after any error the connection works again once the cluster does. On the
devcluster, every driver of the world (the sync twin is generated).

The recovery contract (docs/errors.md): a driver connection left broken by an error (a network
error, a failover that found no host, a cancelled call) is aborted at once; the next call
replaces it. With failover on a cluster it fails over (``FailoverSuccessError``, or
``TransactionResolutionUnknownError`` when a transaction was open); otherwise it reconnects
to the same host and the call goes on.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster


@pytest.fixture
async def table(cluster: Cluster, driver: str) -> Any:
    name = f"rc_{uuid.uuid4().hex[:8]}"
    async with await aw.connect(driver=driver, plugins="", **cluster.conn_params()) as conn:
        await conn.set_autocommit(True)
        await conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY)")
    return name


async def one(conn: AsyncAwsWrapperConnection, sql: str) -> Any:
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    assert row is not None
    await cur.fetchall()
    return row[0]


async def reject_all(cluster: Cluster) -> None:
    for instance in cluster.instance_ids:
        await arun_blocking(partial(cluster.reject, instance))


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "transaction"])
async def test_failover_failed_then_the_cluster_is_back(
    cluster: Cluster, driver: str, table: str, autocommit: bool
) -> None:
    conn = await aw.connect(
        driver=driver, plugins="failover_v2", failover_timeout_sec=1.0, **cluster.conn_params()
    )
    try:
        await conn.set_autocommit(autocommit)
        cur = conn.cursor()  # an old cursor, made before the failure
        await cur.execute("SELECT 1")
        await cur.fetchall()
        if not autocommit:
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
        await reject_all(cluster)
        with pytest.raises(aw.FailoverFailedError):
            await conn.execute(f"INSERT INTO {table} VALUES (2)")
        with pytest.raises(aw.FailoverFailedError):  # still down: still no raw driver error
            await conn.cursor().execute("SELECT 1")
        await arun_blocking(cluster.heal)
        # the next call fails over; the error says whether a transaction was lost
        expected = aw.FailoverSuccessError if autocommit else aw.TransactionResolutionUnknownError
        with pytest.raises(expected):
            await conn.execute(f"INSERT INTO {table} VALUES (3)")
        await conn.execute(f"INSERT INTO {table} VALUES (4)")
        if not autocommit:
            await conn.commit()
        assert await one(conn, f"SELECT COUNT(*) FROM {table}") == 1
        await cur.execute("SELECT 2")  # the old cursor works again too
        assert await cur.fetchone() == (2,)
        assert conn.autocommit is autocommit
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()


async def test_old_cursor_fails_over_with_the_right_error(cluster: Cluster, driver: str) -> None:
    conn = await aw.connect(
        driver=driver, plugins="failover_v2", failover_timeout_sec=1.0, **cluster.conn_params()
    )
    try:
        await conn.set_autocommit(True)
        cur = conn.cursor()
        await cur.execute("SELECT 1")
        await cur.fetchall()
        await reject_all(cluster)
        with pytest.raises(aw.FailoverFailedError):
            await cur.execute("SELECT 1")
        await arun_blocking(cluster.heal)
        with pytest.raises(aw.FailoverSuccessError):  # autocommit: no transaction was open
            await cur.execute("SELECT 1")
        await cur.execute("SELECT 3")
        assert await cur.fetchone() == (3,)
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()


async def test_without_failover_the_next_call_reconnects(cluster: Cluster, driver: str) -> None:
    writer = cluster.writer
    params = cluster.conn_params(writer)
    conn = await aw.connect(driver=driver, plugins="", **params)
    try:
        await conn.set_autocommit(True)
        await conn.set_isolation_level("SERIALIZABLE")
        assert await one(conn, "SELECT 1") == 1
        await arun_blocking(partial(cluster.reject, writer))
        with pytest.raises(aw.OperationalError) as info:
            await conn.execute("SELECT 1")
        assert isinstance(info.value, aw.Error)
        with pytest.raises(aw.OperationalError):  # down: the reconnect fails, clearly
            await conn.execute("SELECT 1")
        await arun_blocking(partial(cluster.heal, writer))
        assert await one(conn, "SELECT 5") == 5  # reconnected, session state replayed
        assert conn.autocommit is True
        assert conn.isolation_level == "SERIALIZABLE"
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()


async def test_without_failover_a_lost_transaction_is_reported(
    cluster: Cluster, driver: str, table: str
) -> None:
    writer = cluster.writer
    conn = await aw.connect(driver=driver, plugins="", **cluster.conn_params(writer))
    try:
        await conn.set_autocommit(False)
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
        await arun_blocking(partial(cluster.reject, writer))
        with pytest.raises(aw.OperationalError):
            await conn.execute(f"INSERT INTO {table} VALUES (2)")
        await arun_blocking(partial(cluster.heal, writer))
        with pytest.raises(aw.TransactionResolutionUnknownError):
            await conn.commit()  # never a silent commit of nothing
        await conn.execute(f"INSERT INTO {table} VALUES (3)")
        await conn.commit()
        assert await one(conn, f"SELECT COUNT(*) FROM {table}") == 1
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()
