"""aws_wrapper._interned: one shared object per key, bounded."""

from __future__ import annotations

from aws_wrapper._interned import Interned


class Made:
    def __init__(self, key: object) -> None:
        self.key = key


def test_one_object_per_key() -> None:
    shared: Interned[str, Made] = Interned(8)
    a = shared.get("a", Made)
    assert shared.get("a", Made) is a
    b = shared.get("b", Made)
    assert b is not a and b.key == "b"
    assert len(shared) == 2


def test_made_once_per_key() -> None:
    calls: list[str] = []

    def make(key: str) -> Made:
        calls.append(key)
        return Made(key)

    shared: Interned[str, Made] = Interned(8)
    for _ in range(3):
        shared.get("x", make)
    assert calls == ["x"]


def test_full_lets_all_go_and_keeps_the_new_one() -> None:
    shared: Interned[int, Made] = Interned(3)
    first = shared.get(0, Made)
    for k in (1, 2):
        shared.get(k, Made)
    assert len(shared) == 3
    newest = shared.get(3, Made)  # full: all let go, the new one kept
    assert len(shared) == 1
    assert shared.get(3, Made) is newest
    assert shared.get(0, Made) is not first  # made anew


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


def test_an_unhashable_key_gets_a_new_object_each_time() -> None:
    shared: Interned[object, Made] = Interned(8)
    key = (Unhashable(),)
    one, two = shared.get(key, Made), shared.get(key, Made)
    assert one is not two and one.key is key
    assert len(shared) == 0
