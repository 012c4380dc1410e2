# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_fastest_response.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""fastest_response_strategy: the measuring logic (pure, and a monitor on a fake driver), then
the plugin on the devcluster with `latency` on one reader; both engines, both trees."""

from __future__ import annotations

import gc
import time
from typing import Any, cast

import pytest

from aws_wrapper import response_times as rt
from aws_wrapper import sync as aw
from aws_wrapper._compat import Event, sleep
from aws_wrapper._sync.plugins.fastest_response import (
    ResponseTimeMonitor,
    response_time_monitors,
)
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import Properties
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster
from tests.helpers import live_workers

from .cluster import instance_of

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql"}
FRS = {
    "plugins": "fastest_response_strategy,read_write_splitting",
    "reader_host_selector_strategy": "fastest_response",
}


@pytest.fixture(autouse=True)
def release_monitors() -> Any:
    yield
    aw.release_resources()


# -- pure logic --------------------------------------------------------------------------------


def test_a_round_is_the_median_of_its_samples() -> None:
    assert rt.round_figure([]) is None
    assert rt.round_figure([0.004]) == 0.004
    assert rt.round_figure([0.002, 0.001, 0.9, 0.003, 0.002]) == 0.002  # one spike: no effect
    assert rt.round_figure([0.002, 0.8, 0.9, 0.003, 0.002]) == 0.003  # two: still none
    assert rt.round_figure([0.1, 0.3]) == pytest.approx(0.2)


def test_current_figure_expires_and_grows_with_a_hanging_ping() -> None:
    until = rt.valid_until(100.0, interval_s=30.0)
    assert until == 100.0 + 60.0 + rt.GRACE_S
    assert rt.current_figure(None, until, None, 101.0) is None  # never measured
    assert rt.current_figure(0.01, until, None, 101.0) == 0.01
    assert rt.current_figure(0.01, until, None, until + 0.1) is None  # too old
    assert rt.current_figure(0.01, until, 101.0, 101.005) == 0.01  # a ping in flight, quick
    assert rt.current_figure(0.01, until, 101.0, 103.0) == pytest.approx(2.0)  # one hanging


class Figure:
    def __init__(self, value: float | None) -> None:
        self.value = value

    def response_time(self, now: float) -> float | None:
        return self.value


def test_the_source_takes_the_lowest_known_figure_and_forgets_dead_monitors() -> None:
    host = HostInfo("frt-unit.example", 5432, HostRole.READER)
    assert rt.response_time(host) is None
    slow, fast, unknown = Figure(0.3), Figure(0.1), Figure(None)
    for m in (slow, fast, unknown):
        rt.track(host.url, m)
    assert rt.response_time(host) == 0.1
    rt.untrack(host.url, fast)
    assert rt.response_time(host) == 0.3
    del slow
    gc.collect()  # a monitor gone without untracking (its event loop died) is forgotten
    assert rt.response_time(host) is None
    rt.untrack(host.url, unknown)
    assert rt.response_time(host) is None


# -- a monitor on a fake driver ----------------------------------------------------------------


class FakeDriver:
    code = "fake"
    connect_timeout_param = "connect_timeout"

    def __init__(self, delays: list[float]) -> None:
        self.delays = delays  # one per ping, the last one repeated; < 0: the ping fails
        self.pings = 0
        self.closed = 0
        self.aborted = Event()
        self.props: list[Properties] = []

    def connect(self, host: HostInfo, props: Properties) -> object:
        self.props.append(props)
        self.aborted = Event()  # a new connection: not aborted
        return object()

    def ping(self, conn: object) -> None:
        delay = self.delays[min(self.pings, len(self.delays) - 1)]
        self.pings += 1
        if delay < 0 or self.aborted.wait(delay):
            raise OSError("connection lost")

    def set_autocommit(self, conn: object, value: bool) -> None:
        return None

    def is_closed(self, conn: object) -> bool:
        return False

    def abort(self, conn: object) -> None:
        self.aborted.set()

    def close(self, conn: object) -> None:
        self.closed += 1


def fake_monitor(
    delays: list[float], interval_s: float = 30.0, disposal_s: float = 60.0
) -> tuple[ResponseTimeMonitor, FakeDriver]:
    driver = FakeDriver(delays)
    monitor = ResponseTimeMonitor(
        HostInfo("frt-fake.example", 5432, HostRole.READER),
        cast(Any, driver),
        Properties({}, {"user": "app"}),
        interval_s,
        disposal_s,
        samples=5,
    )
    return monitor, driver


def until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        sleep(0.01)


def test_the_first_round_is_measured_at_once_and_spikes_are_ignored() -> None:
    monitor, driver = fake_monitor([0.001, 0.001, 0.2, 0.001, 0.001])
    try:
        monitor.ensure_started()
        until(lambda: monitor.rounds == 1, timeout=2.0)  # the interval is 30 s
        assert driver.pings == 5 and monitor.connections_opened == 1
        assert monitor.figure is not None and monitor.figure < 0.05  # the 0.2 s spike: ignored
        assert rt.response_time(monitor.host) == monitor.figure
        assert driver.props[0].driver == {"user": "app", "connect_timeout": 10}
    finally:
        monitor.release_resources()
    assert not monitor.running and monitor.expired
    assert rt.response_time(monitor.host) is None
    assert driver.closed == 1 and live_workers() == []


def test_a_failed_round_makes_the_figure_unknown_then_it_reconnects() -> None:
    monitor, _ = fake_monitor([0.001] * 5 + [-1.0] + [0.001], interval_s=0.05)
    try:
        monitor.ensure_started()
        until(lambda: monitor.failures == 1)
        assert monitor.figure is None or monitor.rounds >= 2
        until(lambda: monitor.rounds >= 2)  # the next round reconnects
        assert monitor.figure is not None and monitor.connections_opened == 2
    finally:
        monitor.release_resources()


def test_a_hanging_ping_makes_the_host_slow_at_once() -> None:
    monitor, driver = fake_monitor([0.001] * 5 + [30.0], interval_s=0.05)
    try:
        monitor.ensure_started()
        until(lambda: monitor.rounds >= 1)
        sleep(0.3)  # the next round's first ping hangs
        figure = rt.response_time(monitor.host)
        assert figure is not None and figure >= 0.2
    finally:
        start = time.monotonic()
        monitor.release_resources()  # aborts the hanging ping
    assert time.monotonic() - start < 1.0 and driver.aborted.is_set()
    assert live_workers() == []


def test_an_unused_monitor_stops_after_the_disposal_time() -> None:
    monitor, _ = fake_monitor([0.001], interval_s=0.05, disposal_s=0.2)
    monitor.ensure_started()
    until(lambda: monitor.rounds >= 1)
    until(lambda: not monitor.running, timeout=3.0)
    assert monitor.expired and rt.response_time(monitor.host) is None
    assert live_workers() == []


# -- the plugin on the devcluster ----------------------------------------------------------------


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Any:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    yield c
    c.heal()


def connect(cluster: Cluster, driver: str, **props: Any) -> AwsWrapperConnection:
    return aw.connect(driver=driver, **cluster.conn_params(), **FRS, **props)


def pick(cluster: Cluster, driver: str, **props: Any) -> str:
    """The reader a new connection switches to with read_only=True."""
    with connect(cluster, driver, **props) as conn:
        conn.set_read_only(True)
        return instance_of(conn)


def figures() -> dict[str, float | None]:
    return {str(m.host.host_id): m.figure for m in response_time_monitors()}


def measured(hosts: list[str], timeout: float = 10.0) -> dict[str, float]:
    """Wait until every host of ``hosts`` has a figure; return them."""
    deadline = time.monotonic() + timeout
    while True:
        known = {h: f for h, f in figures().items() if f is not None}
        if all(h in known for h in hosts):
            return known
        assert time.monotonic() < deadline, f"not measured in {timeout} s: {figures()}"
        sleep(0.05)


def test_read_only_lands_on_the_fast_reader(cluster: Cluster, driver: str) -> None:
    """One reader 50 ms away: every switch goes to the other one. Monitors are shared (one per
    host), measure at once (the interval is the default 30 s) and stop with
    release_resources()."""
    writer = cluster.writer
    slow, fast = sorted(set(cluster.instance_ids) - {writer})
    cluster.latency(slow, 50)
    first = connect(cluster, driver)
    try:
        times = measured([slow, fast])  # long before the first interval ends
        assert times[fast] < times[slow] and times[slow] >= 0.09, times
        picks = [pick(cluster, driver) for _ in range(4)]
        first.set_read_only(True)
        picks.append(instance_of(first))
        assert picks == [fast] * 5
        monitors = response_time_monitors()
        assert sorted(str(m.host.host_id) for m in monitors) == sorted(cluster.instance_ids)
        assert all(m.connections_opened == 1 for m in monitors)  # shared by all connections
        assert len([w for w in live_workers() if "frt" in w]) == len(cluster.instance_ids)
    finally:
        first.close()
    aw.release_resources()
    assert response_time_monitors() == []
    assert [w for w in live_workers() if "frt" in w] == []
    assert all(rt.response_time(m.host) is None for m in monitors)


def test_picks_follow_the_measurements(cluster: Cluster, driver: str) -> None:
    """The latency moves to the other reader: within a few intervals the picks move too."""
    readers = sorted(set(cluster.instance_ids) - {cluster.writer})
    interval = {"response_measurement_interval_ms": 200}
    cluster.latency(readers[0], 50)
    with connect(cluster, driver, **interval):
        measured(readers)
        assert pick(cluster, driver, **interval) == readers[1]
        cluster.heal()
        cluster.latency(readers[1], 50)
        deadline = time.monotonic() + 5.0
        while True:
            times = figures()
            fast, slow = times[readers[0]], times[readers[1]]
            # the slow reader's figure shows its new latency (not an old figure of its own
            # a hair above the other's, which a round later may be below it)
            if fast is not None and slow is not None and slow - fast > 0.025:
                break
            assert time.monotonic() < deadline, times
            sleep(0.05)
        assert [pick(cluster, driver, **interval) for _ in range(3)] == [readers[0]] * 3


def test_without_the_plugin_nothing_is_measured(cluster: Cluster, driver: str) -> None:
    """read_write_splitting alone with fastest_response: no monitor, any reader."""
    readers = set(cluster.instance_ids) - {cluster.writer}
    with aw.connect(
        driver=driver,
        **cluster.conn_params(),
        plugins="read_write_splitting",
        reader_host_selector_strategy="fastest_response",
    ) as conn:
        conn.set_read_only(True)
        assert instance_of(conn) in readers
    assert response_time_monitors() == []
