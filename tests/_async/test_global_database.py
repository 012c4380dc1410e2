"""Aurora Global Database on the multi-region devcluster: the global topology and
``gdb_failover`` (every mode, home region active and inactive, after an in-region failover,
a global switchover and a global failover), both engines.

Written once as async code: tests/_sync/test_global_database.py is generated from
tests/_async/test_global_database.py.
"""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.topology_monitor import monitors
from aws_wrapper._compat import AIO, agather, arun_blocking, asleep
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import ENGINE_OF, instance_of

MODES = (
    "strict-writer",
    "strict-home-reader",
    "strict-out-of-home-reader",
    "strict-any-reader",
    "home-reader-or-writer",
    "out-of-home-reader-or-writer",
    "any-reader-or-writer",
)
OTHER = {
    # the mode set in the other slot (active / inactive): where it lands is disjoint from where
    # the mode under test lands, so a connection that took the wrong slot is caught
    "strict-writer": "strict-any-reader",
    "strict-home-reader": "strict-out-of-home-reader",
    "strict-out-of-home-reader": "strict-home-reader",
    "strict-any-reader": "strict-writer",
    "home-reader-or-writer": "strict-out-of-home-reader",
    "out-of-home-reader-or-writer": "strict-home-reader",
    "any-reader-or-writer": "strict-writer",  # lands anywhere: nothing is disjoint
}
FAST = {
    # a dead instance costs one connect timeout; an impossible mode fails within 6 s; the
    # application's connection to a blackholed writer is given up after ~0.6 s
    "connect_timeout": 1,
    "connection_retry_max_attempts": 1,
    "failover_timeout_sec": 6,
    "failure_detection_time_ms": 200,
    "failure_detection_interval_ms": 200,
    "failure_detection_count": 2,
}


@pytest.fixture
def gdb(request: pytest.FixtureRequest, driver: str) -> Cluster:
    """The global devcluster of ``driver``'s engine (us-east-1: writer + reader at first,
    us-west-2: two instances; the primary region is wherever the last test left it)."""
    name = "devcluster_pg_global" if ENGINE_OF[driver] == "pg" else "devcluster_mysql_global"
    c: Cluster = request.getfixturevalue(name)
    # the old primary region of a global failover rejoins in the background: wait for it, so
    # no instance restarts under this test
    c.wait_rejoins()
    return c


async def gconnect(
    cluster: Cluster, driver: str, endpoint: str = "global", **props: Any
) -> AsyncAwsWrapperConnection:
    props.setdefault("plugins", "gdb_failover,host_monitoring_v2")
    props.setdefault("global_cluster_instance_host_patterns", cluster.host_patterns)
    for key, value in FAST.items():
        props.setdefault(key, value)
    conn = await aw.connect(driver=driver, **cluster.conn_params(endpoint), **props)
    await conn.set_autocommit(True)
    return conn


def primary(cluster: Cluster) -> str:
    status = cluster.global_status()
    assert status is not None
    return str(status["primary_region"])


def other_region(cluster: Cluster, region: str) -> str:
    return next(r for r in cluster.regions if r != region)


# -- topology --------------------------------------------------------------------------------


async def test_global_topology_and_home_region(gdb: Cluster, driver: str) -> None:
    home = primary(gdb)
    away = other_region(gdb, home)
    conn = await gconnect(gdb, driver, failover_home_region=home)
    try:
        expected = "global-aurora-pg" if ENGINE_OF[driver] == "pg" else "global-aurora-mysql"
        assert conn.dialect_code == expected
        assert await instance_of(conn, rollback=False) == gdb.writer
        [monitor] = monitors()
        hosts = monitor.hosts
        if not hosts:
            hosts = await monitor.wait_for_topology(verify_writer=False, timeout=5)
        every = {i for r in gdb.regions for i in gdb.region_instance_ids(r)}
        assert {h.host_id for h in hosts} == every
        patterns = dict(p.split(":", 1) for p in gdb.host_patterns.split(","))
        for h in hosts:
            assert h.host_id is not None
            assert h.region == gdb.region_of(h.host_id)
            assert h.host == patterns[h.region].replace("?", h.host_id)
            assert h.is_writer == (h.host_id == gdb.writer)
        # a regional endpoint of the other region: its region is the home region, and the
        # connection shares the global database's monitor
        reader = await gconnect(gdb, driver, f"reader@{away}")
        async with reader:
            assert gdb.region_of(await instance_of(reader, rollback=False)) == away
            assert len(monitors()) == 1
    finally:
        await conn.close()


async def test_global_configuration_errors(gdb: Cluster, driver: str) -> None:
    # the global writer endpoint names no region: failover_home_region is required
    with pytest.raises(aw.PropertyError) as info:
        await gconnect(gdb, driver)
    assert info.value.prop == "failover_home_region"
    assert "global writer endpoint" in str(info.value)
    with pytest.raises(aw.PropertyError) as info:
        await gconnect(gdb, driver, failover_home_region="mars")
    assert info.value.prop == "failover_home_region"
    with pytest.raises(aw.PropertyError) as info:
        await gconnect(
            gdb, driver, failover_home_region="us-east-1", active_home_failover_mode="nearest"
        )
    assert info.value.prop == "active_home_failover_mode"
    assert "strict-home-reader" in str(info.value)
    bad = {
        "us-east-1?.x.us-east-1.rds.amazonaws.com": "not '<region>:<host template>",
        "us-east-1:x.us-east-1.rds.amazonaws.com": "has no '?'",
        "us-east-1:?.abc.us-west-2.rds.amazonaws.com": "is in us-west-2, not us-east-1",
        # a region of the global database has no pattern
        gdb.host_patterns.split(",")[0]: "has no pattern for region",
    }
    for patterns, message in bad.items():
        with pytest.raises(aw.PropertyError) as info:
            await gconnect(
                gdb,
                driver,
                failover_home_region="us-east-1",
                global_cluster_instance_host_patterns=patterns,
            )
        assert info.value.prop == "global_cluster_instance_host_patterns", patterns
        assert message in str(info.value), str(info.value)
    # "_" is taken for "-", as aws-advanced-python-wrapper does
    async with await gconnect(
        gdb, driver, failover_home_region="us-east-1", inactive_home_failover_mode="strict_writer"
    ):
        pass


# -- failover modes --------------------------------------------------------------------------


def landing(cluster: Cluster, mode: str, home: str, writer: str, down: str | None) -> set[str]:
    """Where ``mode`` may land (home region ``home``) once ``writer`` is the writer, the
    instances of region ``down`` unreachable. Empty: nowhere (FailoverFailedError)."""
    readers = {
        i
        for r in cluster.regions
        if r != down
        for i in cluster.region_instance_ids(r)
        if i != writer
    }
    home_readers = {i for i in readers if cluster.region_of(i) == home}
    away_readers = readers - home_readers
    return {
        "strict-writer": {writer} if cluster.region_of(writer) != down else set(),
        "strict-home-reader": home_readers,
        "strict-out-of-home-reader": away_readers,
        "strict-any-reader": readers,
        "home-reader-or-writer": home_readers | {writer},
        "out-of-home-reader-or-writer": away_readers | {writer},
        "any-reader-or-writer": readers | {writer},
    }[mode]


async def _outcome(conn: AsyncAwsWrapperConnection) -> str:
    """After the event: the instance the connection failed over to, or ``failed``."""
    try:
        await instance_of(conn, rollback=False)
    except aw.FailoverSuccessError:
        return await instance_of(conn, rollback=False)
    except aw.FailoverFailedError:
        return "failed"
    raise AssertionError("the connection was not failed over")


@pytest.mark.parametrize("event", ["failover", "switchover", "global_failover"])
@pytest.mark.parametrize("driver", ["psycopg", "aiomysql"])  # the mode logic is no driver's
async def test_every_mode_lands_where_it_says(gdb: Cluster, driver: str, event: str) -> None:
    """14 connections on the writer (7 modes x home region = the writer's region after the
    event, or not), one event, each lands where its mode says (or fails when the mode has
    nowhere to go)."""
    before = primary(gdb)
    after = before if event == "failover" else other_region(gdb, before)
    cases = [(mode, home) for mode in MODES for home in gdb.regions]
    # after an in-region failover the old writer is the home region's only reader once it
    # has rejoined (PostgreSQL: rewound, a few seconds): the home-reader modes wait for it;
    # after a global failover the impossible modes fail when the timeout ends
    timeout = 30 if event == "failover" else 6

    async def open_case(case: tuple[str, str]) -> AsyncAwsWrapperConnection:
        mode, home = case
        active, inactive = (mode, OTHER[mode]) if home == after else (OTHER[mode], mode)
        return await gconnect(
            gdb,
            driver,
            failover_home_region=home,
            active_home_failover_mode=active,
            inactive_home_failover_mode=inactive,
            failover_timeout_sec=timeout,
        )

    conns = await agather(*(partial(open_case, c) for c in cases))
    try:
        for conn in conns:
            assert await instance_of(conn, rollback=False) == gdb.writer
        started = time.monotonic()
        if event == "failover":
            result = await arun_blocking(partial(gdb.failover, crash=True))
            down = None
        elif event == "switchover":
            result = await arun_blocking(partial(gdb.global_switchover, after))
            down = None
        else:
            result = await arun_blocking(partial(gdb.global_failover, after))
            down = before
        writer = str(result["new_writer"])
        assert gdb.region_of(writer) == after
        outcomes = await agather(*(partial(_outcome, c) for c in conns))
        elapsed = time.monotonic() - started
        wrong = []
        for (mode, home), got in zip(cases, outcomes, strict=True):
            allowed = landing(gdb, mode, home, writer, down)
            where = "failed" if got == "failed" else f"{gdb.region_of(got)} {got}"
            print(f"[gdb] {event} home={'active' if home == after else 'inactive'} {mode}: {where}")
            if (got == "failed") != (not allowed) or (got != "failed" and got not in allowed):
                wrong.append(f"{mode} home={home}: {got} (allowed {sorted(allowed)})")
        assert not wrong, f"{event} -> writer {writer}:\n" + "\n".join(wrong)
        assert elapsed < 30, elapsed
    finally:
        await agather(*(c.close for c in conns))


async def test_global_endpoint_dns_lag_is_a_stale_writer_endpoint(
    gdb: Cluster, driver: str
) -> None:
    """Right after a global switchover the global writer endpoint still leads to the old
    writer (its DNS lags): ``stale_dns`` takes it as a writer endpoint and connects to the
    new writer, in the other region."""
    before = primary(gdb)
    after = other_region(gdb, before)
    result = await arun_blocking(partial(gdb.global_switchover, after, dns_lag=5.0))
    status = gdb.global_status()
    assert status is not None and status["global_dns"]["lagging"]
    async with await gconnect(gdb, driver, plugins="", failover_home_region=before) as plain:
        assert await instance_of(plain, rollback=False) == result["old_writer"]
    async with await gconnect(
        gdb, driver, plugins="stale_dns,gdb_failover", failover_home_region=before
    ) as conn:
        assert await instance_of(conn, rollback=False) == result["new_writer"]
        await conn.execute("SELECT 1")


# -- writes through a managed switchover -----------------------------------------------------

WORKERS = 20 if AIO else 8


async def test_writes_through_a_global_switchover_lose_nothing(gdb: Cluster, driver: str) -> None:
    """``WORKERS`` connections write through the global writer endpoint (strict-writer, the
    default there) while the writer moves to the other region: every acknowledged commit is
    on the new writer, and every worker writes there afterwards."""
    before = primary(gdb)
    after = other_region(gdb, before)
    table = f"gdb_{uuid.uuid4().hex[:8]}"
    async with await aw.connect(
        driver=driver, plugins="", **gdb.conn_params(f"cluster@{before}")
    ) as setup:
        await setup.set_autocommit(True)
        await setup.execute(
            f"CREATE TABLE {table} (worker INT, seq INT, PRIMARY KEY (worker, seq))"
        )
    acknowledged: list[tuple[int, int]] = []
    errors: list[str] = []
    switched = [False]

    async def open_one() -> AsyncAwsWrapperConnection:
        return await gconnect(gdb, driver, failover_home_region=before, failover_timeout_sec=30)

    # opened before the switchover (a connection opened during it meets the old writer
    # through the global endpoint's DNS lag: that is enable_connect_failover's case)
    conns = await agather(*([open_one] * WORKERS))

    async def worker(n: int) -> str:
        conn = conns[n]
        try:
            seq = 0
            after_switch = 0
            deadline = time.monotonic() + 40
            while after_switch < 5 and time.monotonic() < deadline:
                seq += 1
                done_before = switched[0]
                try:
                    await conn.execute(f"INSERT INTO {table} VALUES ({n}, {seq})")
                except (aw.FailoverSuccessError, aw.TransactionResolutionUnknownError) as e:
                    errors.append(type(e).__name__)
                    continue
                acknowledged.append((n, seq))
                if done_before:
                    after_switch += 1
                await asleep(0.02)
            return await instance_of(conn, rollback=False)
        finally:
            await conn.close()

    async def switch() -> str:
        await asleep(0.5)
        result = await arun_blocking(partial(gdb.global_switchover, after))
        switched[0] = True
        return str(result["new_writer"])

    results = await agather(switch, *(partial(worker, n) for n in range(WORKERS)))
    new_writer, landed = results[0], results[1:]
    assert gdb.region_of(new_writer) == after
    assert landed == [new_writer] * WORKERS
    assert len(errors) >= WORKERS  # every worker's connection was moved once at least
    async with await aw.connect(driver=driver, plugins="", **gdb.conn_params(new_writer)) as check:
        cur = await check.execute(f"SELECT worker, seq FROM {table}")
        rows = {(int(r[0]), int(r[1])) for r in await cur.fetchall()}
    lost = set(acknowledged) - rows
    assert not lost, f"{len(lost)} acknowledged commits lost: {sorted(lost)[:10]}"
    assert len(acknowledged) >= WORKERS * 6


# -- gdb_rw ----------------------------------------------------------------------------------


async def rw_connect(cluster: Cluster, driver: str, home: str, **props: Any) -> Any:
    props.setdefault("plugins", "gdb_rw")
    return await gconnect(cluster, driver, gdb_rw_home_region=home, **props)


async def region_now(cluster: Cluster, conn: AsyncAwsWrapperConnection) -> tuple[str, str]:
    """The instance the connection is on and its region. A global switchover restarts the
    instances of the old primary region as they follow the new writer: a reader connection
    there is cut, and replaced by read/write splitting on the next call once a home reader
    answers again (until then the call fails: asked again for up to 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            instance = await instance_of(conn, rollback=False)
            return instance, cluster.region_of(instance)
        except aw.Error:
            if time.monotonic() > deadline:
                raise
            await asleep(0.2)


async def test_gdb_rw_keeps_reads_home_and_refuses_writes_elsewhere(
    gdb: Cluster, driver: str
) -> None:
    writer_region = primary(gdb)
    away = other_region(gdb, writer_region)
    for home in (writer_region, away):
        async with await rw_connect(gdb, driver, home) as conn:
            for _ in range(3):  # a reader of the home region every time
                await conn.set_read_only(True)
                instance, region = await region_now(gdb, conn)
                assert (region, instance != gdb.writer) == (home, True)
                if home == writer_region:
                    await conn.set_read_only(False)
                    assert await instance_of(conn, rollback=False) == gdb.writer
            if home == away:
                with pytest.raises(aw.ReadWriteSplittingError) as info:
                    await conn.set_read_only(False)
                assert "outside the home region" in str(info.value)
                assert "gdb_rw_restrict_writer_to_home_region" in str(info.value)
                assert (await region_now(gdb, conn))[1] == away  # still on the home reader
    # a writer elsewhere allowed: the connection follows it; write forwarding: stays home
    async with await rw_connect(
        gdb, driver, away, gdb_rw_restrict_writer_to_home_region=False
    ) as conn:
        await conn.set_read_only(True)
        assert (await region_now(gdb, conn))[1] == away
        await conn.set_read_only(False)
        assert await instance_of(conn, rollback=False) == gdb.writer
    async with await rw_connect(gdb, driver, away, gdb_enable_global_write_forwarding=True) as conn:
        await conn.set_read_only(True)
        reader = await instance_of(conn, rollback=False)
        await conn.set_read_only(False)  # no error: kept for write forwarding
        assert await instance_of(conn, rollback=False) == reader
    # readers of any region allowed: new connections, until both regions were picked
    seen = set()
    for _ in range(30):  # random picks among 3 readers: a region missed 30 times is 1 in 10^5
        async with await rw_connect(
            gdb, driver, away, gdb_rw_restrict_reader_to_home_region=False
        ) as conn:
            await conn.set_read_only(True)
            seen.add((await region_now(gdb, conn))[1])
        if seen == set(gdb.regions):
            break
    assert seen == set(gdb.regions)


async def test_gdb_rw_across_a_global_switchover(gdb: Cluster, driver: str) -> None:
    before = primary(gdb)
    after = other_region(gdb, before)
    strict = await rw_connect(gdb, driver, before)
    follows = await rw_connect(gdb, driver, before, gdb_rw_restrict_writer_to_home_region=False)
    try:
        for conn in (strict, follows):
            await conn.set_read_only(True)
            assert (await region_now(gdb, conn))[1] == before
        result = await arun_blocking(partial(gdb.global_switchover, after))
        writer = str(result["new_writer"])
        for conn in (strict, follows):
            assert (await region_now(gdb, conn))[1] == before  # reads stay home
        with pytest.raises(aw.ReadWriteSplittingError) as info:
            await strict.set_read_only(False)
        assert f"outside the home region {before}" in str(info.value)
        assert (await region_now(gdb, strict))[1] == before
        await follows.set_read_only(False)  # the writer moved: followed across regions
        assert await instance_of(follows, rollback=False) == writer
        await follows.execute("SELECT 1")
    finally:
        await strict.close()
        await follows.close()
