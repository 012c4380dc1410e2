# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_limitless.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The limitless plugin on a devcluster with a DB shard group (``devcluster_pg_limitless``:
3 transaction routers, each its own name and fault proxy in front of the writer).

Which router a connection went to is read from the driver connection itself (the address
its socket reached), not from the plugin. Random picks are not seeded: the spread tests
compare counts with the weights at a fixed false-failure probability (1e-4; see
docs/limitless.md).

Written once as async code: tests/_sync/test_limitless.py is generated from it.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import gather, sleep
from aws_wrapper._sync.plugins.auth import SECRETS
from aws_wrapper._sync.plugins.limitless import router_monitors
from aws_wrapper.aws.credentials import clear_sessions, set_credentials_provider
from aws_wrapper.aws.iam import TOKENS
from aws_wrapper.errors import (
    ConnectError,
    OperationalError,
    PropertyError,
    UnsupportedOperationError,
)
from aws_wrapper.limitless import weight_of
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.aws_stack import MotoServer

FALSE_FAILURE = 1e-4
"""Probability that a statistical check fails although the plugin is right."""
INTERVAL_MS = 400
"""The monitor interval of these tests."""


@pytest.fixture
def cluster(devcluster_pg_limitless: Cluster) -> Cluster:
    return devcluster_pg_limitless


def chi2_limit_2df(p: float) -> float:
    """The chi-square value exceeded with probability ``p`` at 2 degrees of freedom
    (survival function ``exp(-x / 2)``)."""
    return -2.0 * math.log(p)


def binomial_upper(n: int, p: float, alpha: float) -> int:
    """The least k with P(X > k) <= alpha for X ~ Binomial(n, p)."""
    tail = 1.0
    for k in range(n + 1):
        tail -= math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if tail <= alpha:
            return k
    return n


def params(cluster: Cluster, **props: Any) -> dict[str, Any]:
    out = dict(cluster.conn_params("shardgrp"))
    out.update(
        {
            "plugins": "limitless",
            "connect_timeout": 2,
            "limitless_transaction_router_monitor_interval_ms": INTERVAL_MS,
        }
    )
    out.update(props)
    return out


def routers(cluster: Cluster) -> dict[str, str]:
    """``address -> router id``."""
    status = cluster.limitless_status()
    assert status is not None
    return {r["address"]: r["id"] for r in status["routers"]}


def landed(conn: aw.AwsWrapperConnection) -> str:
    """The address the connection's socket reached (a router's)."""
    return str(conn.driver_connection.info.hostaddr)


def spread(cluster: Cluster, n: int, **props: Any) -> Counter[str]:
    """Router ids of ``n`` connects, counted."""
    by_address = routers(cluster)
    counts: Counter[str] = Counter()
    for _ in range(n):
        conn = aw.connect(**params(cluster, **props))
        counts[by_address[landed(conn)]] += 1
        conn.close()
    return counts


def wait_for_reading(since: float, timeout: float) -> float:
    """Until the router monitor completes a reading that started after ``since``; returns
    when (seconds after ``since``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        monitors = router_monitors()
        if monitors and monitors[0].refreshed_at > since:
            return time.monotonic() - since
        sleep(0.02)
    raise AssertionError(f"no router reading within {timeout} s")


def test_300_connects_spread_in_proportion_to_free_capacity(cluster: Cluster) -> None:
    ids = sorted(routers(cluster).values())
    loads = dict(zip(ids, (0.0, 0.5, 0.8), strict=True))
    for router, load in loads.items():
        cluster.limitless_load(router, load)
    counts = spread(cluster, 300)
    assert sum(counts.values()) == 300
    weights = {r: weight_of(load) for r, load in loads.items()}  # 10, 5, 2
    total = sum(weights.values())
    expected = {r: 300 * w / total for r, w in weights.items()}
    chi2 = sum((counts[r] - e) ** 2 / e for r, e in expected.items())
    assert chi2 < chi2_limit_2df(FALSE_FAILURE), (counts, expected, chi2)
    # and not what DNS round-robin (or a uniform pick) gives
    uniform = sum((counts[r] - 100) ** 2 / 100 for r in ids)
    assert uniform > chi2_limit_2df(FALSE_FAILURE), (counts, uniform)
    assert len(router_monitors()) == 1  # one monitor for the 300 connects


def test_spread_follows_a_load_change_within_one_interval(cluster: Cluster) -> None:
    ids = sorted(routers(cluster).values())
    busy = ids[0]
    before = spread(cluster, 30)
    assert set(before) <= set(ids)
    changed = time.monotonic()
    cluster.limitless_load(busy, 1.0)  # weight 1 against 10 and 10
    took = wait_for_reading(changed, INTERVAL_MS / 1000 + 2.0)
    # the next reading starts at most one interval after the change (plus its own time)
    assert took <= INTERVAL_MS / 1000 + 1.0, took
    n = 150
    counts = spread(cluster, n)
    limit = binomial_upper(n, 1 / 21, FALSE_FAILURE)
    assert counts[busy] <= limit, (counts, limit)


def test_blackholed_router_gets_no_connect_after_one_interval(cluster: Cluster) -> None:
    by_address = routers(cluster)
    victim = sorted(by_address.values())[1]
    spread(cluster, 1)  # the monitor runs
    for router in by_address.values():  # the victim is the likely pick: weight 10 against 1
        cluster.limitless_load(router, 0.0 if router == victim else 0.95)
    wait_for_reading(time.monotonic(), INTERVAL_MS / 1000 + 2.0)
    cut = time.monotonic()
    cluster.blackhole(victim)
    # right away: connects that pick it fail over to another router within connect_timeout
    times = []
    for _ in range(8):
        started = time.monotonic()
        conn = aw.connect(**params(cluster))
        times.append(time.monotonic() - started)
        assert by_address[landed(conn)] != victim
        conn.close()
    # one connect_timeout (2 s) on the victim, then another router
    assert all(t < 2 + 1.5 for t in times), times
    # the first pick was the victim with probability 10/12 per connect: some connect hit it
    # (P(none of 8) = (1/6)^8 < 1e-6) and it was avoided afterwards, not hit by every connect
    assert any(t >= 1.8 for t in times), times
    assert sum(t >= 1.8 for t in times) < len(times), times
    # after the next reading (one interval; longer only if the monitor's own connection was
    # on the victim: then its read timeout too) no connect even tries it
    monitor = router_monitors()[0]
    allowance = INTERVAL_MS / 1000 + monitor.connect_timeout_s + monitor.read_timeout_s + 1.0
    wait_for_reading(max(cut, monitor.refreshed_at), allowance)
    assert all(r.host != cluster.router_host(victim) for r in monitor.routers)
    for _ in range(45):
        started = time.monotonic()
        conn = aw.connect(**params(cluster))
        assert by_address[landed(conn)] != victim
        assert time.monotonic() - started < 1.0  # none waited for the victim
        conn.close()


def test_removed_router_disappears(cluster: Cluster) -> None:
    by_address = routers(cluster)
    spread(cluster, 3)
    gone = sorted(by_address.values())[0]
    gone_host = cluster.router_host(gone)
    removed = time.monotonic()
    cluster.limitless_remove(gone)
    wait_for_reading(removed, INTERVAL_MS / 1000 + 4.0)
    assert [r.host for r in router_monitors()[0].routers if r.host == gone_host] == []
    counts = spread(cluster, 45)
    assert gone not in counts and sum(counts.values()) == 45


def test_all_routers_down_is_a_clear_error_after_the_retries(cluster: Cluster) -> None:
    spread(cluster, 3)
    ids = sorted(routers(cluster).values())
    for router in ids:
        cluster.reject(router)  # refused: each attempt fails at once
    started = time.monotonic()
    with pytest.raises(ConnectError) as caught:
        aw.connect(**params(cluster, limitless_get_transaction_router_max_retries=2))
    assert isinstance(caught.value, OperationalError)
    text = str(caught.value)
    assert cluster.shard_group_host in text and "3 attempt(s)" in text, text
    assert all(cluster.router_host(r) in text for r in ids), text
    assert time.monotonic() - started < 2.0


def test_all_routers_silent_stops_at_the_time_budget(cluster: Cluster) -> None:
    spread(cluster, 3)
    for router in sorted(routers(cluster).values()):
        cluster.blackhole(router)
    started = time.monotonic()
    with pytest.raises(ConnectError, match=r"2 attempt\(s\)") as caught:
        aw.connect(**params(cluster, limitless_max_retries_ms=2500))
    took = time.monotonic() - started
    # attempt 1 times out at 2 s, attempt 2 starts within the 2.5 s budget, none after
    assert 3.5 < took < 6.0, took
    assert "limitless_max_retries_ms=2500" in str(caught.value)


def test_one_monitor_per_shard_group_not_per_connection(cluster: Cluster) -> None:
    def one() -> aw.AwsWrapperConnection:
        conn: aw.AwsWrapperConnection = aw.connect(**params(cluster))
        return conn

    conns = gather(*[one for _ in range(8)])
    conns += [one() for _ in range(4)]
    monitors = router_monitors()
    assert len(monitors) == 1
    assert monitors[0].connections_opened == 1
    assert monitors[0].key == f"{cluster.shard_group_host}:{cluster.port}"
    for conn in conns:
        conn.close()


def test_without_waiting_the_first_connect_takes_the_endpoint_as_given(
    cluster: Cluster,
) -> None:
    conn = aw.connect(**params(cluster, limitless_wait_for_transaction_router_info=False))
    assert landed(conn) in routers(cluster)  # the shard group's DNS answer
    conn.close()


def test_monitor_is_disposed_when_unused(cluster: Cluster) -> None:
    props = {
        "limitless_transaction_router_monitor_interval_ms": 50,
        "limitless_transaction_router_monitor_disposal_time_ms": 300,
    }
    conn = aw.connect(**params(cluster, **props))
    conn.close()
    monitor = router_monitors()[0]
    deadline = time.monotonic() + 3.0
    while router_monitors() and time.monotonic() < deadline:
        sleep(0.05)
    assert router_monitors() == [] and monitor.released
    conn = aw.connect(**params(cluster, **props))  # a new one starts
    assert len(router_monitors()) == 1 and router_monitors()[0] is not monitor
    conn.close()


def test_iam_token_is_for_the_router(cluster: Cluster, fake_aws_env: dict[str, str]) -> None:
    TOKENS.clear()
    clear_sessions()
    set_credentials_provider(None)
    cluster.create_iam_user("lim_iam")
    start = len(cluster.iam_log())
    props = params(cluster, user="lim_iam", plugins="limitless,iam")
    props.pop("password")
    by_address = routers(cluster)
    hosts = {cluster.router_host(r) for r in by_address.values()}
    for _ in range(6):
        conn = aw.connect(**props)
        cur = conn.execute("SELECT current_user")
        assert (cur.fetchone()) == ("lim_iam",)
        assert by_address[landed(conn)]
        conn.close()
    lines = cluster.iam_log()[start:]
    assert lines and all("accepted" in line for line in lines), lines
    # the app's connections logged in with tokens for router names; the monitor with one
    # for the shard group endpoint
    assert any(any(h in line for h in hosts) for line in lines), lines
    assert any(cluster.shard_group_host in line for line in lines), lines


def test_secrets_manager_and_limitless(cluster: Cluster, moto_server: MotoServer) -> None:
    SECRETS.clear()
    clear_sessions()
    set_credentials_provider(None)
    login = cluster.conn_params()
    moto_server.create_secret("lim/db", login["user"], login["password"])
    props = params(
        cluster, plugins="limitless,aws_secrets_manager", secrets_manager_secret_id="lim/db"
    )
    props.pop("user")
    props.pop("password")
    counts: Counter[str] = Counter()
    for _ in range(6):
        conn = aw.connect(**props)
        counts[landed(conn)] += 1
        conn.close()
    assert set(counts) <= set(routers(cluster)) and sum(counts.values()) == 6


def test_internal_pools_keep_a_pool_per_router(cluster: Cluster) -> None:
    provider = aw.PooledConnectionProvider(aw.PoolSettings(max_size=2, timeout=5.0))
    seen: set[str] = set()
    for _ in range(20):
        conn = aw.connect(**params(cluster), connection_provider=provider)
        seen.add(landed(conn))
        conn.close()
    keys = " ".join(provider.pool_stats())
    assert seen and all(
        cluster.router_host(routers(cluster)[address]) in keys for address in seen
    ), keys
    assert cluster.shard_group_host not in keys or len(provider.pool_stats()) > len(seen)


def test_mysql_is_refused_naming_the_engine() -> None:
    with pytest.raises(UnsupportedOperationError, match="engine is mysql"):
        aw.connect(
            driver="pymysql",
            host="db.shardgrp-abc123.us-east-1.rds.amazonaws.com",
            user="u",
            password="p",
            plugins="limitless",
        )


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("limitless_transaction_router_monitor_interval_ms", 0),
        ("limitless_transaction_router_monitor_interval_ms", "soon"),
        ("limitless_max_retries_ms", -1),
        ("limitless_get_transaction_router_max_retries", "many"),
        ("limitless_wait_for_transaction_router_info", "perhaps"),
    ],
)
def test_bad_properties_name_the_property(prop: str, value: Any) -> None:
    with pytest.raises(PropertyError) as caught:
        aw.connect(
            driver="psycopg",
            host="db.shardgrp-abc123.us-east-1.rds.amazonaws.com",
            user="u",
            password="p",
            plugins="limitless",
            **{prop: value},
        )
    assert prop in str(caught.value)


def test_monitor_prefix_reaches_the_monitor_connection_only(cluster: Cluster) -> None:
    conn = aw.connect(
        **params(cluster, **{"limitless-router-monitor-application_name": "lim-monitor"})
    )
    cur = conn.execute(
        "SELECT application_name FROM pg_stat_activity WHERE usename = current_user "
        "AND pid <> pg_backend_pid() AND application_name = 'lim-monitor'"
    )
    assert len(cur.fetchall()) == 1  # the monitor's connection
    cur = conn.execute("SHOW application_name")
    assert (cur.fetchone()) != ("lim-monitor",)  # not the application's
    conn.close()
