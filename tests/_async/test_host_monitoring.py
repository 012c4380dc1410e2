"""host_monitoring_v2 on the devcluster with `blackhole` (packets dropped: without it the
driver would hang), every driver, both trees (tests/_sync/ is generated)."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.plugins.host_monitoring import host_monitors
from aws_wrapper._compat import AIO, AEvent, agather, arun_blocking, asleep, aspawn, await_event
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster
from tests.helpers import first, live_workers

from .cluster import ENGINE_OF

EFM: dict[str, Any] = {
    "failure_detection_time_ms": 1000,
    "failure_detection_interval_ms": 500,
    "failure_detection_count": 2,
}
BOUND_S = 1.0 + 0.5 * 2 + 1.0  # detection time + interval x count + 1 s


def sleep_sql(driver: str, seconds: float) -> str:
    if ENGINE_OF[driver] == "pg":
        return f"SELECT pg_sleep({seconds})"
    return f"SELECT SLEEP({seconds})"


async def connect(
    cluster: Cluster, driver: str, plugins: str, endpoint: str = "cluster", **props: Any
) -> AsyncAwsWrapperConnection:
    conn = await aw.connect(
        driver=driver, plugins=plugins, **EFM, **cluster.conn_params(endpoint), **props
    )
    await conn.set_autocommit(True)
    return conn


async def test_a_call_on_a_blackholed_host_is_aborted_in_time(
    cluster: Cluster, driver: str
) -> None:
    conn = await connect(cluster, driver, "host_monitoring_v2")
    try:
        writer = cluster.writer

        async def blackhole_soon() -> None:
            await asleep(0.3)
            await arun_blocking(partial(cluster.blackhole, writer))

        worker = aspawn(blackhole_soon, name="blackhole")
        start = time.monotonic()
        with pytest.raises(Exception) as info:
            await conn.execute(sleep_sql(driver, 30))
        elapsed = time.monotonic() - start
        await worker.join(5)
        assert conn.driver_dialect.is_network_error(info.value), repr(info.value)
        assert elapsed < BOUND_S + 0.3, f"aborted after {elapsed:.2f} s (bound {BOUND_S} s)"
        assert sum(m.aborts for m in host_monitors()) == 1
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()


async def test_with_failover_the_app_lands_on_a_healthy_host(cluster: Cluster, driver: str) -> None:
    conn = await connect(cluster, driver, "failover_v2,host_monitoring_v2", failover_timeout_sec=20)
    try:
        old = cluster.writer

        async def partition_then_failover() -> None:
            await asleep(0.3)
            await arun_blocking(partial(cluster.blackhole, old))
            await arun_blocking(cluster.failover)

        worker = aspawn(partition_then_failover, name="partition")
        start = time.monotonic()
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute(sleep_sql(driver, 30))
        await worker.join(10)
        assert time.monotonic() - start < BOUND_S + 2
        assert conn.current_host is not None
        assert conn.current_host.host_id == cluster.writer != old
        cur = await conn.execute("SELECT 1")
        assert first(await cur.fetchone()) == 1
    finally:
        await arun_blocking(cluster.heal)
        await conn.close()


async def test_no_false_positive_on_a_slow_healthy_query(cluster: Cluster, driver: str) -> None:
    conn = await connect(cluster, driver, "host_monitoring_v2")
    try:
        start = time.monotonic()
        cur = await conn.execute(sleep_sql(driver, 5))
        await cur.fetchall()
        assert time.monotonic() - start >= 4.9
        monitors = host_monitors()
        assert monitors and all(m.aborts == 0 for m in monitors)
        assert sum(m.probes for m in monitors) >= 5  # it did probe, every 0.5 s past 1 s
    finally:
        await conn.close()


CONNECTIONS = 200 if AIO else 30


async def test_one_monitor_and_one_connection_per_host(cluster: Cluster, driver: str) -> None:
    if driver == "mysql-connector":
        pytest.skip("one MySQL driver per world is enough for the count")
    hosts = cluster.instance_ids

    async def one(n: int) -> AsyncAwsWrapperConnection:
        conn = await connect(cluster, driver, "host_monitoring_v2", hosts[n % len(hosts)])
        cur = await conn.execute("SELECT 1")
        await cur.fetchall()
        return conn

    conns = await agather(*(partial(one, n) for n in range(CONNECTIONS)))
    try:
        monitors = host_monitors()
        assert len(monitors) == len(hosts)
        for _ in range(50):  # each opens its connection as soon as it watches something
            if all(m.has_connection for m in monitors):
                break
            await asleep(0.05)
        assert all(m.has_connection and m.connections_opened == 1 for m in monitors)
        assert len([w for w in live_workers() if "efm" in w and "probe" not in w]) == len(hosts)
    finally:
        for conn in conns:
            await conn.close()
    await aw.release_resources()
    assert host_monitors() == [] and live_workers() == []


async def test_monitoring_connection_properties_and_disposal(cluster: Cluster, driver: str) -> None:
    """`monitoring-` properties apply to the monitor's own connection only; a monitor with
    nothing to watch stops after monitor_disposal_time_ms."""
    if driver != "psycopg":
        pytest.skip("application_name is a PostgreSQL notion")
    conn = await connect(
        cluster,
        driver,
        "host_monitoring_v2",
        application_name="the-app",
        monitor_disposal_time_ms=300,
        **{"monitoring-application_name": "efm-probe"},
    )
    try:
        (monitor,) = host_monitors()
        for _ in range(100):
            if monitor.has_connection:
                break
            await asleep(0.05)
        cur = await conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE usename = 'app' "
            "AND application_name IN ('the-app', 'efm-probe') ORDER BY 1"
        )
        assert [r[0] for r in await cur.fetchall()] == ["efm-probe", "the-app"]
    finally:
        await conn.close()
    for _ in range(40):  # nothing left to watch: the monitor stops by itself
        if not monitor.running:
            break
        await asleep(0.05)
    assert not monitor.running


async def test_faster_settings_get_a_monitor_of_their_own(cluster: Cluster, driver: str) -> None:
    """A connection with fast detection settings opened after one with the defaults (30 s
    grace) is watched with its own settings: its call on a dead host is aborted in time."""
    default = await aw.connect(driver=driver, plugins="host_monitoring_v2", **cluster.conn_params())
    fast = await connect(cluster, driver, "host_monitoring_v2")
    done = AEvent()
    writer = cluster.writer

    async def blackhole_soon() -> None:
        await asleep(0.3)
        await arun_blocking(partial(cluster.blackhole, writer))

    async def watchdog() -> None:  # without the fix the call would hang: fail it in seconds
        if not await await_event(done, BOUND_S + 2):
            fast.driver_dialect.abort(fast.driver_connection)

    try:
        assert default.current_host == fast.current_host
        assert len(host_monitors()) == 2  # one per settings, both for the writer
        guard = aspawn(watchdog, name="watchdog")
        worker = aspawn(blackhole_soon, name="blackhole")
        start = time.monotonic()
        with pytest.raises(Exception) as info:
            await fast.execute(sleep_sql(driver, 20))
        elapsed = time.monotonic() - start
        done.set()
        await worker.join(5)
        await guard.join(5)
        assert fast.driver_dialect.is_network_error(info.value), repr(info.value)
        assert elapsed < BOUND_S + 0.3, f"aborted after {elapsed:.2f} s (bound {BOUND_S} s)"
        assert sorted(m.grace_s for m in host_monitors() if m.aborts) == [1.0]
    finally:
        done.set()
        await arun_blocking(cluster.heal)
        await fast.close()
        await default.close()
