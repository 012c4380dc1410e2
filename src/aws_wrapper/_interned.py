"""One shared object per key, for what holds no state of any one connection (dialects, the
plain server's host list provider, an endpoint's starting ``HostInfo``): one object per
connection would be one more for the garbage collector to walk on every full collection
(1,000 async connections, issue 16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Interned(Generic[K, V]):
    """``get(key, make)``: the object made for ``key`` by ``make(key)`` the first time.
    At most ``limit`` are kept: when full, all are let go (an application making up keys
    anew, lambdas for connect functions or endpoints per call, hoards nothing). A key that
    cannot be hashed gets a new object each time."""

    __slots__ = ("_limit", "_made")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._made: dict[K, V] = {}

    def get(self, key: K, make: Callable[[K], V]) -> V:
        try:
            return self._made[key]
        except KeyError:
            pass
        except TypeError:  # unhashable (a connect function object defining __eq__ only)
            return make(key)
        value = make(key)
        if len(self._made) >= self._limit:
            self._made.clear()
        self._made[key] = value
        return value

    def __len__(self) -> int:
        return len(self._made)

    def clear(self) -> None:
        self._made.clear()
