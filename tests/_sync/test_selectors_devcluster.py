# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_selectors_devcluster.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Every host selector behind read_write_splitting on the devcluster: the reader a new
connection switches to (``set_read_only(True)``) obeys ``reader_host_selector_strategy``.
Both engines, both trees."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from aws_wrapper import host_selectors as hs
from aws_wrapper import sync as aw
from aws_wrapper._compat import sleep
from aws_wrapper._sync.plugins.fastest_response import response_time_monitors
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql"}

CHECKED = {
    "random",
    "round_robin",
    "least_connections",
    "weighted_random",
    "highest_weight",
    "fastest_response",
}


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Any:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    yield c
    c.reset()  # faults healed, topology edits cleared


@pytest.fixture(autouse=True)
def release_monitors() -> Any:
    yield
    aw.release_resources()


def readers_of(cluster: Cluster) -> list[str]:
    """The readers' instance ids, in the order of their host names (the selectors' order)."""
    readers = set(cluster.instance_ids) - {cluster.writer}
    return sorted(readers, key=cluster.instance_host)


def connect(cluster: Cluster, driver: str, strategy: str, **props: Any) -> Any:
    props.setdefault("plugins", "read_write_splitting")
    return aw.connect(
        driver=driver, **cluster.conn_params(), reader_host_selector_strategy=strategy, **props
    )


def picks(cluster: Cluster, driver: str, strategy: str, n: int, **props: Any) -> list[str]:
    """The readers ``n`` new connections switch to, one after the other."""
    found = []
    for _ in range(n):
        with connect(cluster, driver, strategy, **props) as conn:
            conn.set_read_only(True)
            found.append(instance_of(conn))
    return found


def test_every_strategy_is_checked() -> None:
    assert set(hs.strategies()) == CHECKED


def test_random(cluster: Cluster, driver: str) -> None:
    found = picks(cluster, driver, "random", 16)
    assert set(found) == set(readers_of(cluster))  # only readers, and both (p of not: 3e-5)


def test_round_robin(cluster: Cluster, driver: str) -> None:
    first, second = readers_of(cluster)
    selector = hs.selector_for("round_robin")
    assert isinstance(selector, hs.RoundRobinHostSelector)
    selector.clear_cache()  # the rotation is process-wide: start it afresh
    assert picks(cluster, driver, "round_robin", 4) == [first, second] * 2
    selector.clear_cache()
    weights = {"round_robin_host_weight_pairs": f"{second}:2"}
    found = picks(cluster, driver, "round_robin", 6, **weights)
    assert found == [first, second, second] * 2


def test_weighted_random(cluster: Cluster, driver: str) -> None:
    first, second = readers_of(cluster)
    for light, heavy in ((first, second), (second, first)):
        weights = {"weighted_random_host_weight_pairs": f"{light}:1,{heavy}:1000000"}
        assert picks(cluster, driver, "weighted_random", 6, **weights) == [heavy] * 6


def test_highest_weight(cluster: Cluster, driver: str) -> None:
    """Weights come from the topology (replica lag x 100 + CPU x 10): the reader the devcluster
    reports lagging is the heaviest."""
    for heavy in readers_of(cluster):
        cluster.edit_topology(clear=True)
        cluster.edit_topology(instance=heavy, lag_ms=50.0)
        aw.release_resources()  # a new topology monitor reads the edited topology
        assert picks(cluster, driver, "highest_weight", 3) == [heavy] * 3


def test_least_connections(cluster: Cluster, driver: str) -> None:
    first, second = readers_of(cluster)
    selector = hs.selector_for("least_connections")
    assert isinstance(selector, hs.LeastConnectionsHostSelector)
    installed: Callable[[HostInfo], int] | None = getattr(selector, "_counter", None)
    found = picks(cluster, driver, "least_connections", 2)
    if installed is None:
        # no counter (the internal pools install one): every count is 0, first by name wins
        assert found == [first, first]
    else:
        assert set(found) <= {first, second}
    # with a counter: the open connections of this test, by reader
    conns: list[AwsWrapperConnection] = []

    def counter(host: HostInfo) -> int:
        return sum(1 for c in conns if c.current_host and c.current_host.host_id == host.host_id)

    hs.set_connection_counter(counter)
    try:
        for _ in range(4):
            conn = connect(cluster, driver, "least_connections")
            conns.append(conn)
            conn.set_read_only(True)
        assert [instance_of(c) for c in conns] == [first, second, first, second]
    finally:
        hs.set_connection_counter(installed)
        for conn in conns:
            conn.close()


def test_fastest_response(cluster: Cluster, driver: str) -> None:
    """With the fastest_response_strategy plugin (see test_fastest_response.py)."""
    slow, fast = readers_of(cluster)
    cluster.latency(slow, 50)
    props = {"plugins": "fastest_response_strategy,read_write_splitting"}
    with connect(cluster, driver, "fastest_response", **props):
        deadline = time.monotonic() + 10
        while True:  # both readers measured (the first round runs at once)
            known = {m.host.host_id for m in response_time_monitors() if m.figure is not None}
            if {slow, fast} <= known:
                break
            assert time.monotonic() < deadline, "readers not measured"
            sleep(0.05)
        assert picks(cluster, driver, "fastest_response", 3, **props) == [fast] * 3
