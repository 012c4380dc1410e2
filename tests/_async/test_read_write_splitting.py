"""read_write_splitting on the devcluster: both engines, both trees."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper.devcluster import Cluster

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
    await aw.release_resources()


async def instance_of(conn: AsyncAwsWrapperConnection) -> str:
    sql = (
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if conn.driver_dialect.engine == "postgresql"
        else "SELECT @@aurora_server_id"
    )
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    await conn.rollback()
    return str(row[0])


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
