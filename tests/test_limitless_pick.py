"""The limitless plugin's pure logic (aws_wrapper.limitless): weights from load, the
weighted pick, the least-loaded order, the router rows."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from aws_wrapper.limitless import Router, by_least_load, parse_rows, pick_weighted, weight_of


@pytest.mark.parametrize(
    ("load", "weight"),
    [
        (0.0, 10),
        (0.05, 10),
        (0.1, 9),
        (0.5, 5),
        (0.75, 3),
        (0.99, 1),
        (1.0, 1),  # 10 - 10 = 0: out of range, 1
        (-0.2, 1),
        (1.7, 1),
        (math.nan, 1),
    ],
)
def test_weight_of_load(load: float, weight: int) -> None:
    assert weight_of(load) == weight


def test_parse_rows() -> None:
    rows = [("r1.x", 0.2), ("R1.x", 0.9), (None, 0.1), ("r2.x", "bad"), ("r3.x", None)]
    routers = parse_rows(rows, 5432)
    assert [(r.host, r.port, r.weight) for r in routers] == [
        ("r1.x", 5432, 8),
        ("r2.x", 5432, 1),
        ("r3.x", 5432, 1),
    ]


def test_pick_is_proportional_to_weight_and_avoids() -> None:
    routers = parse_rows([("a", 0.0), ("b", 0.5), ("c", 0.9)], 1)  # weights 10, 5, 1
    rng = random.Random()  # unseeded: the bound below holds at 1e-4 whatever the draws
    n = 16000
    counts = Counter(pick_weighted(routers, rng=rng).host for _ in range(n))  # type: ignore[union-attr]
    expected = {"a": n * 10 / 16, "b": n * 5 / 16, "c": n / 16}
    chi2 = sum((counts[h] - e) ** 2 / e for h, e in expected.items())
    assert chi2 < -2 * math.log(1e-4), (counts, chi2)  # 2 degrees of freedom
    assert {pick_weighted(routers, {"a", "b"}).host for _ in range(50)} == {"c"}  # type: ignore[union-attr]
    assert pick_weighted(routers, {"a", "b", "c"}) is None
    assert pick_weighted((), ()) is None


def test_least_loaded_first() -> None:
    routers = (
        Router("b", 1, 0.5, 5),
        Router("a", 1, 0.5, 5),
        Router("c", 1, 0.0, 10),
        Router("d", 1, 0.9, 1),
    )
    assert [r.host for r in by_least_load(routers)] == ["c", "a", "b", "d"]
    assert [r.host for r in by_least_load(routers, {"c"})] == ["a", "b", "d"]
