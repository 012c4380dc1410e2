"""Nothing in aws_wrapper.aio blocks the event loop on the main paths.

Two probes: a ticker task that measures how late the loop wakes it up (loop lag), and a
watch on ``socket.getaddrinfo`` that records DNS lookups made on the loop's own thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aws_wrapper.aio as aw
from tests.drivers import ENGINES

LAG_BOUND_S = 0.2  # a blocking DNS lookup, sleep or socket read shows as far more


class LagProbe:
    def __init__(self) -> None:
        self.max_lag = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            self.max_lag = max(self.max_lag, loop.time() - before - 0.005)


@asynccontextmanager
async def probe() -> AsyncIterator[LagProbe]:
    stop = asyncio.Event()
    lag = LagProbe()
    task = asyncio.create_task(lag.run(stop))
    await asyncio.sleep(0.02)
    try:
        yield lag
    finally:
        stop.set()
        await task


@pytest.fixture
def dns_on_loop_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Host names looked up on this (the loop's) thread while the test runs."""
    calls: list[str] = []
    loop_thread = threading.get_ident()
    real: Callable[..., Any] = socket.getaddrinfo

    def watched(host: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == loop_thread:
            calls.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    return calls


async def test_the_probe_catches_a_blocking_call() -> None:
    async with probe() as lag:
        time.sleep(0.3)  # what the probe must catch
        await asyncio.sleep(0.02)
    assert lag.max_lag > LAG_BOUND_S


@pytest.mark.parametrize("driver", ["psycopg", "aiomysql", "mysql-connector"])
async def test_main_paths_do_not_block_the_loop(
    driver: str, db_params: dict[str, Any], dns_on_loop_thread: list[str]
) -> None:
    params = {**db_params, "host": "localhost"}  # a name: resolving it must not block
    sleep_sql = "SELECT pg_sleep(0.3)" if ENGINES[driver] == "postgresql" else "SELECT SLEEP(0.3)"
    async with probe() as lag:
        for _ in range(5):
            conn = await aw.connect(driver=driver, plugins="execute_time", **params)
            cur = await conn.execute("SELECT 1")
            assert await cur.fetchone() == (1,)
            await conn.commit()
            await conn.close()
        # a slow query and an abort from another task, concurrently with the probe
        async with await aw.connect(driver=driver, plugins="", **params) as conn:
            cur = await conn.execute(sleep_sql)
            await cur.fetchall()
            query = asyncio.create_task(conn.execute(sleep_sql.replace("0.3", "5")))
            await asyncio.sleep(0.2)
            conn.abort()
            with pytest.raises(Exception) as info:
                await query
            assert conn.driver_dialect.is_network_error(info.value)
        # a connect that fails (refused) must fail without blocking too
        with pytest.raises(aw.ConnectError):
            await aw.connect(driver=driver, plugins="", **{**params, "port": 1})
    assert dns_on_loop_thread == []
    assert lag.max_lag < LAG_BOUND_S, f"event loop blocked for {lag.max_lag * 1000:.0f} ms"
