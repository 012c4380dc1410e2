"""Host selectors: every strategy, weights, roles, availability, thread safety (pure logic)."""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from aws_wrapper import host_selectors as hs
from aws_wrapper.errors import PropertyError
from aws_wrapper.hostinfo import HostAvailability, HostInfo, HostRole
from aws_wrapper.properties import Properties, parse_properties, registry

W, R = HostRole.WRITER, HostRole.READER
DOWN = HostAvailability.UNAVAILABLE


def host(
    name: str,
    role: HostRole = R,
    *,
    up: bool = True,
    weight: int = 100,
    host_id: str | None = None,
) -> HostInfo:
    return HostInfo(
        f"{name}.cluster.example",
        5432,
        role,
        HostAvailability.AVAILABLE if up else DOWN,
        weight=weight,
        host_id=host_id or name,
    )


def props(**wrapper: Any) -> Properties:
    return Properties(dict(wrapper), {})


def names(picks: Sequence[HostInfo]) -> list[str]:
    return [h.host_id or h.host for h in picks]


def pick(
    selector: hs.BaseHostSelector,
    hosts: Sequence[HostInfo],
    n: int,
    p: Properties | None = None,
    role: HostRole = R,
) -> list[str]:
    p = p if p is not None else props()
    return names([selector.select(hosts, role, p) for _ in range(n)])


WRITER = host("instance-0", W)
R1, R2, R3, R4 = (host(f"instance-{i}") for i in range(1, 5))
CLUSTER = [WRITER, R3, R1, R2]  # out of order on purpose

SELECTORS = [
    lambda: hs.RandomHostSelector(random.Random(1)),
    lambda: hs.RoundRobinHostSelector(),
    lambda: hs.LeastConnectionsHostSelector(),
    lambda: hs.WeightedRandomHostSelector(random.Random(1)),
    lambda: hs.HighestWeightHostSelector(),
    lambda: hs.FastestResponseHostSelector(rng=random.Random(1)),
]


@pytest.fixture(autouse=True)
def _reset_shared() -> Iterator[None]:
    yield
    hs.set_connection_counter(None)
    hs.set_response_time_source(None)
    rr = hs.selector_for("round_robin")
    assert isinstance(rr, hs.RoundRobinHostSelector)
    rr.clear_cache()


# -- registry ----------------------------------------------------------------------------------


def test_strategies_and_shared_instances() -> None:
    assert hs.strategies() == [
        "fastest_response",
        "highest_weight",
        "least_connections",
        "random",
        "round_robin",
        "weighted_random",
    ]
    for name in hs.strategies():
        selector = hs.selector_for(name)
        assert selector is hs.selector_for(name)
        assert selector.strategy == name
    assert isinstance(hs.selector_for("round_robin"), hs.RoundRobinHostSelector)


def test_unknown_strategy_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="roundrobin") as info:
        hs.selector_for("roundrobin")
    for name in hs.strategies():
        assert name in str(info.value)


def test_properties_are_declared() -> None:
    reg = registry()
    assert reg["round_robin_host_weight_pairs"].default == ""
    assert reg["round_robin_default_weight"].default == 1
    assert reg["weighted_random_host_weight_pairs"].default == ""
    parsed = parse_properties(
        {"round_robin_default_weight": "3", "round_robin_host_weight_pairs": "a:1"}, None, "x"
    )
    assert parsed.get(hs.ROUND_ROBIN_DEFAULT_WEIGHT) == 3
    with pytest.raises(PropertyError) as info:
        parse_properties({"round_robin_default_weight": "0"}, None, "x")
    assert info.value.prop == "round_robin_default_weight"


# -- common behaviour --------------------------------------------------------------------------


@pytest.mark.parametrize("make", SELECTORS, ids=lambda f: "")
def test_no_available_host_of_the_role_names_the_role(make: Any) -> None:
    selector: hs.BaseHostSelector = make()
    with pytest.raises(ValueError, match="reader"):
        selector.select([WRITER, host("instance-1", up=False)], R, props())
    with pytest.raises(ValueError, match="writer"):
        selector.select([R1, R2, host("instance-0", W, up=False)], W, props())
    with pytest.raises(ValueError, match="reader"):
        selector.select([], R, props())


@pytest.mark.parametrize("make", SELECTORS, ids=lambda f: "")
def test_only_available_hosts_of_the_role(make: Any) -> None:
    selector: hs.BaseHostSelector = make()
    hosts = [WRITER, R1, host("instance-2", up=False), R3, host("instance-5", W)]
    for _ in range(200):
        assert selector.select(hosts, R, props()) in (R1, R3)
    for _ in range(50):
        assert selector.select(hosts, W, props()) in (WRITER, hosts[-1])


@pytest.mark.parametrize("name", ["random", "round_robin", "weighted_random", "highest_weight"])
def test_returns_the_given_object(name: str) -> None:
    hosts = list(CLUSTER)
    chosen = hs.selector_for(name).select(hosts, R, props())
    hosts.remove(chosen)  # what failover does
    assert chosen not in hosts


# -- random ------------------------------------------------------------------------------------


def test_random_is_uniform() -> None:
    selector = hs.RandomHostSelector(random.Random(42))
    n = 30_000
    counts = Counter(pick(selector, CLUSTER, n))
    assert set(counts) == {"instance-1", "instance-2", "instance-3"}
    for c in counts.values():  # expected 10000, sd ~ 82
        assert abs(c - n / 3) < 500


def test_random_is_reproducible_with_a_seed() -> None:
    a = pick(hs.RandomHostSelector(random.Random(7)), CLUSTER, 50)
    b = pick(hs.RandomHostSelector(random.Random(7)), CLUSTER, 50)
    assert a == b


# -- round robin -------------------------------------------------------------------------------


def test_round_robin_in_host_name_order() -> None:
    selector = hs.RoundRobinHostSelector()
    assert pick(selector, CLUSTER, 7) == [
        "instance-1",
        "instance-2",
        "instance-3",
        "instance-1",
        "instance-2",
        "instance-3",
        "instance-1",
    ]


def test_round_robin_weights_by_instance_id_or_host_name() -> None:
    selector = hs.RoundRobinHostSelector()
    p = props(
        round_robin_host_weight_pairs="instance-0:1,instance-1:3,instance-2.cluster.example:2"
    )
    assert pick(selector, CLUSTER, 7, p) == [
        "instance-1",
        "instance-1",
        "instance-1",
        "instance-2",
        "instance-2",
        "instance-3",
        "instance-1",
    ]


def test_round_robin_weights_exact_over_cycles() -> None:
    selector = hs.RoundRobinHostSelector()
    hosts = [WRITER, R1, R2, R3, R4]
    p = props(
        round_robin_host_weight_pairs=" instance-1 : 5 , instance-3:2,",
        round_robin_default_weight=3,
    )
    cycle = 5 + 3 + 2 + 3
    picks = pick(selector, hosts, cycle * 4, p)
    for k in range(4):  # every cycle is the same, in order
        assert picks[k * cycle : (k + 1) * cycle] == picks[:cycle]
    assert Counter(picks[:cycle]) == {
        "instance-1": 5,
        "instance-2": 3,
        "instance-3": 2,
        "instance-4": 3,
    }
    # runs: each host w times in a row
    assert (
        picks[:cycle]
        == ["instance-1"] * 5 + ["instance-2"] * 3 + ["instance-3"] * 2 + ["instance-4"] * 3
    )


def test_round_robin_host_id_weight_wins_over_host_name() -> None:
    selector = hs.RoundRobinHostSelector()
    p = props(round_robin_host_weight_pairs="instance-1:2,instance-1.cluster.example:4")
    assert Counter(pick(selector, [R1, R2], 6, p)) == {"instance-1": 4, "instance-2": 2}


def test_round_robin_host_removed_continues_after_it() -> None:
    selector = hs.RoundRobinHostSelector()
    assert pick(selector, [WRITER, R1, R2, R3], 2) == ["instance-1", "instance-2"]
    # instance-2 is gone: the rotation goes on with the host after it, not from the start
    assert pick(selector, [WRITER, R1, R3], 3) == ["instance-3", "instance-1", "instance-3"]


def test_round_robin_host_scale_down_and_up() -> None:
    selector = hs.RoundRobinHostSelector()
    assert pick(selector, [WRITER, R1, R2, R3], 1) == ["instance-1"]
    assert pick(selector, [WRITER, R1, R3], 2) == ["instance-3", "instance-1"]
    assert pick(selector, [WRITER, R1, R2, R3, R4], 4) == [
        "instance-2",
        "instance-3",
        "instance-4",
        "instance-1",
    ]


def test_round_robin_unavailable_host_skipped_then_back() -> None:
    selector = hs.RoundRobinHostSelector()
    r2_down = host("instance-2", up=False)
    assert pick(selector, [R1, r2_down, R3], 3) == ["instance-1", "instance-3", "instance-1"]
    assert pick(selector, [R1, R2, R3], 3) == ["instance-2", "instance-3", "instance-1"]


def test_round_robin_last_host_of_a_run_disappears() -> None:
    selector = hs.RoundRobinHostSelector()
    p = props(round_robin_host_weight_pairs="instance-1:3")
    assert pick(selector, [R1, R2, R3], 1, p) == ["instance-1"]
    # instance-1 is dropped mid-run (failover removes a host that failed): next host
    assert pick(selector, [R2, R3], 1, p) == ["instance-2"]


def test_round_robin_state_per_cluster() -> None:
    selector = hs.RoundRobinHostSelector()
    a = [host("a-1"), host("a-2"), host("a-3")]
    b = [host("b-1"), host("b-2")]
    assert pick(selector, a, 2) == ["a-1", "a-2"]
    assert pick(selector, b, 1) == ["b-1"]
    assert pick(selector, a, 1) == ["a-3"]
    assert pick(selector, b, 2) == ["b-2", "b-1"]


def test_round_robin_state_per_role() -> None:
    selector = hs.RoundRobinHostSelector()
    w2 = host("instance-5", W)
    hosts = [WRITER, w2, R1, R2, R3]
    reads, writes = [], []
    for _ in range(3):  # interleaved: neither rotation disturbs the other
        reads += pick(selector, hosts, 1, role=R)
        writes += pick(selector, hosts, 1, role=W)
    assert reads == ["instance-1", "instance-2", "instance-3"]
    assert writes == ["instance-0", "instance-5", "instance-0"]


def test_round_robin_lowered_weight_shortens_the_run() -> None:
    selector = hs.RoundRobinHostSelector()
    heavy = props(round_robin_host_weight_pairs="instance-1:5")
    light = props(round_robin_host_weight_pairs="instance-1:2")
    assert pick(selector, [R1, R2], 1, heavy) == ["instance-1"]
    assert pick(selector, [R1, R2], 3, light) == ["instance-1", "instance-2", "instance-1"]


def test_round_robin_forgets_unused_clusters() -> None:
    now = [0.0]
    selector = hs.RoundRobinHostSelector(cache_ttl=10.0, clock=lambda: now[0])
    assert pick(selector, [R1, R2, R3], 2) == ["instance-1", "instance-2"]
    now[0] = 5.0
    assert pick(selector, [R1, R2, R3], 1) == ["instance-3"]
    now[0] = 100.0
    assert pick(selector, [R1, R2, R3], 1) == ["instance-1"]  # expired: starts afresh
    selector.clear_cache()
    assert pick(selector, [R1, R2, R3], 1) == ["instance-1"]


def test_round_robin_threads_exact_totals() -> None:
    selector = hs.RoundRobinHostSelector()
    hosts = [WRITER, R1, R2, R3, R4]
    p = props(round_robin_host_weight_pairs="instance-1:4,instance-2:3,instance-3:2")
    cycle = 4 + 3 + 2 + 1
    threads_n, per_thread = 16, 250  # 4000 picks = 400 cycles
    results: list[list[str]] = [[] for _ in range(threads_n)]
    barrier = threading.Barrier(threads_n)

    def work(slot: list[str]) -> None:
        barrier.wait()
        for _ in range(per_thread):
            chosen = selector.select(hosts, R, p)
            slot.append(chosen.host_id or "")

    threads = [threading.Thread(target=work, args=(results[i],)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Counter(name for slot in results for name in slot)
    cycles = threads_n * per_thread // cycle
    assert threads_n * per_thread % cycle == 0
    assert total == {
        "instance-1": 4 * cycles,
        "instance-2": 3 * cycles,
        "instance-3": 2 * cycles,
        "instance-4": 1 * cycles,
    }
    # and the rotation carries on where the threads left it: at the start of a cycle
    assert pick(selector, hosts, cycle, p)[:4] == ["instance-1"] * 4


def test_round_robin_shared_selector_across_connections() -> None:
    a = hs.selector_for("round_robin")
    b = hs.selector_for("round_robin")
    assert [a.select(CLUSTER, R, props()), b.select(CLUSTER, R, props())] == [R1, R2]


# -- weight pairs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "instance-1:1,:3",
        "instance-1:",
        "instance-1",
        "instance-1:1:3",
        "instance-1:1.5",
        "instance-1:0",
        "instance-1:-1",
        "instance-1:1a",
        "instance-1:²",
        "1",
        "instance-1:1,instance-1:2",
    ],
)
@pytest.mark.parametrize(
    ("strategy", "prop"),
    [
        ("round_robin", "round_robin_host_weight_pairs"),
        ("weighted_random", "weighted_random_host_weight_pairs"),
    ],
)
def test_malformed_weight_pairs_name_the_property(value: str, strategy: str, prop: str) -> None:
    with pytest.raises(PropertyError, match=prop) as info:
        hs.selector_for(strategy).select(CLUSTER, R, props(**{prop: value}))
    assert info.value.prop == prop


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_default_weight_names_the_property(bad: int) -> None:
    with pytest.raises(PropertyError, match="round_robin_default_weight") as info:
        hs.RoundRobinHostSelector().select(CLUSTER, R, props(round_robin_default_weight=bad))
    assert info.value.prop == "round_robin_default_weight"


def test_parse_host_weight_pairs() -> None:
    assert hs.parse_host_weight_pairs("", "p") == {}
    assert hs.parse_host_weight_pairs(" a:1 , b.example.com:20,", "p") == {
        "a": 1,
        "b.example.com": 20,
    }


# -- least connections -------------------------------------------------------------------------


def test_least_connections_without_counts_is_first_by_name() -> None:
    selector = hs.LeastConnectionsHostSelector()
    assert pick(selector, [R3, R2, WRITER, R1], 3) == ["instance-1"] * 3


def test_least_connections_picks_the_fewest() -> None:
    counts = {"instance-1": 5, "instance-2": 1, "instance-3": 1, "instance-0": 0}
    selector = hs.selector_for("least_connections")
    hs.set_connection_counter(lambda h: counts[h.host_id or ""])
    assert pick(selector, CLUSTER, 1) == ["instance-2"]  # tie 2/3 by name
    counts["instance-2"] = 7
    assert pick(selector, CLUSTER, 1) == ["instance-3"]
    assert pick(selector, CLUSTER, 1, role=W) == ["instance-0"]
    hs.set_connection_counter(None)
    assert pick(selector, CLUSTER, 1) == ["instance-1"]


def test_least_connections_follows_counts_as_they_change() -> None:
    open_conns: Counter[str] = Counter()
    selector = hs.LeastConnectionsHostSelector(lambda h: open_conns[h.host])
    order = []
    for _ in range(9):
        chosen = selector.select(CLUSTER, R, props())
        open_conns[chosen.host] += 1
        order.append(chosen.host_id)
    assert order == ["instance-1", "instance-2", "instance-3"] * 3


# -- weighted random ---------------------------------------------------------------------------


def test_weighted_random_proportional_to_weight() -> None:
    selector = hs.WeightedRandomHostSelector(random.Random(2024))
    p = props(weighted_random_host_weight_pairs="instance-1:6,instance-2:3")  # instance-3: 1
    n = 50_000
    counts = Counter(pick(selector, CLUSTER, n, p))
    for name, share in {"instance-1": 0.6, "instance-2": 0.3, "instance-3": 0.1}.items():
        sd = math.sqrt(n * share * (1 - share))
        assert abs(counts[name] - n * share) < 6 * sd, (name, counts)


def test_weighted_random_without_weights_is_uniform() -> None:
    selector = hs.WeightedRandomHostSelector(random.Random(3))
    counts = Counter(pick(selector, CLUSTER, 30_000))
    for c in counts.values():
        assert abs(c - 10_000) < 500


def test_weighted_random_skips_unavailable_heavy_host() -> None:
    selector = hs.WeightedRandomHostSelector(random.Random(4))
    p = props(weighted_random_host_weight_pairs="instance-1:1000")
    hosts = [host("instance-1", up=False), R2, R3]
    assert set(pick(selector, hosts, 500, p)) == {"instance-2", "instance-3"}


# -- highest weight ----------------------------------------------------------------------------


def test_highest_weight() -> None:
    selector = hs.HighestWeightHostSelector()
    hosts = [
        host("instance-0", W, weight=1000),
        host("instance-1", weight=10),
        host("instance-3", weight=50),
        host("instance-2", weight=50),
        host("instance-4", weight=90, up=False),
    ]
    assert pick(selector, hosts, 3) == ["instance-2"] * 3  # tie 2/3 by name
    assert pick(selector, hosts, 1, role=W) == ["instance-0"]


# -- fastest response --------------------------------------------------------------------------


def test_fastest_response() -> None:
    times: dict[str, float | None] = {"instance-1": 30.0, "instance-2": 12.5, "instance-3": None}
    selector = hs.selector_for("fastest_response")
    hs.set_response_time_source(lambda h: times.get(h.host_id or ""))
    assert pick(selector, CLUSTER, 3) == ["instance-2"] * 3
    times["instance-3"] = 1.0
    assert pick(selector, CLUSTER, 1) == ["instance-3"]
    times["instance-1"] = 1.0
    assert pick(selector, CLUSTER, 1) == ["instance-1"]  # tie by name
    times.update({"instance-1": math.nan, "instance-3": None})
    assert pick(selector, CLUSTER, 1) == ["instance-2"]


def test_fastest_response_skips_unavailable_fastest() -> None:
    selector = hs.FastestResponseHostSelector(lambda h: 0.1 if h.host_id == "instance-1" else 9)
    hosts = [host("instance-1", up=False), R2, R3]
    assert pick(selector, hosts, 1) == ["instance-2"]


@pytest.mark.parametrize("known", [False, True])
def test_fastest_response_random_when_nothing_known(known: bool) -> None:
    source = (lambda h: None) if known else None
    selector = hs.FastestResponseHostSelector(source, rng=random.Random(5))
    counts = Counter(pick(selector, CLUSTER, 30_000))
    assert set(counts) == {"instance-1", "instance-2", "instance-3"}
    for c in counts.values():
        assert abs(c - 10_000) < 500
