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


SLOW_S = 0.4
"""How long the slow AWS parts below take (credentials from instance metadata, a far-away
Secrets Manager): on the loop, the probe would see it."""


async def test_auth_paths_do_not_block_the_loop(
    devcluster_pg: Any,
    moto_server: Any,
    fake_adfs: Any,
    monkeypatch: pytest.MonkeyPatch,
    dns_on_loop_thread: list[str],
) -> None:
    """IAM (slow credentials), Secrets Manager (a slow secret read) and ADFS (HTTPS sign-in,
    STS) connects, with nothing cached, keep the event loop responsive."""
    import psycopg

    from aws_wrapper._async.plugins.auth import SECRETS
    from aws_wrapper._async.plugins.federated import SAML_CREDENTIALS
    from aws_wrapper.aws import clients
    from aws_wrapper.aws.credentials import (
        AwsCredentials,
        clear_sessions,
        set_credentials_provider,
    )
    from aws_wrapper.aws.iam import TOKENS
    from aws_wrapper_devcluster.aws_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY
    from aws_wrapper_devcluster.fake_idp import ADFS_USER

    cluster = devcluster_pg
    cluster.create_iam_user("iam_app")
    cluster.create_iam_user("fed_app")
    cluster.set_iam_sts_lookup(moto_server.sts_lookup_url)
    with psycopg.connect(**cluster.direct_params(cluster.writer, admin=True)) as admin:
        admin.execute("DROP ROLE IF EXISTS sm_loop")
        admin.execute("CREATE ROLE sm_loop LOGIN PASSWORD 'sm-loop-pw'")
        admin.commit()
    moto_server.create_secret("loop/db", "sm_loop", "sm-loop-pw")

    def slow_credentials(profile: str | None) -> AwsCredentials:
        time.sleep(SLOW_S)
        return AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)

    real_get_secret = clients.get_secret

    def slow_get_secret(*args: Any) -> Any:
        time.sleep(SLOW_S)
        return real_get_secret(*args)

    monkeypatch.setattr(clients, "get_secret", slow_get_secret)
    base = dict(cluster.conn_params())
    base.pop("password")
    TOKENS.clear()
    SECRETS.clear()
    SAML_CREDENTIALS.clear()
    clear_sessions()
    set_credentials_provider(slow_credentials)
    dns_on_loop_thread.clear()  # the set-up above (moto, psycopg) is the test's own
    try:
        async with probe() as lag:
            for props in (
                {**base, "user": "iam_app", "plugins": "iam,failover_v2"},
                {
                    **base,
                    "user": "sm_loop",  # the secret's user replaces it anyway
                    "plugins": "aws_secrets_manager",
                    "secrets_manager_secret_id": "loop/db",
                },
                {
                    **base,
                    "user": "fed_app",
                    "plugins": "federated_auth",
                    "idp_endpoint": f"127.0.0.1:{fake_adfs.port}",
                    "idp_username": ADFS_USER.username,
                    "idp_password": ADFS_USER.password,
                    "iam_role_arn": ADFS_USER.role_arn,
                    "iam_idp_arn": fake_adfs.idp_arn,
                    "idp_ssl_ca": fake_adfs.ca_file,
                },
            ):
                async with await aw.connect(**props) as conn:
                    cur = await conn.execute("SELECT current_user")
                    assert (await cur.fetchone())[0] == props["user"]
    finally:
        set_credentials_provider(None)
        cluster.set_iam_sts_lookup(None)
        await aw.release_resources()
    assert dns_on_loop_thread == []
    assert lag.max_lag < LAG_BOUND_S, f"event loop blocked for {lag.max_lag * 1000:.0f} ms"


def test_the_offload_pool_works_in_a_forked_child() -> None:
    """Pre-fork servers (gunicorn) fork after the pool exists: the child gets a new one."""
    import os

    from aws_wrapper._compat import arun_blocking

    assert asyncio.run(arun_blocking(lambda: 1)) == 1  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if an offloaded call completes
        try:
            signal_ok = asyncio.run(asyncio.wait_for(arun_blocking(lambda: 2), 5)) == 2
        except BaseException:
            signal_ok = False
        os._exit(0 if signal_ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


async def test_monitors_keep_no_timer_in_the_loop(devcluster_pg: Any) -> None:
    """The monitors of a connection with the default plugins on a cluster (topology,
    host_monitoring_v2) wait between their checks without a timer in the application's loop:
    one there would sit under every timer the driver makes (psycopg makes one per wait for
    its socket) and cost each of them comparisons (issue 16, see _compat.await_event)."""
    loop = asyncio.get_running_loop()
    try:
        async with await aw.connect(driver="psycopg", **devcluster_pg.conn_params()) as conn:
            for _ in range(200):
                cur = conn.cursor()
                await cur.execute("SELECT 1")
                assert await cur.fetchone() == (1,)
                await cur.close()
            monitors = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert monitors, "no monitor task: the test would prove nothing"
            # sampled over a second: a check in progress may hold a timer for a moment (its
            # read timeout); a wait between checks would be there in every sample
            seen: dict[asyncio.TimerHandle, int] = {}
            for _ in range(20):
                await asyncio.sleep(0.05)
                for h in loop._scheduled:  # type: ignore[attr-defined]
                    if not h.cancelled():
                        seen[h] = seen.get(h, 0) + 1
            assert [h for h, n in seen.items() if n > 10] == [], seen
    finally:
        await aw.release_resources()
