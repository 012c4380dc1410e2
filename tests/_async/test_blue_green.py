"""``bg`` (blue/green deployments) on the devcluster, every driver, both engines, both trees:
the status monitors against a real deployment (``cluster.bg_create()``) and without one,
pass-through, one provider per deployment per scope, the monitors' own properties, release,
missing metadata (a plain server; a real REVOKE), bad properties. Then the routing of each
phase on real connections: the statuses a switchover would publish are fed to the provider
(its monitors stopped), and connects and calls are held, pinned to recorded addresses or
refused. The phase logic itself: tests/test_blue_green_phases.py."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.plugins.blue_green import (
    BlueGreenPlugin,
    BlueGreenStatusProvider,
    blue_green_providers,
)
from aws_wrapper._compat import AIO, arun_blocking, asleep, aspawn
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper.aws.iam import TOKENS
from aws_wrapper.blue_green import Phase, Role, SideReport
from aws_wrapper.errors import (
    BlueGreenTimeoutError,
    GreenEndpointRejectedError,
    PropertyError,
)
from aws_wrapper.resolver import get_name_resolver
from aws_wrapper_devcluster import Cluster
from tests.helpers import live_workers, run_coroutine, run_in_child

from .cluster import instance_of

ONE_PER_ENGINE = pytest.mark.parametrize("driver", ["psycopg", "aiomysql"])
"""For the tests whose subject is not the driver (every driver connects through bg in
test_created_phase_seen_by_both_monitors_and_pass_through): one driver per engine, so the
deployments they create stay few."""

FAST = {
    "bg_interval_baseline_ms": 100,
    "bg_interval_increased_ms": 50,
    "bg_interval_high_ms": 20,
}


def new_bg_id() -> str:
    """A deployment id of its own per test: warnings are once per process and id."""
    return f"t{uuid.uuid4().hex[:10]}"


async def wait_for(what: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        await asleep(0.02)


def provider_of(bg_id: str) -> BlueGreenStatusProvider:
    found = [p for p in blue_green_providers() if p.bg_id == bg_id]
    assert len(found) == 1, found
    return found[0]


def names(side: dict[str, Any]) -> set[str]:
    return {side["cluster_host"], side["reader_host"], *(i["host"] for i in side["instances"])}


async def bg_connect(
    cluster: Cluster, driver: str, bg_id: str, host: str | None = None, **extra: Any
) -> AsyncAwsWrapperConnection:
    params: dict[str, Any] = {
        "plugins": "bg,failover_v2",
        "bg_id": bg_id,
        **FAST,
        **cluster.conn_params(),
        **extra,
    }
    if host is not None:
        params["host"] = host
    conn: AsyncAwsWrapperConnection = await aw.connect(driver=driver, **params)
    return conn


async def select_one(conn: AsyncAwsWrapperConnection) -> Any:
    cur = await conn.execute("SELECT 1")
    row = await cur.fetchone()
    await conn.rollback()
    return row[0] if row else None


async def created(cluster: Cluster, driver: str) -> tuple[dict[str, Any], str, Any]:
    """A deployment, a connection through bg, and the provider once both monitors saw
    CREATED and recorded their side."""
    status = cluster.bg_create()
    bg_id = new_bg_id()
    conn = await bg_connect(cluster, driver, bg_id)
    provider = provider_of(bg_id)
    blue, green = provider.monitors[Role.BLUE], provider.monitors[Role.GREEN]
    await wait_for(
        lambda: (
            provider.routing.phase is Phase.CREATED
            and blue.endpoints == names(status["blue"])
            and green.endpoints == names(status["green"])
            and blue._conn is not None
            and green._conn is not None
        )
    )
    return status, bg_id, conn


async def watching(cluster: Cluster, driver: str) -> tuple[str, Any]:
    """A connection through bg to the cluster without a deployment, once both monitors are
    connected and have read the (empty) status."""
    bg_id = new_bg_id()
    conn = await bg_connect(cluster, driver, bg_id)
    provider = provider_of(bg_id)
    await wait_for(
        lambda: all(m._conn is not None and m.polls >= 1 for m in provider.monitors.values())
    )
    assert provider.routing.phase is Phase.NOT_CREATED and provider.metadata_problem is None
    return bg_id, conn


# -- against a real deployment -----------------------------------------------------------------


async def test_created_phase_seen_by_both_monitors_and_pass_through(
    cluster: Cluster, driver: str
) -> None:
    status, bg_id, conn = await created(cluster, driver)
    provider = provider_of(bg_id)
    blue, green = provider.monitors[Role.BLUE], provider.monitors[Role.GREEN]
    resolve = get_name_resolver()
    assert resolve is not None
    # each side's endpoints with the addresses the cluster's hosts file gives them
    for monitor, side in ((blue, status["blue"]), (green, status["green"])):
        assert set(monitor.start_ips) == names(side)
        for host, ip in monitor.start_ips.items():
            if host == side["reader_host"]:  # it rotates among the side's readers
                assert ip in {resolve(i["host"]) for i in side["instances"]}
            else:
                assert ip == resolve(host)
    assert set(blue.start_ips.values()).isdisjoint(green.start_ips.values())
    # each monitor ended on its own side's cluster endpoint, its connection its own
    assert blue.host.host == status["blue"]["cluster_host"]
    assert green.host.host == status["green"]["cluster_host"]
    assert blue._conn is not None and green._conn is not None and green._conn is not blue._conn
    routing = provider.routing
    assert routing.roles[status["blue"]["cluster_host"]] is Role.BLUE
    assert routing.roles[status["green"]["instances"][0]["host"]] is Role.GREEN
    assert not provider.hold_calls and not routing.substitute and not routing.rejected
    # pass-through: calls on blue; a new connection by a green name reaches green
    try:
        assert await select_one(conn) == 1
        assert not (await instance_of(conn)).endswith(status["suffix"])
        green_conn = await bg_connect(cluster, driver, bg_id, host=status["green"]["cluster_host"])
        try:
            assert await select_one(green_conn) == 1
            assert (await instance_of(green_conn)).endswith(status["suffix"])
        finally:
            await green_conn.close()
    finally:
        await conn.close()
    assert len(blue_green_providers()) == 1


@ONE_PER_ENGINE
async def test_one_provider_per_deployment_not_per_connection(
    cluster: Cluster, driver: str
) -> None:
    bg_id, first = await watching(cluster, driver)
    other_id = new_bg_id()
    conns = [first]
    try:
        conns += [await bg_connect(cluster, driver, bg_id) for _ in range(3)]
        conns.append(await bg_connect(cluster, driver, other_id))
        ours = provider_of(bg_id)
        theirs = provider_of(other_id)
        assert ours is not theirs
        assert len(blue_green_providers()) == 2
        for conn in conns[:4]:
            (plugin,) = [p for p in conn._service.manager.plugins if isinstance(p, BlueGreenPlugin)]
            assert plugin.provider is ours
        await wait_for(lambda: all(m.polls >= 1 for m in theirs.monitors.values()))
        # two monitors per deployment, each with one connection so far
        workers = [w for w in live_workers("aws-wrapper-bg-") if bg_id in w]
        assert sorted(workers) == sorted(
            {f"aws-wrapper-bg-blue-{bg_id}", f"aws-wrapper-bg-green-{bg_id}"}
        )
        assert all(m.connections_opened <= 2 for m in ours.monitors.values())
    finally:
        for conn in conns:
            await conn.close()


@ONE_PER_ENGINE
async def test_monitor_connections_get_the_prefixed_properties(
    cluster: Cluster, driver: str
) -> None:
    """``blue-green-monitoring-password`` goes to the monitors' connections only: a wrong one
    keeps them from ever connecting while the application's connection works."""
    bg_id = new_bg_id()
    conn = await bg_connect(cluster, driver, bg_id, **{"blue-green-monitoring-password": "wrong"})
    try:
        provider = provider_of(bg_id)
        await wait_for(lambda: all(m.polls >= 3 for m in provider.monitors.values()))
        assert all(m.connections_opened == 0 for m in provider.monitors.values())
        assert provider.routing.phase is Phase.NOT_CREATED
        assert await select_one(conn) == 1
    finally:
        await conn.close()
    await aw.release_resources()
    # the same with the right password (given the prefixed way): the monitors connect
    bg_id = new_bg_id()
    password = cluster.conn_params()["password"]
    conn = await bg_connect(cluster, driver, bg_id, **{"blue-green-monitoring-password": password})
    try:
        provider = provider_of(bg_id)
        await wait_for(lambda: all(m.polls >= 1 for m in provider.monitors.values()))
        assert all(m.connections_opened >= 1 for m in provider.monitors.values())
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_a_forked_child_starts_its_own_provider(cluster: Cluster, driver: str) -> None:
    bg_id, conn = await watching(cluster, driver)
    try:
        parent = provider_of(bg_id)
        parent_conns = [m._conn for m in parent.monitors.values()]

        async def child() -> None:
            assert blue_green_providers() == []  # the parent's forgotten, not stopped
            mine = await bg_connect(cluster, driver, bg_id)
            try:
                provider = provider_of(bg_id)
                assert provider is not parent
                await wait_for(lambda: all(m.polls >= 1 for m in provider.monitors.values()))
                assert await select_one(mine) == 1
            finally:
                await mine.close()
            await aw.release_resources()

        code, report = await arun_blocking(run_in_child, child)
        assert code == 0, report
        # the parent's monitors go on, on their own connections
        assert provider_of(bg_id) is parent and all(m.running for m in parent.monitors.values())
        polls = parent.monitors[Role.BLUE].polls
        await wait_for(lambda: parent.monitors[Role.BLUE].polls > polls + 2)
        assert [m._conn for m in parent.monitors.values()] == parent_conns
        assert parent.metadata_problem is None
        assert await select_one(conn) == 1
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_one_provider_per_event_loop(cluster: Cluster, driver: str) -> None:
    """In async code a connection on another event loop (another thread) gets that loop's provider;
    blocking code: one per process, whatever the thread."""
    bg_id, conn = await watching(cluster, driver)
    ours = provider_of(bg_id)

    async def elsewhere() -> tuple[int, bool]:
        other = await bg_connect(cluster, driver, bg_id)
        try:
            found = [p for p in blue_green_providers() if p.bg_id == bg_id]
            return len(found), found[0] is ours
        finally:
            await other.close()
            if AIO:
                await aw.release_resources()

    def in_a_thread() -> tuple[int, bool]:
        if AIO:
            found: tuple[int, bool] = run_coroutine(elsewhere)
            return found
        return elsewhere()

    try:
        count, same = await arun_blocking(in_a_thread)
        assert count == 1
        if AIO:
            assert not same  # that loop's own
        else:
            assert same  # one per process, whatever the thread
        assert provider_of(bg_id) is ours
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_release_resources_stops_the_monitors(cluster: Cluster, driver: str) -> None:
    bg_id, conn = await watching(cluster, driver)
    provider = provider_of(bg_id)
    monitors = list(provider.monitors.values())
    await conn.close()
    assert all(m.running for m in monitors)  # shared: closing a connection keeps them
    await aw.release_resources()
    assert blue_green_providers() == []
    assert provider.released
    assert not any(m.running for m in monitors)
    assert all(m._conn is None for m in monitors)
    assert not [w for w in live_workers("aws-wrapper-bg-") if bg_id in w]


async def test_plain_server_one_warning_and_pass_through(
    driver: str, db_params: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aws_wrapper")
    bg_id = new_bg_id()
    conns = [
        await aw.connect(driver=driver, **{"plugins": "bg", "bg_id": bg_id, **FAST, **db_params})
        for _ in range(3)
    ]
    try:
        for conn in conns:
            assert await select_one(conn) == 1
        provider = provider_of(bg_id)
        assert provider.monitors == {}  # nothing to watch on such a server
        assert provider.routing.phase is Phase.NOT_CREATED
    finally:
        for conn in conns:
            await conn.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    mine = [w for w in warnings if bg_id in w]
    assert len(mine) == 1, warnings
    assert "publishes no blue/green status" in mine[0] and "passes connections through" in mine[0]


async def _admin_execute(cluster: Cluster, sql: str) -> None:
    params = cluster.conn_params(admin=True)
    engine = cluster.engine.value
    if engine == "postgresql":  # in the application's database (each has the functions)
        params["dbname"] = cluster.conn_params()["dbname"]
    conn = await aw.connect(
        driver="psycopg" if engine == "postgresql" else "aiomysql", plugins="", **params
    )
    try:
        await conn.execute(sql)
        await conn.commit()
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_no_permission_one_warning_and_pass_through(
    cluster: Cluster, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A real denial: the app user's access to the status function / table revoked on the
    writer (replicated to every instance)."""
    caplog.set_level(logging.WARNING, logger="aws_wrapper")
    pg = cluster.engine.value == "postgresql"
    user = cluster.conn_params()["user"]
    function = "pg_catalog.get_blue_green_fast_switchover_metadata(text)"
    if pg:
        revoke = f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC"
        grant = f"GRANT EXECUTE ON FUNCTION {function} TO PUBLIC"
    else:
        revoke = f"REVOKE SELECT ON mysql.rds_topology FROM '{user}'@'%'"
        grant = f"GRANT SELECT ON mysql.rds_topology TO '{user}'@'%'"
    await _admin_execute(cluster, revoke)
    try:
        bg_id = new_bg_id()
        conns = [await bg_connect(cluster, driver, bg_id) for _ in range(2)]
        try:
            provider = provider_of(bg_id)
            await wait_for(lambda: all(m.polls >= 3 for m in provider.monitors.values()))
            assert provider.metadata_problem == ("denied" if pg else "missing")
            assert provider.routing.phase is Phase.NOT_CREATED
            for conn in conns:
                assert await select_one(conn) == 1
        finally:
            for conn in conns:
                await conn.close()
    finally:
        await _admin_execute(cluster, grant)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    mine = [w for w in warnings if bg_id in w]
    assert len(mine) == 1, warnings
    assert "grant" in mine[0]
    assert ("EXECUTE ON FUNCTION" if pg else "SELECT ON mysql.rds_topology") in mine[0]


@ONE_PER_ENGINE
@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("bg_connect_timeout_ms", -1),
        ("bg_interval_baseline_ms", 0),
        ("bg_interval_increased_ms", "often"),
        ("bg_interval_high_ms", "nan"),
        ("bg_switchover_timeout_ms", 10**12),
        ("bg_suspend_new_blue_connections", "sometimes"),
        ("bg_id", "  "),
    ],
)
async def test_bad_property_values_name_the_property(
    driver: str, db_params: dict[str, Any], name: str, bad: object
) -> None:
    with pytest.raises(PropertyError) as info:
        await aw.connect(driver=driver, **{"plugins": "bg", name: bad, **db_params})
    assert info.value.prop == name and name in str(info.value)


# -- the routing of each phase, on real connections ---------------------------------------------


async def fed(cluster: Cluster, driver: str, **extra: Any) -> tuple[dict[str, Any], Any, Any]:
    """A deployment seen as CREATED, then the provider's monitors stopped: the test feeds it
    the statuses a switchover publishes."""
    status = cluster.bg_create()
    bg_id = new_bg_id()
    conn = await bg_connect(cluster, driver, bg_id, **extra)
    provider = provider_of(bg_id)
    await wait_for(
        lambda: (
            provider.routing.phase is Phase.CREATED
            and all(m.start_ips for m in provider.monitors.values())
        )
    )
    for monitor in provider.monitors.values():
        await monitor.release_resources()
    return status, conn, provider


def side_report(provider: Any, role: Role, phase: Phase, **current: str | None) -> SideReport:
    monitor = provider.monitors[role]
    now = dict(monitor.start_ips)
    now.update(current)
    return SideReport(role, phase, monitor.port, monitor.endpoints, dict(monitor.start_ips), now)


def feed(provider: Any, phase: Phase, blue_now: dict[str, Any] | None = None) -> None:
    provider.report(side_report(provider, Role.BLUE, phase, **(blue_now or {})))
    provider.report(side_report(provider, Role.GREEN, phase))


@ONE_PER_ENGINE
async def test_in_progress_holds_calls_and_connects_then_lets_them_go(
    cluster: Cluster, driver: str
) -> None:
    _, conn, provider = await fed(cluster, driver)
    (plugin,) = [p for p in conn._service.manager.plugins if isinstance(p, BlueGreenPlugin)]
    try:
        feed(provider, Phase.PREPARATION)
        feed(provider, Phase.IN_PROGRESS)
        assert provider.hold_calls

        async def post_later() -> None:
            await asleep(0.4)
            feed(provider, Phase.POST)

        worker = aspawn(post_later, name="post-later")
        started = time.monotonic()
        assert await select_one(conn) == 1  # held, then run
        held = time.monotonic() - started
        await worker.join(5)
        assert held >= 0.35 and plugin.last_hold_s >= 0.35
        assert held < 0.9  # and promptly let go once the phase has moved on
        assert provider.routing.phase is Phase.POST and not provider.hold_calls
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_suspended_blue_connect_is_held_then_lands_on_green(
    cluster: Cluster, driver: str
) -> None:
    """bg_suspend_new_blue_connections: a connect by the blue name during IN_PROGRESS waits,
    and once POST comes it is made to the green host taking the name."""
    status, conn, provider = await fed(cluster, driver, bg_suspend_new_blue_connections=True)
    blue_host = status["blue"]["cluster_host"]
    try:
        feed(provider, Phase.PREPARATION)
        feed(provider, Phase.IN_PROGRESS)

        async def post_later() -> None:
            await asleep(0.4)
            feed(provider, Phase.POST)

        worker = aspawn(post_later, name="post-later")
        started = time.monotonic()
        c = await bg_connect(cluster, driver, provider.bg_id, host=blue_host)
        held = time.monotonic() - started
        await worker.join(5)
        try:
            assert held >= 0.35
            assert (await instance_of(c)).endswith(status["suffix"])
        finally:
            await c.close()
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_blue_refusing_connects_in_progress_holds_them_until_post(
    cluster: Cluster, driver: str
) -> None:
    """Without bg_suspend_new_blue_connections a blue name goes to blue's recorded address in
    IN_PROGRESS; blue refuses connections then: the connect is held (not failed) until the
    phase moves on, and made where POST sends it (the green host taking the name)."""
    status, conn, provider = await fed(cluster, driver)
    blue_host = status["blue"]["cluster_host"]
    try:
        feed(provider, Phase.PREPARATION)
        feed(provider, Phase.IN_PROGRESS)
        await arun_blocking(cluster.reject, cluster.writer)  # blue takes no connections

        async def post_later() -> None:
            await asleep(0.5)
            feed(provider, Phase.POST)

        worker = aspawn(post_later, name="post-later")
        started = time.monotonic()
        c = await bg_connect(cluster, driver, provider.bg_id, host=blue_host)
        held = time.monotonic() - started
        await worker.join(5)
        try:
            assert 0.45 <= held < 1.5
            assert (await instance_of(c)).endswith(status["suffix"])
        finally:
            await c.close()
        # a login error is not held: it fails at once
        feed(provider, Phase.IN_PROGRESS)  # (a rollback to IN_PROGRESS: blue names to blue)
        await arun_blocking(cluster.heal)
        started = time.monotonic()
        with pytest.raises(aw.LoginError):
            await bg_connect(cluster, driver, provider.bg_id, host=blue_host, password="wrong")
        assert time.monotonic() - started < 0.5
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_in_progress_hold_times_out(cluster: Cluster, driver: str) -> None:
    status, conn, provider = await fed(cluster, driver, bg_connect_timeout_ms=300)
    try:
        feed(provider, Phase.IN_PROGRESS)
        started = time.monotonic()
        with pytest.raises(BlueGreenTimeoutError) as info:
            await select_one(conn)
        assert 0.25 <= time.monotonic() - started < 5
        assert "bg_connect_timeout_ms" in str(info.value)
        with pytest.raises(BlueGreenTimeoutError):
            await bg_connect(
                cluster,
                driver,
                provider.bg_id,
                host=status["green"]["cluster_host"],
                bg_connect_timeout_ms=300,
            )
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_blue_names_go_to_recorded_addresses_keeping_the_name(
    cluster: Cluster, driver: str
) -> None:
    """PREPARATION: a blue name connects to blue's recorded address even when DNS says
    otherwise; POST: to the green host taking the name, until DNS has caught up."""
    status, conn, provider = await fed(cluster, driver)
    blue_host = status["blue"]["cluster_host"]
    green_host = status["green"]["cluster_host"]
    suffix = status["suffix"]
    try:
        feed(provider, Phase.PREPARATION)
        assert (
            provider.routing.substitute[blue_host]
            == provider.monitors[Role.BLUE].start_ips[blue_host]
        )
        c = await bg_connect(cluster, driver, provider.bg_id, host=blue_host)
        try:
            assert not (await instance_of(c)).endswith(suffix)
        finally:
            await c.close()
        feed(provider, Phase.IN_PROGRESS)
        feed(provider, Phase.POST)
        green_ip = provider.monitors[Role.GREEN].start_ips[green_host]
        assert provider.routing.substitute[blue_host] == green_ip
        # the blue name reaches green's writer by its recorded address (DNS still says blue)
        c = await bg_connect(cluster, driver, provider.bg_id, host=blue_host)
        try:
            assert (await instance_of(c)).endswith(suffix)
            if driver == "psycopg":  # the name is kept (TLS, IAM), the address pinned
                raw = c._service.conn
                assert raw is not None
                assert raw.info.host == blue_host
                assert raw.info.hostaddr == green_ip
        finally:
            await c.close()
        # green names are refused from POST on
        with pytest.raises(GreenEndpointRejectedError) as info:
            await bg_connect(cluster, driver, provider.bg_id, host=green_host)
        assert info.value.host == green_host
        assert isinstance(info.value, aw.OperationalError)
        # DNS caught up (every blue name resolves elsewhere): no more substitution
        moved = {h: "127.9.9.9" for h in provider.monitors[Role.BLUE].endpoints}
        feed(provider, Phase.COMPLETED, blue_now=moved)
        assert blue_host not in provider.routing.substitute
        c = await bg_connect(cluster, driver, provider.bg_id, host=blue_host)
        try:
            assert not (await instance_of(c)).endswith(suffix)  # DNS (the hosts file) decides
        finally:
            await c.close()
        with pytest.raises(GreenEndpointRejectedError):
            await bg_connect(cluster, driver, provider.bg_id, host=green_host)
    finally:
        await conn.close()


@ONE_PER_ENGINE
async def test_rollback_goes_back_to_pass_through(cluster: Cluster, driver: str) -> None:
    status, conn, provider = await fed(cluster, driver)
    green_host = status["green"]["cluster_host"]
    try:
        feed(provider, Phase.PREPARATION)
        feed(provider, Phase.IN_PROGRESS)
        feed(provider, Phase.CREATED)  # statuses back to AVAILABLE
        assert provider.routing.phase is Phase.CREATED and not provider.hold_calls
        assert await select_one(conn) == 1
        c = await bg_connect(cluster, driver, provider.bg_id, host=green_host)
        await c.close()
        assert "(rolled back)" in provider.tracker.summaries[-1]
    finally:
        await conn.close()


@pytest.mark.parametrize("driver", ["psycopg"])
async def test_post_iam_token_for_the_blue_name_then_the_green_one(
    devcluster_pg: Cluster, driver: str, fake_aws_env: dict[str, str]
) -> None:
    """POST: a blue name connects to the green host's recorded address with an IAM token
    signed for the blue name (the name is kept); a green host that does not take it yet is
    tried once more with a token for its green name."""
    cluster = devcluster_pg
    cluster.create_iam_user("bg_iam")
    TOKENS.clear()
    status, conn, provider = await fed(cluster, driver)
    blue_host = status["blue"]["cluster_host"]
    try:
        feed(provider, Phase.PREPARATION)
        feed(provider, Phase.IN_PROGRESS)
        feed(provider, Phase.POST)
        start = len(cluster.iam_log())
        c = await bg_connect(
            cluster, driver, provider.bg_id, host=blue_host, user="bg_iam", plugins="bg,iam"
        )
        try:
            assert (await instance_of(c)).endswith(status["suffix"])
            cur = await c.execute("SELECT current_user")
            assert await cur.fetchone() == ("bg_iam",)
        finally:
            await c.close()
        lines = cluster.iam_log()[start:]
        assert lines and "accepted" in lines[-1] and "accepted" not in lines[0], lines
        assert blue_host in lines[0] and status["green"]["cluster_host"] in lines[-1], lines
    finally:
        await conn.close()
