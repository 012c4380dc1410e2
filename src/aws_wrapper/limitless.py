"""Aurora PostgreSQL Limitless Database: the transaction routers a shard group reports and how
a connect picks one (pure logic, shared by both worlds; the plugin and its router monitor are
``aws_wrapper._async.plugins.limitless`` and its generated twin).

``aurora_limitless_router_endpoints()`` answers ``router_endpoint, load`` rows, ``load`` from
0.0 (idle) to 1.0 (saturated). A router's weight is ``10 - floor(10 * load)`` (1 to 10), as
aws-advanced-python-wrapper computes it; a load outside 0..1 (or not a number) gets weight 1.
A connect picks a router at random with probability proportional to its weight (lower load,
higher weight), and after a failed connect retries the others by highest weight first.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Router", "by_least_load", "parse_rows", "pick_weighted", "weight_of"]

MAX_WEIGHT = 10


def weight_of(load: float) -> int:
    """``10 - floor(10 * load)``, 1 for a load outside 0..1 (the saturated 1.0: 1 too)."""
    if not isinstance(load, float | int) or math.isnan(load):
        return 1
    weight = MAX_WEIGHT - math.floor(load * MAX_WEIGHT)
    return weight if 1 <= weight <= MAX_WEIGHT else 1


@dataclass(frozen=True, slots=True)
class Router:
    """A transaction router: its endpoint (host name), the port of the shard group, its load
    and the weight it gets."""

    host: str
    port: int
    load: float
    weight: int

    @property
    def url(self) -> str:
        return f"{self.host}:{self.port}"


def parse_rows(rows: Iterable[Sequence[Any]], port: int) -> tuple[Router, ...]:
    """Routers from ``router_endpoint, load`` rows (rows without an endpoint skipped)."""
    out: list[Router] = []
    seen: set[str] = set()
    for row in rows:
        if len(row) < 2 or not row[0]:
            continue
        host = str(row[0]).strip()
        if host.lower() in seen:
            continue
        seen.add(host.lower())
        try:
            load = float(row[1])
        except (TypeError, ValueError):
            load = math.nan
        out.append(Router(host, port, load, weight_of(load)))
    return tuple(out)


def pick_weighted(
    routers: Sequence[Router], avoid: Collection[str] = (), rng: random.Random | None = None
) -> Router | None:
    """A router at random, each with probability ``weight / total weight``; routers named in
    ``avoid`` (lower-case host names) are left out. None when none is left."""
    eligible = [r for r in routers if r.host.lower() not in avoid]
    if not eligible:
        return None
    draw = (rng or random).random() * sum(r.weight for r in eligible)
    for router in eligible:
        draw -= router.weight
        if draw < 0:
            return router
    return eligible[-1]


def by_least_load(routers: Iterable[Router], avoid: Collection[str] = ()) -> list[Router]:
    """The routers not in ``avoid``, highest weight (least loaded) first; ties by name."""
    return sorted(
        (r for r in routers if r.host.lower() not in avoid), key=lambda r: (-r.weight, r.host)
    )
