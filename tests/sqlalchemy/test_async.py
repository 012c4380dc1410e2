"""The asyncio SQLAlchemy dialects (create_async_engine) on the devcluster: psycopg and aiomysql
through aws_wrapper.aio. The key test: a pooled engine under 20 concurrent sessions across a
failover."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

import aws_wrapper.aio as aw
from aws_wrapper._compat import arun_blocking
from aws_wrapper.sqlalchemy import wrapper_connection
from aws_wrapper_devcluster import Cluster

from .helpers import (
    Base,
    Item,
    cluster_for,
    instance_sql,
    kill_session,
    session_id_sql,
    url_for,
)

FAILOVER_ERRORS = (aw.FailoverSuccessError, aw.TransactionResolutionUnknownError)


@pytest.fixture(params=["psycopg", "aiomysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    return cluster_for(request, driver)


@pytest.fixture(autouse=True)
async def release_monitors() -> AsyncIterator[None]:
    yield
    await aw.release_resources()


def make_engine(
    cluster: Cluster,
    driver: str,
    query: dict[str, object] | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    props: dict[str, object] = {
        "wrapper_plugins": "failover_v2,read_write_splitting",
        "failover_timeout_sec": 20,
    }
    props.update(query or {})
    return create_async_engine(url_for(cluster, driver, **props), **kwargs)


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


@pytest.fixture
async def engine(cluster: Cluster, driver: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(cluster, driver)
    await create_tables(engine)
    yield engine
    await engine.dispose()


async def test_orm_crud(engine: AsyncEngine, driver: str) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        session.add_all([Item(id=i, name=f"item {i}") for i in range(1, 6)])
    async with sessions() as session:
        found = (await session.scalars(select(Item).where(Item.id > 2).order_by(Item.id))).all()
        assert [i.id for i in found] == [3, 4, 5]
        found[0].name = "changed"
        await session.commit()
        result = await session.execute(update(Item).where(Item.id < 3).values(name="bulk"))
        assert result.rowcount == 2  # type: ignore[attr-defined]
        await session.execute(delete(Item).where(Item.id == 5))
        await session.execute(update(Item), [{"id": 4, "name": "x"}])  # executemany
        await session.commit()
    async with sessions() as session:
        rows = await session.execute(select(Item.id, Item.name).order_by(Item.id))
        assert {i: n for i, n in rows} == {1: "bulk", 2: "bulk", 3: "changed", 4: "x"}
        conn = await session.connection()
        wrapper = wrapper_connection(conn)
        assert isinstance(wrapper, aw.AsyncAwsWrapperConnection)
        assert wrapper.current_host is not None
        assert await session.scalar(text(instance_sql(driver))) == wrapper.current_host.host_id
    assert engine.dialect.driver == "aws_wrapper_" + driver
    assert engine.dialect.is_async


async def test_url_properties_are_applied(cluster: Cluster, driver: str) -> None:
    plain = "pg" if driver == "psycopg" else "mysql"
    engine = make_engine(cluster, driver, {"wrapper_dialect": plain})
    async with engine.connect() as conn:
        assert wrapper_connection(conn).dialect_code == plain
    await engine.dispose()
    engine = make_engine(cluster, driver, {"no_such_property": "1"})
    with pytest.raises(sa_exc.InterfaceError, match="'no_such_property'") as info:
        async with engine.connect():
            pass
    assert isinstance(info.value.orig, aw.PropertyError)
    await engine.dispose()


async def test_read_write_splitting_with_sessions(
    engine: AsyncEngine, driver: str, cluster: Cluster
) -> None:
    writer = cluster.writer
    sql = text(instance_sql(driver))
    writers = async_sessionmaker(engine)
    readers = async_sessionmaker(engine.execution_options(aws_read_only=True))
    async with writers() as session, session.begin():
        session.add(Item(id=1, name="written"))
        assert await session.scalar(sql) == writer
    async with readers() as session:
        reader = await session.scalar(sql)
        assert reader != writer
        assert reader in cluster.instance_ids
        # replication brings the row to the reader
        for _ in range(50):
            if await session.get(Item, 1) is not None:
                break
            await session.rollback()
            await asyncio.sleep(0.05)
        assert (await session.get(Item, 1)) is not None
        await session.rollback()
        session.add(Item(id=2, name="refused"))
        with pytest.raises(sa_exc.DBAPIError, match=r"(?i)read.only|recovery"):
            await session.commit()
    async with writers() as session:  # the pooled connection went back to the writer
        assert await session.scalar(sql) == writer
        conn = await session.connection()
        assert wrapper_connection(conn).read_only is False
    async with writers() as session:  # one session's bind, per transaction
        conn = await session.connection(execution_options={"aws_read_only": True})
        assert wrapper_connection(conn).read_only is True
        assert await session.scalar(sql) != writer
    async with writers() as session:
        assert await session.scalar(sql) == writer
    if driver == "psycopg":
        async with engine.connect() as conn:
            conn = await conn.execution_options(postgresql_readonly=True)
            assert await conn.scalar(sql) != writer


async def test_pool_pre_ping_replaces_a_killed_connection(cluster: Cluster, driver: str) -> None:
    engine = make_engine(cluster, driver, pool_size=1, max_overflow=0, pool_pre_ping=True)
    async with engine.connect() as conn:
        first = int(await conn.scalar(text(session_id_sql(driver))))
    await arun_blocking(partial(kill_session, cluster, driver, first))
    async with engine.connect() as conn:
        second = int(await conn.scalar(text(session_id_sql(driver))))
    assert second != first
    # without pre-ping (and plugins), the driver's network error invalidates the connection
    await engine.dispose()
    engine = make_engine(cluster, driver, {"wrapper_plugins": ""}, pool_size=1)
    async with engine.connect() as conn:
        first = int(await conn.scalar(text(session_id_sql(driver))))
    await arun_blocking(partial(kill_session, cluster, driver, first))
    async with engine.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as info:
            await conn.execute(text("SELECT 1"))
        assert info.value.connection_invalidated
    async with engine.connect() as conn:
        assert int(await conn.scalar(text(session_id_sql(driver)))) != first
    await engine.dispose()


WORKERS = 20
POOL_SIZE = 5


@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
async def test_pooled_sessions_across_a_failover(
    cluster: Cluster, driver: str, crash: bool
) -> None:
    """20 concurrent AsyncSessions share a pool of 5 connections and commit in a loop while
    the writer fails over: every error is a documented failover error (or a disconnect that
    invalidated the connection), every reported commit is in the table, commits begun after
    the failover ran on the new writer, and so does every pooled connection at the end."""
    engine = make_engine(
        cluster,
        driver,
        {"wrapper_plugins": "failover_v2,aurora_connection_tracker"},
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=30,
    )
    try:
        await create_tables(engine)
        await run_across_a_failover(cluster, driver, engine, crash)
    finally:
        await engine.dispose()


async def run_across_a_failover(
    cluster: Cluster, driver: str, engine: AsyncEngine, crash: bool
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    sql = text(instance_sql(driver))
    old_writer = cluster.writer
    committed: list[int] = []
    after: list[tuple[str, str]] = []  # (instance by SQL, wrapper's current host) per commit
    seen: Counter[str] = Counter()
    unexpected: list[str] = []
    done: dict[str, Any] = {}
    stop = asyncio.Event()

    async def worker(n: int) -> None:
        next_id = n * 1_000_000
        while not stop.is_set():
            next_id += 1
            started = time.monotonic()
            try:
                async with sessions() as session, session.begin():
                    session.add(Item(id=next_id, name="w", worker=n))
                    await session.flush()
                    where = str(await session.scalar(sql))
                    host = wrapper_connection(await session.connection()).current_host
                committed.append(next_id)
                if "at" in done and started > done["at"]:
                    after.append((where, str(host.host_id) if host else "?"))
            except sa_exc.DBAPIError as e:
                if isinstance(e.orig, FAILOVER_ERRORS):
                    seen[type(e.orig).__name__] += 1
                elif e.connection_invalidated:
                    seen[f"invalidated {type(e.orig).__name__}"] += 1
                else:
                    unexpected.append(repr(e))
            except Exception as e:
                unexpected.append(repr(e))
            await asyncio.sleep(0.005)

    async def failover() -> None:
        await asyncio.sleep(1.0)
        result = await arun_blocking(partial(cluster.failover, crash=crash))
        done["at"] = time.monotonic()
        done["new_writer"] = result["new_writer"]
        # until every worker has committed after the failover (the wrapper confirms the new
        # writer through its topology monitor first), and a little more
        deadline = done["at"] + 20
        while len(after) < WORKERS * 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        done["recovered"] = time.monotonic() - done["at"]
        await asyncio.sleep(0.5)
        stop.set()

    started = time.monotonic()
    async with asyncio.timeout(60):
        await asyncio.gather(failover(), *(worker(n) for n in range(WORKERS)))
    new_writer = done["new_writer"]
    assert new_writer != old_writer
    assert not unexpected, unexpected[:5]
    assert sum(seen.values()) > 0, "the failover went unnoticed"
    assert committed
    assert after, "nothing was committed after the failover"
    assert {w for w, _ in after} == {new_writer}, Counter(after)
    assert {h for _, h in after} == {new_writer}, Counter(after)

    # every pooled connection is on the new writer
    conns = [await engine.connect() for _ in range(POOL_SIZE)]
    try:
        for conn in conns:
            assert await conn.scalar(sql) == new_writer
            host = wrapper_connection(conn).current_host
            assert host is not None and host.host_id == new_writer
    finally:
        for conn in conns:
            await conn.close()
    async with sessions() as session:
        present = set((await session.scalars(select(Item.id))).all())
        assert await session.scalar(select(func.count()).select_from(Item)) == len(present)
    missing = set(committed) - present
    assert not missing, f"{len(missing)} of {len(committed)} reported commits are missing"
    print(
        f"{driver}: {len(committed)} commits, errors {dict(seen)}, "
        f"{len(after)} after the failover, recovered in {done['recovered']:.1f} s, "
        f"{time.monotonic() - started:.1f} s in all"
    )
