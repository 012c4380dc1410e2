"""read_write_splitting on the devcluster: both engines, both trees."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of


async def connect(cluster: Cluster, driver: str, **props: Any) -> AsyncAwsWrapperConnection:
    props.setdefault("plugins", "read_write_splitting,failover_v2")
    return await aw.connect(driver=driver, **cluster.conn_params(), **props)


async def test_read_only_moves_to_a_reader_and_back(cluster: Cluster, driver: str) -> None:
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        await conn.execute("CREATE TABLE IF NOT EXISTS rw_t (id INT)")
        writer = cluster.writer
        assert await instance_of(conn) == writer
        await conn.set_read_only(True)
        reader = await instance_of(conn)
        assert reader != writer
        assert conn.current_host is not None and conn.current_host.host_id == reader
        with pytest.raises(Exception, match=r"(?i)read.only|recovery"):
            await conn.execute("INSERT INTO rw_t VALUES (1)")  # the server's own refusal
        await conn.set_read_only(False)
        assert await instance_of(conn) == writer
        await conn.execute("INSERT INTO rw_t VALUES (1)")
        await conn.set_read_only(True)  # the reader connection is reused
        assert await instance_of(conn) == reader


async def test_switching_inside_a_transaction_is_refused(cluster: Cluster, driver: str) -> None:
    async with await connect(cluster, driver) as conn:
        await conn.execute("START TRANSACTION")
        assert conn.in_transaction
        with pytest.raises(aw.ReadWriteSplittingError, match="inside a transaction"):
            await conn.set_read_only(True)
        await conn.rollback()
        await conn.set_read_only(True)
        assert await instance_of(conn) != cluster.writer


async def test_roles_are_followed_after_a_failover(cluster: Cluster, driver: str) -> None:
    """A reader that became the writer is not used for reads."""
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        await conn.set_read_only(True)
        reader = await instance_of(conn)
        await conn.set_read_only(False)
        result = await arun_blocking(partial(cluster.failover, reader))  # promote our reader
        assert result["new_writer"] == reader
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute("SELECT 1")
        assert await instance_of(conn) == reader  # now the writer
        await conn.set_read_only(True)
        assert await instance_of(conn) != cluster.writer


def other_reader(cluster: Cluster, *not_these: str) -> str:
    return next(i for i in cluster.instance_ids if i != cluster.writer and i not in not_these)


@pytest.mark.parametrize("promote", ["other_reader", "our_reader"])
@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
async def test_back_to_the_new_writer_after_a_failover_on_a_reader(
    cluster: Cluster, driver: str, crash: bool, promote: str
) -> None:
    """The writer fails over while the connection is on a reader: leaving read-only drops
    the lost cached writer connection (its error never reaches the caller), reads the
    topology again and lands on the new writer."""
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        old_writer = cluster.writer
        await conn.set_read_only(True)
        reader = await instance_of(conn)
        assert reader != old_writer
        target = reader if promote == "our_reader" else other_reader(cluster, reader)
        result = await arun_blocking(partial(cluster.failover, target, crash=crash))
        assert result["new_writer"] == target
        await conn.set_read_only(False)
        assert conn.current_host is not None and conn.current_host.host_id == target
        assert await instance_of(conn) == target
        await conn.execute("CREATE TABLE IF NOT EXISTS rw_t_fo (id INT)")  # a writer
        await conn.execute("INSERT INTO rw_t_fo VALUES (1)")  # on the writer: the write works
        await conn.set_read_only(True)  # and back on a reader (not the promoted one)
        assert await instance_of(conn) not in (target, old_writer)


async def test_a_dead_cached_reader_is_replaced(cluster: Cluster, driver: str) -> None:
    """The cached reader connection died while the connection was on the writer: read-only
    mode goes to another reader."""
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        await conn.set_read_only(True)
        first = await instance_of(conn)
        await conn.set_read_only(False)
        await arun_blocking(partial(cluster.reject, first))  # its connections are cut
        await conn.set_read_only(True)
        second = await instance_of(conn)
        assert second not in (first, cluster.writer)
        assert conn.current_host is not None and conn.current_host.host_id == second


async def test_no_reader_left_stays_on_the_writer(cluster: Cluster, driver: str) -> None:
    """The cached reader died and no other reader answers: read-only mode stays on the writer
    (``read_write_splitting_fallback_to_writer``, default true), or fails with
    ReadWriteSplittingError when the fallback is off."""
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        writer = cluster.writer
        await conn.set_read_only(True)
        await conn.set_read_only(False)
        for reader in cluster.instance_ids:
            if reader != writer:
                await arun_blocking(partial(cluster.reject, reader))
        await conn.set_read_only(True)
        assert await instance_of(conn) == writer
    async with await connect(
        cluster, driver, read_write_splitting_fallback_to_writer=False
    ) as conn:
        await conn.set_autocommit(True)
        with pytest.raises(aw.ReadWriteSplittingError, match="no reader"):
            await conn.set_read_only(True)
        assert await instance_of(conn) == writer


@pytest.mark.parametrize("noticed", [False, True], ids=["unnoticed", "noticed"])
@pytest.mark.parametrize(
    "plugins",
    ["read_write_splitting,failover_v2", "read_write_splitting"],
    ids=["failover", "alone"],
)
async def test_a_lost_connection_at_the_switch_is_a_wrapper_error(
    cluster: Cluster, driver: str, plugins: str, noticed: bool
) -> None:
    """The reader the connection is on goes away; ``read_only = True`` then runs on the lost
    connection (MySQL: a statement; ``noticed``: a statement failed on it first, the driver
    knows it is closed). What leaves is a wrapper error, never the driver's: the failover's
    when failover_v2 is loaded (the connection is replaced), else ReadWriteSplittingError.
    Leaving read-only, and going back to a (live) reader, work afterwards."""
    failover = "failover" in plugins
    async with await connect(cluster, driver, plugins=plugins) as conn:
        await conn.set_autocommit(True)
        writer = cluster.writer
        await conn.set_read_only(True)
        reader = await instance_of(conn)
        await conn.set_read_only(False)
        await conn.set_read_only(True)  # both connections cached, on the reader
        await arun_blocking(partial(cluster.reject, reader))  # its connections are cut
        if noticed:
            # with failover_v2 the statement's failure moves the connection to the writer
            with pytest.raises(aw.FailoverSuccessError if failover else Exception):
                await instance_of(conn)
        try:
            await conn.set_read_only(True)
        except aw.Error as e:
            assert isinstance(
                e, aw.FailoverSuccessError if failover else aw.ReadWriteSplittingError
            ), e
        await conn.set_read_only(False)
        assert await instance_of(conn) == writer
        await conn.set_read_only(True)
        assert await instance_of(conn) not in (reader, writer)
