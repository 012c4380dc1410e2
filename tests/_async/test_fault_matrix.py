"""The fault matrix: driver x world x fault, on the devcluster, with the default plugins.

For each fault, an application that keeps calling (and treats every error as retryable) must
find its connection usable again within ``failover_timeout_sec`` of the cluster being
healthy, and every error it saw must be an ``aws_wrapper.Error`` (a PEP 249 class). The
cancellation columns (mid-call, mid-failover) are async-only: tests/test_cancellation.py.

Written once as async code: tests/_sync/test_fault_matrix.py is generated from
tests/_async/test_fault_matrix.py.
"""

from __future__ import annotations

import time
import uuid
from functools import partial

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster

FAILOVER_TIMEOUT = 3.0
FAULTS = ["clean-failover", "crash-failover", "down-past-timeout", "blackhole"]


class App:
    """Calls through one connection, writing every acknowledged insert down, collecting
    every error."""

    def __init__(self, conn: AsyncAwsWrapperConnection, table: str) -> None:
        self.conn = conn
        self.table = table
        self.errors: list[BaseException] = []
        self.next_id = 0
        self.acknowledged: list[int] = []

    async def call(self) -> bool:
        """One insert; False if it failed."""
        self.next_id += 1
        try:
            await self.conn.execute(f"INSERT INTO {self.table} VALUES ({self.next_id})")
        except Exception as e:
            self.errors.append(e)
            return False
        self.acknowledged.append(self.next_id)
        return True

    async def until_usable(self, limit: float) -> float:
        """Seconds until a call succeeds (failing the test after ``limit``)."""
        start = time.monotonic()
        while not await self.call():
            elapsed = time.monotonic() - start
            assert elapsed < limit, f"not usable {elapsed:.1f} s after healing: {self.errors}"
        return time.monotonic() - start


@pytest.mark.parametrize("fault", FAULTS)
async def test_usable_again_within_the_failover_timeout(
    cluster: Cluster, driver: str, fault: str
) -> None:
    table = f"fm_{uuid.uuid4().hex[:8]}"
    async with await aw.connect(driver=driver, plugins="", **cluster.conn_params()) as admin:
        await admin.set_autocommit(True)
        await admin.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
    conn = await aw.connect(
        driver=driver,
        failover_timeout_sec=FAILOVER_TIMEOUT,
        failure_detection_time_ms=500,
        failure_detection_interval_ms=500,
        failure_detection_count=2,
        **cluster.conn_params(),
    )
    app = App(conn, table)
    try:
        await conn.set_autocommit(True)
        assert await app.call()
        writer = cluster.writer
        if fault in ("clean-failover", "crash-failover"):
            await arun_blocking(partial(cluster.failover, crash=fault == "crash-failover"))
        elif fault == "down-past-timeout":
            for instance in cluster.instance_ids:
                await arun_blocking(partial(cluster.reject, instance))
            started = time.monotonic()
            assert not await app.call()  # fails over, finds nothing, gives up
            assert time.monotonic() - started >= FAILOVER_TIMEOUT * 0.9
            assert isinstance(app.errors[-1], aw.FailoverFailedError)
            await arun_blocking(cluster.heal)
        else:
            await arun_blocking(partial(cluster.blackhole, writer))
            assert not await app.call()  # aborted by host monitoring, then failover gives up
            await arun_blocking(cluster.heal)
        # the cluster is healthy from here on
        usable_after = await app.until_usable(FAILOVER_TIMEOUT + 1.0)
        assert usable_after < FAILOVER_TIMEOUT + 1.0
        for _ in range(3):
            assert await app.call()
        for error in app.errors:
            assert isinstance(error, aw.Error), f"{type(error).__mro__}: {error}"
        # every acknowledged insert is there (clean, crash: no acknowledged commit is lost)
        cur = await conn.execute(f"SELECT id FROM {table}")
        stored = {int(row[0]) for row in await cur.fetchall()}
        assert set(app.acknowledged) <= stored
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()
